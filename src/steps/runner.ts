
export interface CommandResult {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly ok: boolean;
  readonly durationMs: number;
  /** The last lines of stdout+stderr, for the failure report. */
  readonly tail: string;
  /** The program was not found on PATH. */
  readonly missing: boolean;
  readonly interrupted: boolean;
}

export interface RunOptions {
  readonly cwd: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** How long a stopped step's programs get to clean up before SIGKILL (as `docker stop` gives). */
const STOP_GRACE_MS = 10_000;

/**
 * The one way post steps run external programs: an argv array (never a shell string), output
 * captured (interleaved) for the failure report, the exit code always checked. The program runs
 * in its own process group, and on abort or timeout the whole group is terminated (SIGTERM, then
 * SIGKILL after STOP_GRACE_MS): `docker compose` hands builds to helpers (a Compose plugin, a
 * builder) that would otherwise go on building, holding our output pipe open, after their parent
 * is gone; and a builder killed at once leaves its running build step behind.
 */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  // Loaded on first use: it is the heaviest import, and runs without post steps never need it.
  const { execa } = await import("execa");
  const started = Date.now();
  const child = execa(file!, args, { cwd: options.cwd, reject: false, all: true, stdin: "ignore", detached: true });
  let interrupted = false;
  let timedOut = false;
  let force: NodeJS.Timeout | undefined;
  const stop = () => {
    signalGroup(child.pid, "SIGTERM");
    force = setTimeout(() => signalGroup(child.pid, "SIGKILL"), STOP_GRACE_MS);
  };
  const onAbort = () => {
    interrupted = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const result = await child;
  clearTimeout(timer);
  clearTimeout(force);
  options.signal?.removeEventListener("abort", onAbort);
  const code = (result as { code?: string }).code;
  return {
    command: argv.map(quote).join(" "),
    exitCode: result.exitCode,
    ok: result.exitCode === 0 && !result.failed && !interrupted && !timedOut,
    durationMs: Date.now() - started,
    tail: tailLines(String(result.all ?? ""), 20),
    missing: code === "ENOENT",
    interrupted,
  };
}

/** Signals every process in the group led by `pid` (the group may already be gone). */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

export function tailLines(text: string, count: number): string {
  return text.trimEnd().split(/\r?\n/).slice(-count).join("\n");
}

/** Quotes an argument for display, so the printed command can be pasted into a shell. */
export function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
