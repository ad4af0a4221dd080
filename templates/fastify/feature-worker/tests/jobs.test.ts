import { randomUUID } from "node:crypto";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildApp } from "../src/app.js";
import { createDatabase, type Database } from "../src/db/index.js";
import { type JobWorker, startJobWorker } from "../src/jobs/worker.js";
import type { JobOut } from "../src/schema/jobs.js";
import { createTestApp, createTestJobQueue, testDatabaseUrl, uniqueName } from "./helpers.js";

// The job queue for real: this run's queue on the Redis of REDIS_URL (see global-setup.ts), the
// worker in this process, the API through inject().

let app: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
});

afterAll(async () => {
  await app.close();
});

async function createItem(payload: { name: string; description?: string | null }) {
  const response = await app.inject({ method: "POST", url: "/items", payload });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: number };
}

async function enqueue(itemId: number): Promise<JobOut> {
  const response = await app.inject({ method: "POST", url: `/items/${itemId}/jobs` });
  expect(response.statusCode, response.body).toBe(202);
  const job = response.json() as JobOut;
  expect(response.headers.location).toBe(`/jobs/${job.id}`);
  return job;
}

async function readJob(id: string): Promise<JobOut> {
  const response = await app.inject({ url: `/jobs/${id}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as JobOut;
}

/** Polls the job until it has succeeded or failed; returns it and every status seen on the way. */
async function settle(id: string, withinMs = 12_000) {
  const seen = new Set<string>();
  const until = Date.now() + withinMs;
  for (;;) {
    const job = await readJob(id);
    seen.add(job.status);
    if (job.status === "succeeded" || job.status === "failed" || Date.now() > until) {
      return { job, seen };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("POST /items/:item_id/jobs", () => {
  it("queues summarize_item: 202, the job as queued, Location names it, GET reads it back", async () => {
    const item = await createItem({ name: uniqueName("queued") });
    const job = await enqueue(item.id);
    expect(job).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      name: "summarize_item",
      item_id: item.id,
      status: "queued",
      attempts: 0,
      result: null,
      error: null,
    });
    expect(await readJob(job.id)).toEqual(job);
  });

  it("answers 404 for an item that does not exist and 422 for an invalid id", async () => {
    const missing = await app.inject({ method: "POST", url: "/items/2147483647/jobs" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ status: 404, detail: "Item 2147483647 not found" });
    for (const id of ["abc", "0", "1e3"]) {
      const invalid = await app.inject({ method: "POST", url: `/items/${id}/jobs` });
      expect(invalid.statusCode, id).toBe(422);
      expect(invalid.json().errors[0].field).toBe("path.item_id");
    }
  });
});

describe("GET /jobs/:job_id", () => {
  it.each([randomUUID(), "no-such-job", "a".repeat(64)])(
    "answers 404 for the unknown job %s",
    async (id) => {
      const response = await app.inject({ url: `/jobs/${id}` });
      expect(response.statusCode).toBe(404);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    },
  );

  it.each(["a".repeat(65), "a.b", "a%20b", "%C3%A9"])("answers 422 for the id %s", async (id) => {
    const response = await app.inject({ url: `/jobs/${id}` });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors[0].field).toBe("path.job_id");
  });
});

describe("OpenAPI", () => {
  it("documents every status of the job routes, 503 with Retry-After", async () => {
    const { paths } = (await app.inject({ url: "/openapi.json" })).json();
    const post = paths["/items/{item_id}/jobs"].post.responses;
    expect(Object.keys(post).sort()).toEqual(["202", "400", "404", "422", "503"]);
    const read = paths["/jobs/{job_id}"].get.responses;
    expect(Object.keys(read).sort()).toEqual(["200", "400", "404", "422", "503"]);
    expect(read["503"].headers).toHaveProperty("Retry-After");
  });
});

describe("the worker", () => {
  let database: Database;
  let worker: JobWorker;
  let item: { id: number };
  let job: JobOut;
  let doomed: JobOut;

  // Both jobs are queued before the worker starts, and the second one's item is deleted first.
  beforeAll(async () => {
    item = await createItem({ name: "na\u00efve \u{1F600}", description: " two\twords " });
    job = await enqueue(item.id);
    const gone = await createItem({ name: uniqueName("deleted") });
    doomed = await enqueue(gone.id);
    expect((await app.inject({ method: "DELETE", url: `/items/${gone.id}` })).statusCode).toBe(204);

    database = createDatabase(testDatabaseUrl());
    worker = startJobWorker({
      url: inject("redisUrl"),
      name: inject("workerQueue"),
      timeoutMs: 3_000,
      database,
      log: pino({ level: "silent" }),
    });
  });

  afterAll(async () => {
    await worker?.close();
    await database?.close();
  });

  it("runs the job: succeeded, once, with the item's summary", async () => {
    const { job: done } = await settle(job.id);
    expect(done).toEqual({
      ...job,
      status: "succeeded",
      attempts: 1,
      // Code points, not UTF-16 units: the emoji is one.
      result: { item_id: item.id, name_length: 7, description_words: 2 },
      error: null,
    });
  });

  it("retries the job of a deleted item, then keeps it as failed with its error after 3 attempts", async () => {
    const { job: failed, seen } = await settle(doomed.id);
    expect(seen).toContain("retrying");
    expect(failed).toEqual({
      ...doomed,
      status: "failed",
      attempts: 3,
      result: null,
      error: `Item ${doomed.item_id} not found`,
    });
    // Kept: still there to be read.
    expect((await readJob(doomed.id)).status).toBe("failed");
  });
});

describe("with Redis unavailable", () => {
  const closers: { close(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const closer of closers) await closer.close();
  });

  async function appOnRedis(url: string, timeoutMs: number) {
    const outage = await buildApp({
      config: { logLevel: "silent" },
      database: createDatabase(testDatabaseUrl()),
      jobs: createTestJobQueue({ url, timeoutMs }),
    });
    closers.push(outage);
    return outage;
  }

  async function expectUnavailable(outage: FastifyInstance) {
    const { id } = await createItem({ name: uniqueName("outage") });
    for (const [method, url] of [
      ["POST", `/items/${id}/jobs`],
      ["GET", `/jobs/${randomUUID()}`],
      ["HEAD", `/jobs/${randomUUID()}`],
    ] as const) {
      const response = await outage.inject({ method, url });
      expect(response.statusCode, `${method} ${url}`).toBe(503);
      expect(response.headers["retry-after"]).toMatch(/^\d+$/);
      if (method !== "HEAD") {
        expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(response.json()).toMatchObject({ status: 503 });
      }
    }
    const health = await outage.inject({ url: "/health" });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toEqual({ status: "error", database: "ok", queue: "unreachable" });
    // What does not need Redis keeps working.
    expect((await outage.inject({ url: `/items/${id}` })).statusCode).toBe(200);
  }

  it("answers 503 with Retry-After when Redis refuses connections", async () => {
    // Nothing listens on port 1.
    await expectUnavailable(await appOnRedis("redis://127.0.0.1:1/0", 3_000));
  });

  it("answers 503 within REDIS_TIMEOUT when Redis accepts connections but never answers", async () => {
    const silent = new SilentServer();
    closers.push(silent);
    const port = await silent.start();
    await expectUnavailable(await appOnRedis(`redis://127.0.0.1:${port}/0`, 300));
  });
});

/** Accepts TCP connections and never answers: a Redis that hangs. */
class SilentServer {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  });

  start(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, "127.0.0.1", () =>
        resolve((this.server.address() as AddressInfo).port),
      );
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
