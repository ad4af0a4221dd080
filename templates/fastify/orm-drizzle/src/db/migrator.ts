import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { createDatabase } from "./index.js";

// The SQL files written by `drizzle-kit generate` (see drizzle.config.ts). Resolved from this
// module so it works from src/ (tsx, vitest) and from dist/ (the container) alike.
const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function migrateUp(url: string): Promise<void> {
  const database = createDatabase(url, { max: 1, timeoutMs: 0 });
  try {
    await migrate(database.db, { migrationsFolder });
  } finally {
    await database.close();
  }
}

export async function migrateDown(_url: string): Promise<void> {
  throw new Error(
    "Drizzle migrations are forward-only: change src/models and run `db:generate` to undo a change",
  );
}
