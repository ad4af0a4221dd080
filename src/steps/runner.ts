
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

/**
 * The one way post steps run external programs: an argv array (never a shell string), output
 * captured (interleaved) for the failure report, the exit code always checked, the child
 * terminated on abort (SIGTERM, then SIGKILL after 3 s).
 */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  // Loaded on first use: it is the heaviest import, and runs without post steps never need it.
  const { execa } = await import("execa");
  const started = Date.now();
  const result = await execa(file!, args, {
    cwd: options.cwd,
    reject: false,
    all: true,
    stdin: "ignore",
    cancelSignal: options.signal,
    forceKillAfterDelay: 3_000,
    timeout: options.timeoutMs,
  });
  const code = (result as { code?: string }).code;
  return {
    command: argv.map(quote).join(" "),
    exitCode: result.exitCode,
    ok: result.exitCode === 0 && !result.failed,
    durationMs: Date.now() - started,
    tail: tailLines(String(result.all ?? ""), 20),
    missing: code === "ENOENT",
    interrupted: Boolean(result.isCanceled),
  };
}

export function tailLines(text: string, count: number): string {
  return text.trimEnd().split(/\r?\n/).slice(-count).join("\n");
}

/** Quotes an argument for display, so the printed command can be pasted into a shell. */
export function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
