import { ConfigError, loadConfig } from "./core/config.js";
import { migrateDown, migrateUp } from "./db/migrator.js";

// `node dist/migrate.js [up|down]` (or `npm run migrate`): applies or reverts migrations
// against the database in DB_HOST, DB_PORT, DB_NAME (.env). Used by `make migrate` and by the container before the server starts.
async function run(direction: string): Promise<void> {
  if (direction !== "up" && direction !== "down") {
    throw new ConfigError(`Unknown direction "${direction}": use "up" or "down"`);
  }
  const { databaseUrl } = loadConfig(process.env);
  await (direction === "up" ? migrateUp(databaseUrl) : migrateDown(databaseUrl));
  console.log(`Migrations ${direction}: done`);
}

/**
 * One readable line with the database's own words. ORMs wrap the driver's error (Drizzle:
 * "Failed query: CREATE SCHEMA ..." with the cause `role "x" does not exist`; a refused
 * connection is an AggregateError with one error per address): the innermost message is the
 * cause, and the failed statement, when there is one, only says where it happened.
 */
export function describeFailure(error: unknown): string {
  const words: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && words.length < 10) {
    const message =
      current instanceof AggregateError && current.message === ""
        ? current.errors
            .map((e: unknown) => (e instanceof Error ? e.message : String(e)))
            .join("; ")
        : current.message;
    const line = (message.split("\n")[0] ?? "").trim();
    if (line) words.push(line);
    current = current.cause;
  }
  const query = words.find((w) => w.startsWith("Failed query:"));
  const cause = words.filter((w) => w !== query).at(-1) ?? words[0] ?? String(error);
  return query ? `${cause} (${query.length > 120 ? `${query.slice(0, 117)}...` : query})` : cause;
}

const direction = process.argv[2] ?? "up";
try {
  await run(direction);
} catch (error) {
  console.error(
    error instanceof ConfigError
      ? error.message
      : `Migrations ${direction} failed: ${describeFailure(error)}`,
  );
  process.exitCode = 1;
}
