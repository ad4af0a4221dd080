import { UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "pino";
import { isRedisUnavailable } from "../core/errors.js";
import type { Database } from "../db/index.js";
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS, heartbeatKey } from "./heartbeat.js";
import { workerRedis } from "./redis.js";
import {
  type ItemSummary,
  SUMMARIZE_ITEM,
  type SummarizeItemData,
  summarizeItem,
} from "./summarize-item.js";

/** Jobs run at once by one worker process; each holds a database connection while it reads. */
const CONCURRENCY = 4;

export interface JobWorkerOptions {
  /** REDIS_URL */
  url: string;
  /** WORKER_QUEUE */
  name: string;
  /** REDIS_TIMEOUT: how long a connection attempt to Redis may take. */
  timeoutMs: number;
  /** The worker's own database (its own pool): jobs never share the API's connections. */
  database: Database;
  log: Logger;
}

export interface JobWorker {
  /** Stops taking jobs, lets the running ones finish, then disconnects (the database stays open). */
  close(): Promise<void>;
}

/**
 * Takes the queue's jobs and runs them until closed. A job that throws is retried as the job
 * queue says (src/jobs/queue.ts: 3 attempts, exponential backoff), then kept as failed with its
 * error. While Redis is away the worker waits for it and goes on where it was.
 */
export function startJobWorker({
  url,
  name,
  timeoutMs,
  database,
  log,
}: JobWorkerOptions): JobWorker {
  const client = workerRedis(url, timeoutMs);
  const worker = new Worker<SummarizeItemData, ItemSummary>(
    name,
    async (job) => {
      if (job.name !== SUMMARIZE_ITEM) throw new UnrecoverableError(`Unknown job ${job.name}`);
      return database.read((db) => summarizeItem(db, job.data.item_id));
    },
    { connection: client, concurrency: CONCURRENCY },
  );

  worker.on("completed", (job) => log.info({ job: job.id, name: job.name }, "job succeeded"));
  worker.on("failed", (job, err) => {
    const retried = job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1);
    log.warn(
      { job: job?.id, name: job?.name, err: err.message },
      retried ? "job failed, will retry" : "job failed",
    );
  });
  // One line when Redis goes away and one when it is back, not one per reconnection attempt.
  let unreachable = false;
  worker.on("error", (err) => {
    if (!isRedisUnavailable(err)) {
      log.error({ err }, "worker error");
      return;
    }
    if (unreachable) return;
    unreachable = true;
    log.error({ err }, "Redis unreachable, retrying");
  });
  const beat = () => {
    if (client.status !== "ready" || !worker.isRunning()) return;
    if (unreachable) log.info("Redis reachable again");
    unreachable = false;
    client.set(heartbeatKey(name), String(Date.now()), "PX", HEARTBEAT_TTL_MS).catch(() => {});
  };
  client.on("ready", beat);
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);

  return {
    close: async () => {
      clearInterval(timer);
      await worker.close();
      // The healthcheck turns red at once rather than when the key expires.
      if (client.status === "ready") await client.del(heartbeatKey(name)).catch(() => {});
      client.disconnect();
    },
  };
}
