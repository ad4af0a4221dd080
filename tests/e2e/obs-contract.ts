import { createServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { expect, it } from "vitest";
import type { ServiceUnderTest } from "./abuse.js";
import type { Timings } from "./harness.js";
import type { RunningServer } from "./http.js";

/**
 * The metrics and otel features' contract, the same for every stack that has them: what
 * GET /metrics counts (by route template, never the raw path) and that spans reach an OTLP/HTTP
 * collector, and that a collector which is not there slows no request. Route templates are
 * accepted in either spelling, `/items/{id}` (FastAPI) or `/items/:id` (Fastify).
 */

const ITEM_ROUTE = /^\/items\/(\{[A-Za-z_]\w*\}|:[A-Za-z_]\w*)$/;
const REQUESTS = 5;

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples of a Prometheus text exposition (format 0.0.4); comments and blank lines skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line of the text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

async function scrape(base: string): Promise<Sample[]> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status, "GET /metrics").toBe(200);
  expect(response.headers.get("content-type") ?? "").toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const sum = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);

/** A receiver of OTLP/HTTP exports (POST /v1/traces, protobuf or JSON), answering 200 to each. */
export class OtlpReceiver {
  readonly bodies: Buffer[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.method === "POST" && req.url === "/v1/traces") this.bodies.push(Buffer.concat(chunks));
        res.writeHead(req.url === "/v1/traces" ? 200 : 404, { "content-type": req.headers["content-type"] ?? "application/x-protobuf" });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** True once some export holds every one of `needles` (raw bytes: protobuf keeps strings as UTF-8). */
  received(...needles: string[]): boolean {
    return this.bodies.some((body) => needles.every((n) => body.includes(n)));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** A local port nothing listens on (bound, then released): an OTLP endpoint that refuses. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function createItem(base: string): Promise<number> {
  const r = await fetch(`${base}/items`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "observed" }) });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: number }).id;
}

/** The item route as the OpenAPI document spells it (`/items/{item_id}`, `/items/{id}`). */
async function itemRoute(base: string): Promise<string> {
  const paths = Object.keys(((await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> }).paths);
  const route = paths.find((p) => ITEM_ROUTE.test(p));
  if (!route) throw new Error(`no /items/{id} route in /openapi.json: ${paths.join(", ")}`);
  expect(paths, "/metrics is not in the OpenAPI document").not.toContain("/metrics");
  return route;
}

export interface MetricsReport { itemRoute: string; counted: number }

/** GET /metrics counts N item reads under the route template, an unknown path as unmatched, itself not at all. */
export async function checkMetrics(base: string): Promise<MetricsReport> {
  const documented = await itemRoute(base);
  const id = await createItem(base);
  const before = await scrape(base);
  for (let i = 0; i < REQUESTS; i++) expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
  expect((await fetch(`${base}/no-such-path/${id}`)).status).toBe(404);
  const after = await scrape(base);

  const routes = [...new Set(after.filter((s) => s.name === "http_requests_total").map((s) => s.labels.route ?? ""))];
  const itemLabel = routes.find((r) => ITEM_ROUTE.test(r));
  expect(itemLabel, `http_requests_total has no item route template among ${routes.join(", ")}`).toBeDefined();
  // The same route as the OpenAPI document, in the framework's own spelling of the parameter.
  expect(itemLabel!.replace(/^\/items\/:(\w+)$/, "/items/{$1}").replace(/\{\w+\}/, "{}")).toBe(documented.replace(/\{\w+\}/, "{}"));
  expect(routes, "a raw path became a label").not.toContain(`/items/${id}`);
  expect(routes, "GET /metrics counted itself").not.toContain("/metrics");

  const item = { method: "GET", route: itemLabel!, status: "200" };
  const counted = sum(after, "http_requests_total", item) - sum(before, "http_requests_total", item);
  expect(counted).toBeGreaterThanOrEqual(REQUESTS);
  const unmatched = { route: "unmatched", status: "404" };
  expect(sum(after, "http_requests_total", unmatched) - sum(before, "http_requests_total", unmatched)).toBeGreaterThanOrEqual(1);
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    expect(after.some((s) => s.name === `http_request_duration_seconds${suffix}` && s.labels.route === itemLabel), `http_request_duration_seconds${suffix}`).toBe(true);
  }
  expect(sum(after, "http_request_duration_seconds_count", item) - sum(before, "http_request_duration_seconds_count", item)).toBeGreaterThanOrEqual(REQUESTS);
  expect(sum(after, "db_pool_max_connections", {})).toBeGreaterThan(0);
  expect(after.some((s) => s.name === "db_pool_connections" && s.labels.state === "idle"), 'db_pool_connections{state="idle"}').toBe(true);
  return { itemRoute: itemLabel!, counted };
}

export interface TracingReport { exports: number; msToFirstTrace: number; closedPortWorstMs: number }

/**
 * Spans reach the receiver the service was booted with (OTEL_EXPORTER_OTLP_ENDPOINT, and
 * OTEL_BSP_SCHEDULE_DELAY=200): an export names the service and the item route's server span.
 * /health makes no span. Then a second instance, booted by `bootWithEndpoint` against a closed port, still answers
 * every request promptly, and stops cleanly.
 */
export async function checkTracing(
  base: string,
  options: { receiver: OtlpReceiver; serviceName: string; bootWithEndpoint: (endpoint: string) => Promise<RunningServer>; promptMs?: number },
): Promise<TracingReport> {
  const { receiver, serviceName } = options;
  const documented = await itemRoute(base);
  const id = await createItem(base);
  // Only what these requests export counts: what earlier requests left in the batch (it is sent
  // every OTEL_BSP_SCHEDULE_DELAY, 200 ms) is let through and dropped first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  receiver.bodies.length = 0;
  const started = Date.now();
  for (let i = 0; i < 3; i++) expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
  // The span is named by the route template: `{item_id}` or `:id`, whatever this stack spells.
  const spanNames = [`GET ${documented}`, `GET ${documented.replace(/\{(\w+)\}/, ":$1")}`, `GET /items/:id`];
  while (!spanNames.some((name) => receiver.received(serviceName, name))) {
    if (Date.now() - started > 15_000) {
      const seen = receiver.bodies.map((b) => b.toString("latin1").replace(/[^\x20-\x7e]+/g, " ").slice(0, 300));
      throw new Error(`no export named ${serviceName} and one of ${spanNames.join(" | ")} within 15 s; ${receiver.bodies.length} exports:\n${seen.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const msToFirstTrace = Date.now() - started;
  // Probes are not traced: nothing of /health is exported, in three schedule delays and more.
  for (let i = 0; i < 3; i++) expect((await fetch(`${base}/health`)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(receiver.received(serviceName, "GET /health"), "/health was traced").toBe(false);

  const unreachable = await options.bootWithEndpoint(`http://127.0.0.1:${await closedPort()}`);
  let closedPortWorstMs = 0;
  try {
    const other = await createItem(unreachable.base);
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      expect((await fetch(`${unreachable.base}/items/${other}`)).status).toBe(200);
      closedPortWorstMs = Math.max(closedPortWorstMs, Date.now() - t);
    }
    expect(closedPortWorstMs, "a request waited on the unreachable collector").toBeLessThan(options.promptMs ?? 1000);
  } finally {
    await unreachable.stop();
  }
  return { exports: receiver.bodies.length, msToFirstTrace, closedPortWorstMs };
}

/** Step 8c: the metrics and/or tracing contract, as the variant's features have them. */
export async function checkObservability(
  base: string,
  options: { metrics: boolean; otel?: Parameters<typeof checkTracing>[1] },
): Promise<{ metrics?: MetricsReport; tracing?: TracingReport }> {
  return {
    ...(options.metrics ? { metrics: await checkMetrics(base) } : {}),
    ...(options.otel ? { tracing: await checkTracing(base, options.otel) } : {}),
  };
}

/**
 * Step 8c of a stack's e2e file, when the variant has metrics or otel. `serve(env)` boots another
 * instance of the service with `env` added to the variant's own (on a free port of its own).
 */
export function observabilityStep(
  step: string,
  service: ServiceUnderTest,
  timings: Timings,
  options: { metrics: boolean; receiver?: OtlpReceiver; serve: (env: Record<string, string>) => Promise<RunningServer> },
): void {
  const { metrics, receiver, serve } = options;
  if (!metrics && !receiver) return;
  it(`${step}. observability: /metrics counts by route template (unmatched for unknown paths, not itself), pool gauges; spans reach an OTLP receiver, /health is not traced, a closed collector port slows nothing`, async () => {
    service.report.observability = await timings.time(service.variant, "observability", () => checkObservability(service.server!.base, {
      metrics,
      otel: receiver && {
        receiver,
        serviceName: "svc-e2e",
        bootWithEndpoint: (endpoint) => serve({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: "200" }),
      },
    }));
  });
}
