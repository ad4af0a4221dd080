import { randomUUID } from "node:crypto";
import { type Job, type JobsOptions, Queue } from "bullmq";
import { isRedisUnavailable, QueueUnavailableError } from "../core/errors.js";
import type { JobOut, JobStatus } from "../schema/jobs.js";
import { apiRedis, whenReady } from "./redis.js";
import { type ItemSummary, SUMMARIZE_ITEM, type SummarizeItemData } from "./summarize-item.js";

/** Results and failed jobs are kept this long (seconds), then removed. */
export const KEEP_JOBS_S = 24 * 60 * 60;

/**
 * How every job is run: 3 attempts in all, 1 s then 2 s apart (exponential backoff), and once it
 * has succeeded or failed for good, kept for 24 h with its result or its error.
 */
export const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: KEEP_JOBS_S },
  removeOnFail: { age: KEEP_JOBS_S },
} satisfies JobsOptions;

// Job ids are UUIDs made here (BullMQ's own are a counter, easy to guess). Anything else cannot
// be a job, and must not be looked up: `meta` or `events` would name the queue's own keys.
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface JobQueue {
  /** Queues `summarize_item` for an item; answers the job as queued. */
  summarizeItem(itemId: number): Promise<JobOut>;
  /** The job, or undefined when there is no such job (never was, or removed after 24 h). */
  get(id: string): Promise<JobOut | undefined>;
  /** Resolves when Redis answers within the timeout; /health uses it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface JobQueueOptions {
  /** REDIS_URL */
  url: string;
  /** WORKER_QUEUE: the worker takes its jobs from the queue of that name. */
  name: string;
  /** REDIS_TIMEOUT: how long any call waits for Redis before it fails with QueueUnavailableError. */
  timeoutMs: number;
}

/**
 * The API's side of the job queue: it adds jobs and reads their state, and every call either
 * answers or fails with QueueUnavailableError (503) within `timeoutMs`, whatever Redis does.
 */
export function createJobQueue({ url, name, timeoutMs }: JobQueueOptions): JobQueue {
  const client = apiRedis(url, timeoutMs);
  const ready = whenReady(client);
  const queue = new Queue<SummarizeItemData, ItemSummary>(name, {
    connection: client,
    defaultJobOptions: JOB_OPTIONS,
    // Neither waits for Redis: the app starts (and /health reports) while Redis is down.
    skipWaitingForReady: true,
    skipVersionCheck: true,
  });
  queue.on("error", () => {});

  /** Runs `work` once Redis is connected, all within the timeout; Redis outages become 503s. */
  async function bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    const late = new QueueUnavailableError(`Redis did not ${what} within ${timeoutMs} ms`);
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        reject(late);
      }, timeoutMs);
    });
    // Once the caller has been told 503, the work must not start when Redis comes back.
    const start = () => {
      if (expired) throw late;
      return work();
    };
    try {
      return await Promise.race([ready().then(start), deadline]);
    } catch (error) {
      if (error instanceof QueueUnavailableError || !isRedisUnavailable(error)) throw error;
      throw new QueueUnavailableError(`Redis did not ${what}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    summarizeItem: (itemId) =>
      bounded("take the job", async () => {
        const job = await queue.add(SUMMARIZE_ITEM, { item_id: itemId }, { jobId: randomUUID() });
        return toJobOut(job, "queued");
      }),
    get: async (id) => {
      if (!JOB_ID.test(id)) return undefined;
      return bounded("answer", async () => {
        // The state first, then the job: BullMQ finishes a job (its result, then its state) in
        // one script, so a job read after its state has "completed" has its result too.
        const state = await queue.getJobState(id);
        if (state === "unknown") return undefined;
        const job = await queue.getJob(id);
        // Removed between the two reads (its 24 h were over), or not a job of this API.
        if (!job || job.name !== SUMMARIZE_ITEM) return undefined;
        return toJobOut(job, jobStatus(state, job.attemptsMade));
      });
    },
    ping: () => bounded("answer", async () => void (await client.ping())),
    close: async () => {
      await queue.close();
      client.disconnect();
    },
  };
}

/**
 * BullMQ's states as the API's. A job waits (`waiting`, `prioritized`) before its first attempt
 * and waits again (`delayed`, for its backoff) after a failed one that will be retried.
 */
export function jobStatus(state: string, attemptsMade: number): JobStatus {
  switch (state) {
    case "active":
      return "running";
    case "completed":
      return "succeeded";
    case "failed":
      return "failed";
    default:
      return attemptsMade > 0 ? "retrying" : "queued";
  }
}

function toJobOut(job: Job<SummarizeItemData, ItemSummary | null>, status: JobStatus): JobOut {
  return {
    id: job.id ?? "",
    name: job.name,
    item_id: job.data.item_id,
    status,
    attempts: job.attemptsStarted,
    result: status === "succeeded" ? (job.returnvalue ?? null) : null,
    // The message of the last failure only: never a stack trace.
    error: job.failedReason || null,
  };
}
