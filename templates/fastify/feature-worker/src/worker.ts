import { pino } from "pino";
import { ConfigError, loadConfig } from "./core/config.js";
import { createDatabase } from "./db/index.js";
import { startJobWorker } from "./jobs/worker.js";

// Running jobs get this long to finish after SIGTERM before the process gives up (Compose's
// stop_grace_period for the worker is a little longer).
const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line, no stack trace: the message names the setting to fix.
    console.error(error.message);
    process.exitCode = 1;
    return;
  }

  const log = pino({ level: config.logLevel }).child({ role: "worker" });
  // Like the API, it starts while the database or Redis are down and waits for them.
  const database = createDatabase(config.databaseUrl, { timeoutMs: config.dbTimeoutMs });
  const worker = startJobWorker({
    url: config.redisUrl,
    name: config.workerQueue,
    timeoutMs: config.redisTimeoutMs,
    database,
    log,
  });
  log.info({ queue: config.workerQueue }, "worker started");

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, "shutting down: finishing the running jobs");
    setTimeout(() => {
      log.error("graceful shutdown timed out");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    worker
      .close()
      .then(() => database.close())
      .then(
        () => log.info("stopped"),
        (err: unknown) => {
          log.error({ err }, "error during shutdown");
          process.exitCode = 1;
        },
      );
  };
  // `on`, not `once`: under `make worker` (tsx watch) one Ctrl-C arrives twice, from the terminal
  // and relayed by tsx, and a second signal must not kill the jobs being finished. The grace
  // period above still bounds the shutdown.
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

await main();
