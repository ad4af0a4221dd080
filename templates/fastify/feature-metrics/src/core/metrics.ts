import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/index.js";

export const METRICS_PATH = "/metrics";

/** The `route` of a request that matched no route: random paths must not grow the label set. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * The `method` of any other request (WebDAV's and the like, which Node's HTTP parser also takes),
 * as OpenTelemetry's HTTP conventions spell it: each method string would be a series of its own.
 */
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
]);
export const OTHER_METHOD = "_OTHER";

/**
 * Serves GET /metrics in the Prometheus text format: every request by method, route template
 * (`/items/:item_id`, never the raw path) and status, with its duration; the database pool, read at
 * scrape time; Node's process metrics. The scrape itself is not counted, and the route is not in
 * the OpenAPI document. Call before the routes are registered.
 */
export function registerMetrics(app: FastifyInstance, database: Database): void {
  // A registry per app, not prom-client's global one: a test process builds several apps.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status"] as const;
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route template and status code",
    labelNames,
    registers: [registry],
  });
  const durations = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from receiving a request to the end of its response, in seconds",
    labelNames,
    registers: [registry],
  });
  new Gauge({
    name: "db_pool_connections",
    help: "Connections of the database pool, by state (idle or used)",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const { idle, used } = database.poolStats();
      this.set({ state: "idle" }, idle);
      this.set({ state: "used" }, used);
    },
  });
  new Gauge({
    name: "db_pool_max_connections",
    help: "The most connections the database pool opens",
    registers: [registry],
    collect() {
      this.set(database.poolStats().max);
    },
  });

  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    if (route !== METRICS_PATH) {
      // Positional label values: no label object per request.
      const status = String(reply.statusCode);
      const method = KNOWN_METHODS.has(request.method) ? request.method : OTHER_METHOD;
      requests.labels(method, route, status).inc();
      durations.labels(method, route, status).observe(reply.elapsedTime / 1_000);
    }
    done();
  });

  app.get(METRICS_PATH, { schema: { hide: true } }, async (_request, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}
