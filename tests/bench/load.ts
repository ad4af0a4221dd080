import { execa } from "execa";

/** One load run: throughput, latency percentiles and what went wrong, as wrk reports them. */
export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx/3xx, plus connect/read/write/timeout errors. */
  errors: number;
}

export const LOAD = { connections: 50, threads: 2, duration: process.env.BENCH_SERVICE_DURATION ?? "10s", warmup: "2s" };

/** `wrk` from Debian's packages; installed with apt-get when missing and we may (root). */
export async function ensureWrk(): Promise<void> {
  if ((await execa("sh", ["-c", "command -v wrk"], { reject: false })).exitCode === 0) return;
  if (process.getuid?.() !== 0) throw new Error("wrk is missing: `apt-get install wrk`");
  await execa("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit", env: { DEBIAN_FRONTEND: "noninteractive" } }).catch(async () => {
    await execa("apt-get", ["update", "-qq"], { stdio: "inherit" });
    await execa("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit", env: { DEBIAN_FRONTEND: "noninteractive" } });
  });
}

function ms(value: string, unit: string): number {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;
}

/** Parses wrk's `--latency` report. */
export function parseWrk(out: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`unexpected wrk output:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  return { rps: Number(rps[1]), p50Ms: ms(p50[1]!, p50[2]!), p99Ms: ms(p99[1]!, p99[2]!), errors: non2xx + socketErrors };
}

/** Loads `url` with the settings every target gets, after a short warm-up (JIT, pools) that is not counted. */
export async function load(url: string): Promise<LoadResult> {
  const args = (duration: string) => ["-t", String(LOAD.threads), "-c", String(LOAD.connections), "-d", duration, "--timeout", "5s", "--latency", url];
  await execa("wrk", args(LOAD.warmup));
  return parseWrk(String((await execa("wrk", args(LOAD.duration))).stdout));
}
