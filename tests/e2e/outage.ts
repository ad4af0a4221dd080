import { execa } from "execa";
import { expect } from "vitest";
import { PG, psql } from "./harness.js";
import type { DbRelay } from "./abuse.js";

/**
 * The five ways a service loses its database, each one begun and ended by the test on things it
 * owns alone: the relay in front of the service, and the service's own role and database (never
 * the shared server itself).
 */
export interface OutageKind {
  name: string;
  begin(): Promise<void>;
  end(): Promise<void>;
}

export interface OutageTarget {
  relay: DbRelay;
  dbName: string;
  dbUser: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const run = (sql: string) => psql(["-c", sql], "/");

/** Ends every session of the service's role, so the next request has to log in again. */
const dropSessions = (dbUser: string) => run(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${dbUser}'`);

/** A psql session that locks the items table until it is told to roll back. */
function holdLock(dbName: string) {
  const args = ["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-qAt", "-h", PG.host, "-p", PG.port, "-U", PG.user, "-d", dbName];
  const session = execa("psql", args, { stdin: "pipe", stdout: "pipe", reject: false });
  session.stdin.write("BEGIN;\nLOCK TABLE items IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n");
  return session;
}

export function outageKinds({ relay, dbName, dbUser }: OutageTarget): OutageKind[] {
  const gone = `${dbName}_gone`;
  let locker: ReturnType<typeof holdLock> | undefined;
  return [
    {
      name: "connection refused",
      begin: () => relay.cut(),
      end: async () => {
        await relay.start();
      },
    },
    {
      name: "login refused",
      begin: async () => {
        await run(`ALTER ROLE ${quote(dbUser)} NOLOGIN`);
        await dropSessions(dbUser);
      },
      end: async () => {
        await run(`ALTER ROLE ${quote(dbUser)} LOGIN`);
      },
    },
    {
      name: "database missing",
      begin: async () => {
        // A rename needs the database free: end its sessions, retry if one slips in between.
        for (let attempt = 1; ; attempt++) {
          await run(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${dbName}'`);
          try {
            await run(`ALTER DATABASE ${quote(dbName)} RENAME TO ${quote(gone)}`);
            return;
          } catch (error) {
            if (attempt >= 20) throw error;
            await sleep(100);
          }
        }
      },
      end: async () => {
        await run(`ALTER DATABASE ${quote(gone)} RENAME TO ${quote(dbName)}`);
      },
    },
    {
      name: "unresponsive server",
      begin: async () => relay.stall(),
      end: async () => relay.resume(),
    },
    {
      // Every pooled connection stuck behind a lock, the next requests waiting for one of them.
      name: "pool exhausted",
      begin: async () => {
        locker = holdLock(dbName);
        const stdout = locker.stdout;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("the lock was not taken within 10 s")), 10_000);
          stdout.on("data", (chunk: Buffer) => {
            if (chunk.toString().includes("locked")) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
      },
      end: async () => {
        locker?.stdin.end("ROLLBACK;\n");
        await locker;
        locker = undefined;
      },
    },
  ];
}

interface Timed { status: number; ms: number; type: string; retryAfter: string | null; text: string }

async function timedGet(url: string): Promise<Timed> {
  const started = performance.now();
  try {
    // Far past any bound: a request that hangs fails here instead of stalling the run.
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    return { status: response.status, ms: performance.now() - started, type: response.headers.get("content-type") ?? "", retryAfter: response.headers.get("retry-after"), text };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, type: "", retryAfter: null, text: String(error) };
  }
}

export interface OutageResult { kind: string; concurrency: number; worstMs: number; recoveryMs: number }

/**
 * For each outage kind: one request, then 50 at once, must each answer 503 problem+json with
 * Retry-After within `boundMs` (never a 500, never a hang); once the outage ends, GET /items must
 * answer 200 again within a second.
 */
export async function outages(base: string, target: OutageTarget, boundMs: number, alive: () => boolean): Promise<OutageResult[]> {
  const results: OutageResult[] = [];
  for (const kind of outageKinds(target)) {
    const ok = await timedGet(`${base}/items`);
    expect(ok.status, `${kind.name}: healthy before the outage: ${ok.text}`).toBe(200);
    await kind.begin();
    const answers: Timed[][] = [];
    try {
      answers.push([await timedGet(`${base}/items`)]);
      answers.push(await Promise.all(Array.from({ length: 50 }, () => timedGet(`${base}/items`))));
      if (kind.name === "connection refused") {
        const health = await timedGet(`${base}/health`);
        expect(health.status, health.text).toBe(503);
        // A service with a job queue (the worker feature) reports it too: Redis is up here.
        const { queue, ...reported } = JSON.parse(health.text) as Record<string, unknown>;
        expect(reported).toEqual({ status: "error", database: "unreachable" });
        if (queue !== undefined) expect(queue).toBe("ok");
        expect(health.retryAfter).toMatch(/^\d+$/);
      }
    } finally {
      await kind.end();
    }
    const backAt = performance.now();
    let back = await timedGet(`${base}/items`);
    while (back.status !== 200 && performance.now() - backAt < 5_000) {
      await sleep(20);
      back = await timedGet(`${base}/items`);
    }
    const recoveryMs = performance.now() - backAt;
    for (const batch of answers) {
      const label = `${kind.name}, ${batch.length} concurrent`;
      const statuses = batch.map((a) => a.status);
      expect(statuses, `${label}: ${batch.find((a) => a.status !== 503)?.text.slice(0, 300)}`).toEqual(batch.map(() => 503));
      for (const a of batch) {
        expect(a.type, label).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(a.text), label).toMatchObject({ status: 503, title: expect.any(String), detail: expect.any(String) });
        expect(a.retryAfter, label).toMatch(/^\d+$/);
      }
      const worstMs = Math.max(...batch.map((a) => a.ms));
      expect(worstMs, `${label}: slowest 503 after ${Math.round(worstMs)} ms, bound ${boundMs} ms`).toBeLessThanOrEqual(boundMs);
      results.push({ kind: kind.name, concurrency: batch.length, worstMs: Math.round(worstMs), recoveryMs: Math.round(recoveryMs) });
    }
    expect(back.status, `${kind.name}: not serving again 5 s after the database came back: ${back.text.slice(0, 300)}`).toBe(200);
    expect(recoveryMs, `${kind.name}: recovery took ${Math.round(recoveryMs)} ms`).toBeLessThanOrEqual(1_000);
    expect(alive(), `${kind.name}: the process died`).toBe(true);
  }
  return results;
}
