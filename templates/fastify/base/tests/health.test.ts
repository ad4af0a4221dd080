import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { createDatabase } from "../src/db/index.js";
import { createTestApp, testDatabaseUrl } from "./helpers.js";

// Nothing listens on port 1: connections are refused at once.
const UNREACHABLE_URL = "postgres://nobody:secret@127.0.0.1:1/nothing";

describe("GET /health", () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it("answers 200 when the database is reachable", async () => {
    const app = await createTestApp();
    apps.push(app);
    const response = await app.inject({ url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", database: "ok" });
  });

  it("answers 503 JSON when the database is down, and the API keeps answering", async () => {
    const app = await buildApp({
      config: { logLevel: "silent" },
      database: createDatabase(UNREACHABLE_URL),
    });
    apps.push(app);
    for (let i = 0; i < 2; i++) {
      const response = await app.inject({ url: "/health" });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: "error", database: "unreachable" });
    }
    // A route that needs the database reports it as unavailable, not as a crash.
    const items = await app.inject({ url: "/items" });
    expect(items.statusCode).toBe(503);
    expect(items.json()).toMatchObject({ status: 503 });
    expect(items.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("recovers once the database is reachable again", async () => {
    // A TCP relay in front of the test database stands in for a database that goes away.
    const target = new URL(testDatabaseUrl());
    const relay = new Relay(target.hostname, Number(target.port || 5432));
    const port = await relay.start(0);
    const url = new URL(target);
    url.port = String(port);
    const app = await buildApp({
      config: { logLevel: "silent" },
      database: createDatabase(url.href),
    });
    apps.push(app, relay);

    expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
    await relay.close();
    // The pool still holds the connection the relay just cut: using it must fail cleanly.
    expect((await app.inject({ url: "/items" })).statusCode).toBe(503);
    expect((await app.inject({ url: "/health" })).statusCode).toBe(503);
    await relay.start(port);
    expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/items" })).statusCode).toBe(200);
  });
});

class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  start(port: number): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.port, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) => {
      server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  }

  /** Stops listening and cuts every open connection, as a crashed database would. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
