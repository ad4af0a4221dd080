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

try {
  await run(process.argv[2] ?? "up");
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
