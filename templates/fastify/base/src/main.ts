import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./core/config.js";
import { createDatabase } from "./db/index.js";

// In-flight requests get this long to finish after SIGTERM before the process gives up.
const SHUTDOWN_GRACE_MS = 10_000;

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

  // The pool connects lazily: the service starts (and /health reports 503) while the
  // database is still down, and recovers by itself once it is up.
  const database = createDatabase(config.databaseUrl, { timeoutMs: config.dbTimeoutMs });
  const app = await buildApp({ config, database });

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    setTimeout(() => {
      app.log.error("graceful shutdown timed out");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    // Stops accepting connections, waits for in-flight requests, then closes the pool.
    app.close().then(
      () => app.log.info("stopped"),
      (err: unknown) => {
        app.log.error({ err }, "error during shutdown");
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    console.error(`Cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
    await app.close();
    process.exitCode = 1;
  }
}

await main();
