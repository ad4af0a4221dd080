import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { expect } from "vitest";
import { tailLines } from "../../src/steps/runner.js";
import { DbRelay } from "./abuse.js";
import { expectProblem, rawRequest, type ConformanceCase } from "./contract.js";

/**
 * The worker feature's HTTP contract (a job queue on Redis), the same for every stack that has
 * it: the two job routes as one table, then a job run to the end by the project's own worker,
 * a job that fails for good, and Redis going away. `{id}` is an item that exists, `{job}` a job
 * that exists.
 */

const MISSING = "987654321";
const json = (value: unknown) => JSON.stringify(value);

export const JOBS_CONFORMANCE: ConformanceCase[] = [
  // POST /items/{item_id}/jobs: the item's id rules, no body needed; a body is checked like any
  // other POST body and otherwise ignored.
  { name: "job for a missing item", method: "POST", path: `/items/${MISSING}/jobs`, status: 404 },
  ...["abc", "0", "-1", "1e3", "2147483648"].map(
    (id): ConformanceCase => ({ name: `job for item id ${id}`, method: "POST", path: `/items/${id}/jobs`, status: 422, fields: ["path.item_id"] }),
  ),
  { name: "job with a JSON body (ignored)", method: "POST", path: "/items/{id}/jobs", body: json({ ignored: true }), status: 202 },
  { name: "job with a text/plain body", method: "POST", path: "/items/{id}/jobs", body: "x", type: "text/plain", status: 415 },
  { name: "job with malformed JSON", method: "POST", path: "/items/{id}/jobs", body: "{x", status: 400 },
  { name: "job with a body over 1 MiB", method: "POST", path: "/items/{id}/jobs", body: json({ x: "x".repeat(1024 * 1024) }), status: 413 },
  { name: "GET /items/{id}/jobs", method: "GET", path: "/items/{id}/jobs", status: 405, allow: "POST" },
  { name: "HEAD /items/{id}/jobs", method: "HEAD", path: "/items/{id}/jobs", status: 405, allow: "POST" },
  { name: "DELETE /items/{id}/jobs", method: "DELETE", path: "/items/{id}/jobs", status: 405, allow: "POST" },
  // GET|HEAD /jobs/{job_id}: 1 to 64 characters of [A-Za-z0-9_-].
  { name: "read a job", method: "GET", path: "/jobs/{job}", status: 200 },
  { name: "HEAD a job", method: "HEAD", path: "/jobs/{job}", status: 200 },
  { name: "unknown job", method: "GET", path: "/jobs/no-such-job", status: 404 },
  { name: "HEAD of an unknown job", method: "HEAD", path: "/jobs/no-such-job", status: 404 },
  { name: "job id of 64 characters", method: "GET", path: `/jobs/${"a".repeat(64)}`, status: 404 },
  ...[["of 65 characters", "a".repeat(65)], ["with a dot", "a.b"], ["with a space", "a%20b"], ["with a non-ASCII letter", "%C3%A9"], ["with a NUL", "a%00"]].map(
    ([what, id]): ConformanceCase => ({ name: `job id ${what}`, method: "GET", path: `/jobs/${id}`, status: 422, fields: ["path.job_id"] }),
  ),
  { name: "job id with invalid percent-encoding", method: "GET", path: "/jobs/%FF", status: 400 },
  { name: "no job id", method: "GET", path: "/jobs/", status: 404 },
  { name: "the jobs collection is not served", method: "GET", path: "/jobs", status: 404 },
  { name: "PUT /jobs/{job}", method: "PUT", path: "/jobs/{job}", body: json({}), status: 405, allow: "GET, HEAD" },
  { name: "POST /jobs/{job}", method: "POST", path: "/jobs/{job}", status: 405, allow: "GET, HEAD" },
  { name: "DELETE /jobs/{job}", method: "DELETE", path: "/jobs/{job}", status: 405, allow: "GET, HEAD" },
];

export type JobStatus = "queued" | "running" | "retrying" | "succeeded" | "failed";
export interface Job {
  id: string;
  name: string;
  item_id: number;
  status: JobStatus;
  attempts: number;
  result: Record<string, unknown> | null;
  error: string | null;
}

/** The item a job summarises, and the summary every stack must compute for it. */
const ITEM = { name: "jobs \u2713 \u{1F600}", description: "three  words\there" };
const SUMMARY = { name_length: 8, description_words: 3 };

/** A `make worker` (or any command) running in the background; stopped with SIGTERM to its process group. */
export interface RunningWorker {
  outputTail(lines: number): string;
  stop(): Promise<void>;
}

export function startWorker(command: string[], options: { cwd: string; env: Record<string, string> }): RunningWorker {
  // detached: its own process group, so SIGTERM reaches make and the worker it runs alike.
  const child: ResultPromise = execa(command[0]!, command.slice(1), { ...options, detached: true, reject: false, all: true, stdin: "ignore" });
  let output = "";
  child.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    outputTail: (lines) => tailLines(output, lines),
    async stop() {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 15_000);
      await child;
      clearTimeout(timer);
    },
  };
}

/**
 * The job queue of one service under test: a queue name of its own on the machine's Redis
 * (127.0.0.1:6379, shared by every run), reached by the service through a relay the test can cut
 * and stall, and by the worker directly (so a Redis outage of the API leaves the worker alone).
 */
export class QueueUnderTest {
  readonly queue = `e2e-${randomBytes(4).toString("hex")}`;
  readonly relay = new DbRelay({ host: "127.0.0.1", port: 6379 });

  /** The service's settings: Redis through the relay, this queue. */
  async serviceEnv(): Promise<Record<string, string>> {
    const port = await this.relay.start();
    return { REDIS_URL: `redis://127.0.0.1:${port}/0`, WORKER_QUEUE: this.queue };
  }

  /** The worker's settings: Redis directly, the same queue. */
  workerEnv(): Record<string, string> {
    return { REDIS_URL: "redis://127.0.0.1:6379/0", WORKER_QUEUE: this.queue };
  }

  /** Removes every key the run left (stream, job records, heartbeats: all named after the queue). */
  async teardown(): Promise<void> {
    await this.relay.cut();
    const keys = (await redisCommand(["KEYS", `*${this.queue}*`])) as string[];
    if (keys.length > 0) await redisCommand(["DEL", ...keys]);
  }
}

/**
 * How long a request may take to answer 503 while Redis is unavailable: REDIS_TIMEOUT from the
 * project's .env twice (a connection, then a command), plus 1.5 s of slack for a loaded machine.
 */
export function queueOutageBoundMs(projectDir: string): number {
  const seconds = Number(/^REDIS_TIMEOUT=(.+)$/m.exec(readFileSync(path.join(projectDir, ".env"), "utf8"))?.[1]);
  if (!(seconds > 0)) throw new Error(`no REDIS_TIMEOUT in ${projectDir}/.env`);
  return seconds * 2_000 + 1_500;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The whole contract against a booted service whose worker is not running yet: the table, two
 * jobs queued before the worker starts (one whose item is deleted before it runs), the worker
 * started with `startWorker`, the first job succeeding with its summary, the second retried and
 * then failed after 3 attempts, and Redis refused and unresponsive (503, bounded by
 * REDIS_TIMEOUT; everything else keeps working; served again within a second once it is back).
 * Returns what it measured, for the report.
 */
export async function checkJobsContract(
  base: string,
  queue: QueueUnderTest,
  options: { boundMs: number; startWorker: () => Promise<RunningWorker> | RunningWorker },
): Promise<Record<string, unknown>> {
  let sent = 0;
  const send = (method: string, p: string, body?: string | Buffer, type?: string | null) => {
    sent++;
    return rawRequest(base, method, p, body, type);
  };
  const createItem = async (item: { name: string; description: string | null }) => {
    const made = await send("POST", "/items", json(item));
    expect(made.status, made.text).toBe(201);
    return (JSON.parse(made.text) as { id: number }).id;
  };
  const enqueue = async (itemId: number): Promise<Job> => {
    const answer = await send("POST", `/items/${itemId}/jobs`);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    const job = JSON.parse(answer.text) as Job;
    expect(job).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), name: "summarize_item", item_id: itemId, status: "queued", attempts: 0, result: null, error: null });
    expect(answer.headers.location).toBe(`/jobs/${job.id}`);
    return job;
  };
  const read = async (id: string): Promise<Job> => {
    const answer = await send("GET", `/jobs/${id}`);
    expect(answer.status, answer.text).toBe(200);
    return JSON.parse(answer.text) as Job;
  };

  // 1. Two jobs, queued while no worker runs.
  const itemId = await createItem(ITEM);
  const job = await enqueue(itemId);
  expect(await read(job.id)).toEqual(job);
  const doomedItem = await createItem({ name: "deleted before its job runs", description: null });
  const doomed = await enqueue(doomedItem);
  expect((await send("DELETE", `/items/${doomedItem}`)).status).toBe(204);

  // 2. The table.
  const failures: string[] = [];
  for (const c of JOBS_CONFORMANCE) {
    const p = c.path.replace("{id}", String(itemId)).replace("{job}", job.id);
    const label = `${c.name}: ${c.method} ${p}`;
    try {
      const answer = await send(c.method, p, c.body, c.type);
      if (c.status >= 400 && c.method !== "HEAD") expectProblem(answer, c.status, label, c.fields);
      else expect(answer.status, `${label}: ${answer.text.slice(0, 300)}`).toBe(c.status);
      if (c.method === "HEAD") expect(answer.text, label).toBe("");
      if (c.allow) expect(answer.headers.allow, label).toBe(c.allow);
      if (c.status === 202) expect(answer.headers.location, label).toMatch(/^\/jobs\/[A-Za-z0-9_-]{1,64}$/);
    } catch (error) {
      failures.push((error as Error).message.split("\n")[0]!);
    }
  }
  expect(failures, `jobs conformance failures:\n${failures.join("\n")}`).toEqual([]);

  // 3. The worker runs both: one succeeds, the other is retried with a backoff, then fails for good.
  const worker = await options.startWorker();
  const report: Record<string, unknown> = {};
  try {
    const started = performance.now();
    const seen = new Set<JobStatus>();
    let done: Job | undefined;
    let failed: Job | undefined;
    let firstRetry = 0;
    while ((!done || !failed) && performance.now() - started < 90_000) {
      const [a, b] = [await read(job.id), await read(doomed.id)];
      if (a.status === "succeeded" || a.status === "failed") done = a;
      seen.add(b.status);
      if (b.status === "retrying" && !firstRetry) firstRetry = performance.now();
      if (b.status === "failed") failed = b;
      if (!done || !failed) await sleep(100);
    }
    const where = `\n--- the worker's last output:\n${worker.outputTail(30)}`;
    expect(done, `the job did not finish within 90 s${where}`).toBeDefined();
    expect(done, where).toEqual({ ...job, status: "succeeded", attempts: 1, result: { item_id: itemId, ...SUMMARY }, error: null });
    expect(failed, `the job of a deleted item did not fail within 90 s (statuses seen: ${[...seen].join(", ")})${where}`).toBeDefined();
    expect(failed).toMatchObject({ id: doomed.id, name: "summarize_item", item_id: doomedItem, status: "failed", attempts: 3, result: null, error: expect.any(String) });
    expect(failed!.error!.length, "the error says what went wrong").toBeGreaterThan(0);
    expect(failed!.error, "the error is a message, not a stack trace").not.toMatch(/Traceback|\n\s+at /);
    expect(seen, "the failing job is seen retrying between its attempts").toContain("retrying");
    // About 1 s, then 2 s between the attempts: a lower bound only, which a slow machine keeps.
    const retryingMs = Math.round(performance.now() - firstRetry);
    expect(retryingMs, "time from the first failure to the last").toBeGreaterThanOrEqual(2_500);
    report.failedAfterMs = retryingMs;
    // Kept: the failed job and the result are still there.
    expect((await read(doomed.id)).status).toBe("failed");
    expect((await read(job.id)).status).toBe("succeeded");
  } finally {
    await worker.stop();
  }

  // 4. Redis refused, then unresponsive: the job routes and /health answer 503 in time; the rest works.
  const timed = async (method: string, p: string) => {
    const t0 = performance.now();
    const answer = await send(method, p);
    return { ...answer, ms: performance.now() - t0 };
  };
  const outages: string[] = [];
  for (const kind of ["refused", "unresponsive"] as const) {
    if (kind === "refused") await queue.relay.cut();
    else queue.relay.stall();
    try {
      const answers = [await timed("POST", `/items/${itemId}/jobs`), await timed("GET", `/jobs/${job.id}`), await timed("HEAD", `/jobs/${job.id}`),
        ...(await Promise.all(Array.from({ length: 20 }, () => timed("GET", `/jobs/${job.id}`))))];
      for (const [i, a] of answers.entries()) {
        const label = `Redis ${kind}, request ${i + 1}`;
        if (i === 2) expect(a.status, label).toBe(503);
        else expectProblem(a, 503, label);
        expect(a.headers["retry-after"], label).toMatch(/^\d+$/);
        expect(a.ms, `${label}: 503 after ${Math.round(a.ms)} ms, bound ${options.boundMs} ms`).toBeLessThanOrEqual(options.boundMs);
      }
      const health = await timed("GET", "/health");
      expect(health.status, health.text).toBe(503);
      expect(JSON.parse(health.text)).toEqual({ status: "error", database: "ok", queue: "unreachable" });
      expect(health.headers["retry-after"]).toMatch(/^\d+$/);
      expect(health.ms).toBeLessThanOrEqual(options.boundMs);
      // The database's routes do not need Redis.
      expect((await send("GET", `/items/${itemId}`)).status).toBe(200);
      outages.push(`${kind}: 503 in <= ${Math.round(Math.max(...answers.map((a) => a.ms), health.ms))} ms`);
    } finally {
      if (kind === "refused") await queue.relay.start();
      else queue.relay.resume();
    }
    const backAt = performance.now();
    let back = await send("GET", `/jobs/${job.id}`);
    while (back.status !== 200 && performance.now() - backAt < 5_000) {
      await sleep(20);
      back = await send("GET", `/jobs/${job.id}`);
    }
    const recoveryMs = performance.now() - backAt;
    expect(back.status, `Redis ${kind}: not serving jobs 5 s after Redis came back: ${back.text.slice(0, 300)}`).toBe(200);
    expect(recoveryMs, `Redis ${kind}: recovery took ${Math.round(recoveryMs)} ms`).toBeLessThanOrEqual(1_000);
    expect(JSON.parse((await send("GET", "/health")).text)).toEqual({ status: "ok", database: "ok", queue: "ok" });
    outages[outages.length - 1] += `, back in ${Math.round(recoveryMs)} ms`;
  }
  return { ...report, jobRequests: sent, queueOutages: outages };
}

/**
 * One Redis command on 127.0.0.1:6379 in RESP (this repository has no Redis client), for the
 * teardown: the reply as a string, an integer or an array of strings.
 */
export function redisCommand(args: string[], port = 6379): Promise<string | number | string[]> {
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`Redis on 127.0.0.1:${port} did not answer ${args[0]}`)));
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseReply(data, 0);
      if (!parsed) return;
      socket.end();
      if (parsed.value instanceof Error) reject(parsed.value);
      else resolve(parsed.value);
    });
    socket.write(request);
  });
}

type Reply = string | number | string[] | Error;

/** A whole reply from `at`, or undefined while more bytes are needed. */
function parseReply(data: Buffer, at: number): { value: Reply; end: number } | undefined {
  const eol = data.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const line = data.toString("utf8", at + 1, eol);
  switch (String.fromCharCode(data[at]!)) {
    case "+":
      return { value: line, end: eol + 2 };
    case "-":
      return { value: new Error(line), end: eol + 2 };
    case ":":
      return { value: Number(line), end: eol + 2 };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: "", end: eol + 2 };
      if (data.length < eol + 2 + length + 2) return undefined;
      return { value: data.toString("utf8", eol + 2, eol + 2 + length), end: eol + 2 + length + 2 };
    }
    case "*": {
      const items: string[] = [];
      let end = eol + 2;
      for (let i = 0; i < Number(line); i++) {
        const item = parseReply(data, end);
        if (!item) return undefined;
        items.push(String(item.value));
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      return { value: new Error(`unexpected Redis reply ${JSON.stringify(line)}`), end: eol + 2 };
  }
}
