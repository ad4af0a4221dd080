import type { FastifyInstance } from "fastify";
import { inject } from "vitest";
import { buildApp } from "../src/app.js";
import { createDatabase, type DatabaseOptions } from "../src/db/index.js";

/** The URL of this run's throwaway database (see global-setup.ts). */
export function testDatabaseUrl(): string {
  return inject("databaseUrl");
}

/** The real app on the test database, silent; close it in afterAll. */
export async function createTestApp(options: DatabaseOptions = {}): Promise<FastifyInstance> {
  const database = createDatabase(testDatabaseUrl(), options);
  return buildApp({ config: { logLevel: "silent" }, database });
}

/** A name no other test uses, so tests can find their own rows in the shared table. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
