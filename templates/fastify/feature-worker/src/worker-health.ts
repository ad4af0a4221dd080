import { loadConfig } from "./core/config.js";
import { heartbeatFresh } from "./jobs/heartbeat.js";

// The worker container's healthcheck (docker-compose.yml): exits 0 when the worker on this host
// has refreshed its heartbeat in Redis lately, 1 with one line saying why not.
try {
  const config = loadConfig(process.env);
  if (await heartbeatFresh(config.redisUrl, config.workerQueue, config.redisTimeoutMs)) {
    process.exitCode = 0;
  } else {
    console.error(`no heartbeat of a worker on this host for queue ${config.workerQueue} in Redis`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
