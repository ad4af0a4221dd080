/**
 * A quick read-only look at the machine (`docker info`): an argv
 * array, a short timeout, never throws. Uses child_process directly, because loading execa
 * would cost more than the probe itself on a run without post steps.
 */
export async function probe(argv: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<{ ok: boolean; stdout: string }> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: options.timeoutMs, env: options.env, signal: options.signal }, (error, stdout) => {
      resolve({ ok: !error, stdout: String(stdout) });
    });
  });
}
