import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { throwaway } from "../scripts/embedded-db.js";
import { loadConfig } from "../src/core/config.js";
import { migrateUp } from "../src/db/migrator.js";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/**
 * Creates a database of its own for this run (unique name, so parallel runs and the dev data
 * never meet), migrates it, hands its URL to the tests and drops it at the end.
 * The server and credentials come from the DB_* settings (the environment, then .env): `make up`
 * or any local Postgres where `make db` has been run. With DB_HOST=embedded the server itself is
 * a throwaway: an embedded Postgres in a temporary folder, set up by sql/init_db.sql, removed at
 * the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The environment wins over .env, as for the app.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const embedded =
    process.env.DB_HOST === "embedded" ? await throwaway(process.env.DB_PASSWORD ?? "") : undefined;
  const baseUrl = loadConfig({
    ...process.env,
    ...(embedded && { DB_HOST: embedded.server.host, DB_PORT: String(embedded.server.port) }),
  }).databaseUrl;

  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const testUrl = new URL(baseUrl);
  testUrl.pathname = `/${name}`;

  const teardown = async () => {
    try {
      await admin(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await embedded?.dispose();
    }
  };
  try {
    await admin(baseUrl, `CREATE DATABASE "${name}"`);
    await migrateUp(testUrl.href);
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide("databaseUrl", testUrl.href);
  return teardown;
}

// CREATE/DROP DATABASE cannot run inside a transaction, so this uses a bare client.
async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
