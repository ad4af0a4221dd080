import { hostname } from "node:os";
import { Redis } from "ioredis";

// The worker proves it is alive and reaches Redis by refreshing a key there; its container's
// healthcheck (src/worker-health.ts) reads it. One key per host, so each worker is checked on
// its own, under the queue's own prefix (`bull:<queue>:`), so it goes with the queue.

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Three missed beats and the worker counts as dead. */
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;

export function heartbeatKey(queue: string, host = hostname()): string {
  return `bull:${queue}:worker-heartbeat:${host}`;
}

/** True when the worker on this host has beaten within HEARTBEAT_TTL_MS; false when not or when Redis does not answer in time. */
export async function heartbeatFresh(
  url: string,
  queue: string,
  timeoutMs: number,
): Promise<boolean> {
  // One attempt, bounded: a healthcheck must answer before its own timeout.
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    return (await client.exists(heartbeatKey(queue))) === 1;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
