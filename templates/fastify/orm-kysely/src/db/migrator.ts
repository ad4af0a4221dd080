import { type Migration, type MigrationResultSet, Migrator } from "kysely/migration";
import { createDatabase } from "./index.js";
import * as createItems from "./migrations/0001_create_items.js";

// Listed by hand instead of read from disk: the same list works from src/ (tsx, vitest) and
// from dist/ (the container). Add each new migration here; names sort in the order they run.
const migrations: Record<string, Migration> = {
  "0001_create_items": createItems,
};

async function run(url: string, step: (migrator: Migrator) => Promise<MigrationResultSet>) {
  const database = createDatabase(url, { max: 1, timeoutMs: 0 });
  try {
    const migrator = new Migrator({
      db: database.db,
      provider: { getMigrations: async () => migrations },
    });
    const { error, results } = await step(migrator);
    for (const result of results ?? []) {
      console.log(`${result.direction} ${result.migrationName}: ${result.status}`);
    }
    if (error) throw error;
  } finally {
    await database.close();
  }
}

export async function migrateUp(url: string): Promise<void> {
  await run(url, (migrator) => migrator.migrateToLatest());
}

export async function migrateDown(url: string): Promise<void> {
  await run(url, (migrator) => migrator.migrateDown());
}
