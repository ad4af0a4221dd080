import { createServer, connect, type Server, type Socket } from "node:net";
import { expect, it } from "vitest";
import { checkConformance, outageBoundMs, SCHEMATHESIS_EXAMPLES } from "./contract.js";
import type { Timings } from "./harness.js";
import { exerciseItemsApi, type RunningServer } from "./http.js";
import { outages } from "./outage.js";
import { runSchemathesis } from "./schemathesis.js";

interface Answer { status: number; type: string; text: string }

async function send(base: string, method: string, path: string, body?: string, contentType = "application/json"): Promise<Answer> {
  const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { "content-type": contentType }, body });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

/**
 * Bad input to a booted service: malformed and mistyped JSON, oversized bodies, unknown routes
 * and ids, SQL-looking strings. Every answer must be a 4xx with a JSON body (never a 500), and
 * afterwards the table must hold exactly what the valid requests wrote.
 * Returns the number of requests sent.
 */
export async function abuseItemsApi(base: string, countRows: () => Promise<number>): Promise<number> {
  const before = await countRows();
  let sent = 0;
  const rejected = async (method: string, path: string, body?: string, contentType?: string) => {
    sent++;
    const r = await send(base, method, path, body, contentType);
    const label = `${method} ${path} ${body?.slice(0, 60) ?? ""} -> ${r.status} ${r.text.slice(0, 200)}`;
    expect(r.status, label).toBeGreaterThanOrEqual(400);
    expect(r.status, label).toBeLessThan(500);
    expect(r.type, label).toMatch(/^application\/problem\+json/);
    expect(() => JSON.parse(r.text), label).not.toThrow();
  };

  // Bodies that are not JSON, or not the right JSON.
  for (const body of ['{"name": ', "not json", "{'name': 'single quotes'}", "[]", '"just a string"', "null", "42", '{"name": "x"}{"name": "y"}']) {
    await rejected("POST", "/items", body);
  }
  // Wrong types and values.
  for (const item of [{}, { name: null }, { name: 123 }, { name: true }, { name: ["a"] }, { name: { nested: 1 } }, { name: "" }, { name: "x".repeat(101) },
    { name: "ok", description: 5 }, { name: "ok", description: "d".repeat(1001) }, { description: "no name" }]) {
    await rejected("POST", "/items", JSON.stringify(item));
  }
  await rejected("POST", "/items", JSON.stringify({ name: "x".repeat(3_000_000) })); // ~3 MB
  await rejected("POST", "/items", JSON.stringify({ name: "plain text body" }), "text/plain");
  // Unknown routes and ids, odd ids and query strings.
  for (const [method, path] of [["GET", "/nope"], ["GET", "/items/0/extra"], ["POST", "/health"], ["GET", "/items/987654321"], ["GET", "/items/abc"],
    ["GET", "/items/1.5"], ["GET", "/items/-1"], ["GET", "/items/99999999999999999999"], ["GET", "/items/1%27%20OR%201=1"],
    ["DELETE", "/items/987654321"], ["PATCH", "/items/987654321"], ["GET", "/items?limit=-1"], ["GET", "/items?limit=abc"], ["GET", "/items?offset=-5"]] as const) {
    await rejected(method, path, method === "PATCH" ? JSON.stringify({ name: "x" }) : undefined);
  }
  await rejected("PATCH", "/items/987654321", JSON.stringify({ name: 5 }));

  // SQL-looking strings are data: stored and returned as they were sent, nothing else happens.
  const sneaky = ["'; DROP TABLE items; --", "1 OR 1=1", "\\x00'\"`", "Robert'); DELETE FROM items WHERE ('1'='1"];
  const created: number[] = [];
  for (const name of sneaky) {
    sent += 2;
    const r = await send(base, "POST", "/items", JSON.stringify({ name }));
    expect(r.status, r.text).toBe(201);
    const item = JSON.parse(r.text) as { id: number; name: string };
    const back = JSON.parse((await send(base, "GET", `/items/${item.id}`)).text) as { name: string };
    expect(back.name).toBe(name);
    created.push(item.id);
  }
  expect(await countRows()).toBe(before + sneaky.length);
  for (const id of created) {
    sent++;
    expect((await send(base, "DELETE", `/items/${id}`)).status).toBe(204);
  }
  expect(await countRows()).toBe(before);
  return sent;
}

/**
 * A TCP relay to Postgres that a test can cut, stall and restore, to play "the database went
 * away" (refused connections) and "the database stopped answering" (accepts, never answers).
 */
export class DbRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  constructor(private readonly target: { host: string; port: number }, readonly port = 0) {}

  async start(): Promise<number> {
    this.stalled = false;
    const server = createServer((client) => {
      this.track(client);
      // Stalled: the connection is accepted and then nothing, ever, comes back.
      if (this.stalled) return;
      const upstream = connect(this.target.port, this.target.host);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
    (this as { port: number }).port = (server.address() as { port: number }).port;
    return this.port;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  private dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Refuses new connections and drops the open ones, as a stopped database would. */
  async cut(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Drops the open connections; new ones are accepted and never answered (a hung server). */
  stall(): void {
    this.stalled = true;
    this.dropAll();
  }

  /** Ends a stall: the stalled connections are dropped, new ones reach Postgres again. */
  resume(): void {
    this.stalled = false;
    this.dropAll();
  }
}

/**
 * One generated service under test, from boot to teardown: the relay in front of its database,
 * the running process, and what each phase sent and measured (for the report). Every booted
 * variant of every stack goes through the same phases.
 */
export class ServiceUnderTest {
  server: RunningServer | undefined;
  relay: DbRelay | undefined;
  readonly requests: Record<string, number> = {};
  readonly report: Record<string, unknown> = {};
  constructor(
    readonly variant: string,
    private readonly db: { dbName: string; dbUser: string },
    private readonly rows: () => Promise<number>,
  ) {}

  /** Starts the service with its database behind a relay (`start` gets the relay's port), then runs the CRUD round trip. */
  async bootAndExercise(start: (dbPort: number) => Promise<RunningServer>): Promise<void> {
    this.relay = new DbRelay({ host: "127.0.0.1", port: 5432 });
    this.server = await start(await this.relay.start());
    this.requests.crud = await exerciseItemsApi(this.server.base);
  }

  async badInput(): Promise<void> {
    this.requests.abuse = await abuseItemsApi(this.server!.base, this.rows);
  }

  /** The cross-stack conformance table (contract.ts), unchanged for every variant. */
  async conformance(): Promise<void> {
    this.requests.conformance = await checkConformance(this.server!.base);
  }

  async schemathesis(maxExamples: number): Promise<void> {
    this.report.schemathesisCases = await runSchemathesis(this.server!.base, maxExamples);
  }

  /** The five outage kinds with 1 and 50 concurrent requests (503 within `boundMs`), then a graceful stop. */
  async outagesAndStop(boundMs: number): Promise<void> {
    const server = this.server!;
    const results = await outages(server.base, { relay: this.relay!, ...this.db }, boundMs, () => server.alive()).catch((error: Error) => {
      error.message += `\n--- the service's last output:\n${server.outputTail(30)}`;
      throw error;
    });
    this.report.outages = results.map((r) => `${r.kind} x${r.concurrency}: 503 in <= ${r.worstMs} ms, back in ${r.recoveryMs} ms`);
    this.report.worst503Ms = Math.max(...results.map((r) => r.worstMs));
    await server.stop();
    this.server = undefined;
  }

  async teardown(): Promise<void> {
    await this.server?.stop().catch(() => undefined);
    await this.relay?.cut();
    console.log(`${this.variant}: HTTP requests sent ${JSON.stringify(this.requests)}\n${JSON.stringify(this.report, null, 2)}`);
  }
}

/**
 * The contract steps a booted variant goes through, the same in every stack's e2e file, numbered
 * from `first`: the conformance table; then, where `full` (see fullContract in harness.ts),
 * schemathesis and the outages (which stop the service).
 */
export function contractSteps(first: number, service: ServiceUnderTest, timings: Timings, projectDir: () => string, full: boolean): void {
  it(`${first}. answers the conformance table of the contract like every other stack`, async () => {
    await timings.time(service.variant, "conformance", () => service.conformance());
  });
  if (!full) return;

  it(`${first + 1}. schemathesis --checks all finds nothing: /openapi.json is the truth`, async () => {
    await timings.time(service.variant, "schemathesis", () => service.schemathesis(SCHEMATHESIS_EXAMPLES));
  });

  it(`${first + 2}. five kinds of database outage, 1 and 50 requests: 503 + Retry-After in time, never 500; recovers within 1 s`, async () => {
    await timings.time(service.variant, "outages", () => service.outagesAndStop(outageBoundMs(projectDir())));
  });
}
