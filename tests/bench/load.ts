import { readdirSync, readFileSync } from "node:fs";
import { execa } from "execa";

/** One load run: throughput, latency percentiles and what went wrong, as wrk reports them. */
export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx/3xx, plus connect/read/write/timeout errors. */
  errors: number;
  /**
   * CPU time the server (its process and every descendant: uvicorn's workers) spent per 1000
   * requests. On a machine shared with the load tool and other work it moves much less than req/s.
   */
  cpuMsPer1k: number;
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

/** User + system CPU ticks of `pid` and all its descendants, from /proc. */
function cpuTicks(pid: number): number {
  const stats = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      // comm (field 2) may hold spaces: the fields after it start at the last ")".
      const raw = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
      return [{ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
    } catch {
      return []; // exited meanwhile
    }
  });
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of stats) if (tree.has(s.ppid) && !tree.has(s.pid)) grew = Boolean(tree.add(s.pid));
  }
  return stats.filter((s) => tree.has(s.pid)).reduce((a, s) => a + s.ticks, 0);
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** Parses wrk's `--latency` report. */
export function parseWrk(out: string): Omit<LoadResult, "cpuMsPer1k"> & { requests: number } {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`unexpected wrk output:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { requests, rps: Number(rps[1]), p50Ms: ms(p50[1]!, p50[2]!), p99Ms: ms(p99[1]!, p99[2]!), errors: non2xx + socketErrors };
}

/**
 * Loads `url` (served by process `pid`) with the settings every target gets, after a short
 * warm-up (JIT, pools) that is not counted.
 */
export async function load(url: string, pid: number): Promise<LoadResult> {
  const args = (duration: string) => ["-t", String(LOAD.threads), "-c", String(LOAD.connections), "-d", duration, "--timeout", "5s", "--latency", url];
  await execa("wrk", args(LOAD.warmup));
  const before = cpuTicks(pid);
  const { requests, ...result } = parseWrk(String((await execa("wrk", args(LOAD.duration))).stdout));
  return { ...result, cpuMsPer1k: ((cpuTicks(pid) - before) * TICK_MS * 1000) / Math.max(requests, 1) };
}
