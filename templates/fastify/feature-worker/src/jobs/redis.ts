import { Redis } from "ioredis";

// The two kinds of Redis connection of the job queue. ioredis and BullMQ are made for workers,
// which wait for Redis as long as it takes; an HTTP request must not, so the API connects
// differently from the worker.

/**
 * The API's connection. Every wait on Redis is bounded by `timeoutMs` (REDIS_TIMEOUT), and no
 * command is kept to be sent later: a job the client was told it could not have (503) must never
 * be added behind its back once Redis is back.
 */
export function apiRedis(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Commands are sent on a ready connection only; the job queue waits for one (bounded).
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails instead of being sent again.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Reconnects in the background, soon: the API serves jobs again within a second of Redis.
    retryStrategy: (attempt) => Math.min(attempt * 100, 300),
  });
  // Outages are reported by the requests that meet them (503) and by /health, not as events.
  client.on("error", () => {});
  return client;
}

/**
 * The worker's connection. BullMQ requires `maxRetriesPerRequest: null` for the blocking reads of
 * a worker: commands wait (in ioredis' offline queue) until Redis is back, so a job in progress
 * is finished, not lost, across a short outage.
 */
export function workerRedis(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
  });
  client.on("error", () => {});
  return client;
}

/**
 * A function that resolves once `client` is connected: at once when it is, else when its
 * connection attempt in progress (or the next one) succeeds. It rejects as soon as that attempt
 * fails, so a Redis that refuses connections is a quick 503, not one after REDIS_TIMEOUT. One
 * shared wait, however many requests are waiting.
 */
export function whenReady(client: Redis): () => Promise<void> {
  let waiting: Promise<void> | undefined;
  return () => {
    if (client.status === "ready") return Promise.resolve();
    waiting ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        client.off("ready", onReady);
        client.off("close", onClose);
        waiting = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onClose = () => settle(new Error("Connection is closed: Redis refused or dropped it"));
      client.on("ready", onReady);
      client.on("close", onClose);
    });
    return waiting;
  };
}
