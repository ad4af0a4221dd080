import Fastify, { type FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorHandler, HttpError } from "../src/core/errors.js";
import { createDatabase, type Database } from "../src/db/index.js";
import { registerSession } from "../src/db/session.js";
import { createItem } from "../src/services/items.js";
import { testDatabaseUrl, uniqueName } from "./helpers.js";

// The session helper on its own, on routes made for the test: each one writes a row through
// `request.db` and then succeeds or throws. Counting the rows afterwards, on a separate
// connection, shows what was committed.

let app: FastifyInstance;
let database: Database;
let observer: pg.Client;

beforeAll(async () => {
  // A single connection: a request that failed to give it back would make the next one time out.
  database = createDatabase(testDatabaseUrl(), { max: 1 });
  app = Fastify();
  app.setErrorHandler(errorHandler);
  app.addHook("onClose", () => database.close());
  await app.register(async (scope) => {
    registerSession(scope, database);
    scope.post<{ Body: { name: string } }>("/ok", async (request) =>
      createItem(request.db, { name: request.body.name }),
    );
    scope.post<{ Body: { name: string } }>("/http-error", async (request) => {
      await createItem(request.db, { name: request.body.name });
      throw new HttpError(409, "conflict after the write");
    });
    scope.post<{ Body: { name: string } }>("/crash", async (request) => {
      await createItem(request.db, { name: request.body.name });
      throw new Error("bug after the write");
    });
  });
  observer = new pg.Client({ connectionString: testDatabaseUrl() });
  await observer.connect();
});

afterAll(async () => {
  await app?.close();
  await observer?.end();
});

async function rowsNamed(name: string): Promise<number> {
  const result = await observer.query("SELECT count(*)::int AS n FROM items WHERE name = $1", [
    name,
  ]);
  return result.rows[0].n;
}

describe("one transaction per request", () => {
  it("commits when the handler succeeds", async () => {
    const name = uniqueName("commit");
    const response = await app.inject({ method: "POST", url: "/ok", payload: { name } });
    expect(response.statusCode).toBe(200);
    expect(await rowsNamed(name)).toBe(1);
  });

  it("rolls back when the handler throws an HTTP error", async () => {
    const name = uniqueName("http-error");
    const response = await app.inject({ method: "POST", url: "/http-error", payload: { name } });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ status: 409, detail: "conflict after the write" });
    expect(await rowsNamed(name)).toBe(0);
  });

  it("rolls back when the handler crashes, and hides the error", async () => {
    const name = uniqueName("crash");
    const response = await app.inject({ method: "POST", url: "/crash", payload: { name } });
    expect(response.statusCode).toBe(500);
    expect(response.json().detail).toBe("Internal Server Error");
    expect(await rowsNamed(name)).toBe(0);
  });

  it("releases the connection every time", async () => {
    for (const url of ["/http-error", "/crash", "/ok", "/http-error", "/ok"]) {
      await app.inject({ method: "POST", url, payload: { name: uniqueName("release") } });
    }
    // With a pool of one, this only succeeds if every request above gave the connection back.
    await expect(database.ping()).resolves.toBeUndefined();
  });
});
