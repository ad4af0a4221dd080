import { DataSource } from "typeorm";
import { dataSourceOptions } from "./index.js";

async function withDataSource(url: string, run: (dataSource: DataSource) => Promise<void>) {
  const dataSource = await new DataSource(
    dataSourceOptions(url, { max: 1, timeoutMs: 0 }),
  ).initialize();
  try {
    await run(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

export async function migrateUp(url: string): Promise<void> {
  await withDataSource(url, async (dataSource) => {
    const applied = await dataSource.runMigrations({ transaction: "each" });
    for (const migration of applied) console.log(`up ${migration.name}: Success`);
  });
}

export async function migrateDown(url: string): Promise<void> {
  await withDataSource(url, (dataSource) => dataSource.undoLastMigration({ transaction: "each" }));
}
