import { execa } from "execa";
import { waitForHealth } from "../../src/steps/health.js";
import { tailLines } from "../../src/steps/runner.js";

export interface Walk {
  readonly base: string;
  /** Stops the shell and everything it started (its process group). */
  stop(): Promise<void>;
  /** Kills the shell's process group at once (SIGKILL), as a crash or a closed terminal would. */
  crash(): Promise<void>;
}

/**
 * Runs `commands` exactly as a user pastes them into a shell, one per line, stopping at the first
 * that fails (`set -e`): the last one is expected to serve (make dev). Resolves once
 * http://127.0.0.1:<port>/health answers 200; fails with the shell's output when a command fails
 * first or the wait runs out.
 */
export async function walkCommands(commands: readonly string[], options: { cwd: string; env: Record<string, string>; port: number; timeoutMs: number }): Promise<Walk> {
  const shell = execa("sh", ["-c", pasted(commands)], { cwd: options.cwd, env: options.env, extendEnv: false, detached: true, reject: false, all: true, stdin: "ignore" });
  let output = "";
  shell.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new AbortController();
  void shell.finally(() => exited.abort());
  const base = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    for (const [signal, waitMs] of [["SIGTERM", 10_000], ["SIGKILL", 5_000]] as const) {
      if (exited.signal.aborted) break;
      try {
        process.kill(-shell.pid!, signal);
      } catch {
        break; // the group is gone
      }
      await Promise.race([shell, new Promise((r) => setTimeout(r, waitMs))]);
    }
    // The shell dies at once on SIGTERM while what it started may still be shutting down (make dev
    // stopping its embedded server), as after a terminal's Ctrl-C: give the group time to finish,
    // then kill what is left (a reloader's worker that outlived the shell).
    for (let waited = 0; waited < 15_000 && groupAlive(shell.pid!); waited += 100) await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(-shell.pid!, "SIGKILL");
    } catch {
      // nothing left
    }
  };
  const health = await waitForHealth(`${base}/health`, { timeoutMs: options.timeoutMs, intervalMs: 250, signal: exited.signal });
  if (!health.ok) {
    await stop();
    const r = await shell;
    const why = health.interrupted ? `the shell exited with code ${r.exitCode} before /health answered` : `/health did not answer 200 in time (last: ${health.last})`;
    throw new Error(`${why}; the commands were:\n${commands.map((c) => `  ${c}`).join("\n")}\noutput:\n${tailLines(output, 50)}`);
  }
  const crash = async () => {
    try {
      process.kill(-shell.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    await shell;
  };
  return { base, stop, crash };
}

/**
 * Runs `commands` as a user pastes them into bash, one per line, stopping at the first that fails
 * (`set -e`), and waits for the shell to end: for paths whose last command returns once the
 * service runs (`make up`). Fails with the commands and the shell's output unless every one succeeded.
 */
export async function runCommands(commands: readonly string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<{ durationMs: number; output: string }> {
  const started = Date.now();
  const r = await execa("bash", ["-c", pasted(commands)], { cwd: options.cwd, env: options.env, extendEnv: false, reject: false, all: true, stdin: "ignore", timeout: options.timeoutMs });
  const output = String(r.all ?? "");
  if (r.exitCode !== 0 || r.failed) {
    const why = r.timedOut ? `did not finish within ${options.timeoutMs / 1000}s` : `exited with code ${r.exitCode}`;
    throw new Error(`the shell ${why}; the commands were:\n${commands.map((c) => `  ${c}`).join("\n")}\noutput:\n${tailLines(output, 50)}`);
  }
  return { durationMs: Date.now() - started, output };
}

/** Commands as one pasted script: a line each, stopping at the first that fails. */
const pasted = (commands: readonly string[]) => ["set -e", ...commands].join("\n");

/** The first ```sh block under `## <heading>` of a README, as its lines (comments stay: the shell skips them). */
export function readmeBlock(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`the README has no "## ${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start, end < 0 ? undefined : end));
  if (!block) throw new Error(`"## ${heading}" has no sh block`);
  return block[1]!.split("\n").filter((l) => l.trim() !== "");
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
