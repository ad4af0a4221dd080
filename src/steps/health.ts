export interface HealthResult {
  readonly ok: boolean;
  readonly elapsedMs: number;
  /** The last thing seen: "HTTP 503", "connection refused", ... */
  readonly last: string;
  readonly interrupted: boolean;
}

const REQUEST_TIMEOUT_MS = 5_000;
const NOTHING_YET = "no answer yet";

/**
 * Polls `url` until it answers 200, the timeout passes, or the signal aborts. Each request has
 * its own short timeout so a server that accepts and never answers cannot stall the wait.
 */
export async function waitForHealth(url: string, options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal }): Promise<HealthResult> {
  const started = Date.now();
  const interval = options.intervalMs ?? 1_000;
  let last = NOTHING_YET;
  while (!options.signal?.aborted) {
    const remaining = options.timeoutMs - (Date.now() - started);
    if (remaining <= 0) break;
    const budget = Math.min(REQUEST_TIMEOUT_MS, Math.max(remaining, 1));
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(budget) });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status === 200) return { ok: true, elapsedMs: Date.now() - started, last: "HTTP 200", interrupted: false };
      last = `HTTP ${response.status}`;
    } catch (error) {
      // A request cut short by the overall deadline says nothing new about the server: keep what
      // the previous one saw ("HTTP 503", "connection refused") unless there is nothing yet.
      const cutByDeadline = (error as Error).name === "TimeoutError" && budget < REQUEST_TIMEOUT_MS;
      if (!cutByDeadline || last === NOTHING_YET) last = describeFetchError(error);
    }
    await sleep(Math.min(interval, Math.max(0, options.timeoutMs - (Date.now() - started))), options.signal);
  }
  return { ok: false, elapsedMs: Date.now() - started, last, interrupted: Boolean(options.signal?.aborted) };
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ECONNRESET") return "connection reset";
  if ((error as Error).name === "TimeoutError") return "no answer in time";
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
