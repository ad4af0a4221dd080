import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import pg from "pg";
import type { TestProject } from "vitest/node";
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
 * or any local Postgres where `make db` has been run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The environment wins over .env, as for the app.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const baseUrl = loadConfig(process.env).databaseUrl;

  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const testUrl = new URL(baseUrl);
  testUrl.pathname = `/${name}`;

  await admin(baseUrl, `CREATE DATABASE "${name}"`);
  try {
    await migrateUp(testUrl.href);
  } catch (error) {
    await admin(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    throw error;
  }
  project.provide("databaseUrl", testUrl.href);

  return async () => {
    await admin(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
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
