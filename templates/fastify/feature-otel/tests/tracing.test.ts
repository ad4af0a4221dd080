import { SpanKind } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startTelemetry, type Telemetry } from "../src/core/telemetry.js";

// Spans stay in memory, where the tests read them; nothing is exported.
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let app: FastifyInstance;

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: "tracing-test",
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  // Imported only now, as main.ts does: pg must be instrumented before any module loads it.
  const { createTestApp } = await import("./helpers.js");
  app = await createTestApp();
});

afterAll(async () => {
  await app.close();
  await telemetry.shutdown();
});

beforeEach(() => exporter.reset());

/** The server span of the one request made since the last reset (it ends in onResponse). */
async function serverSpan(): Promise<ReadableSpan> {
  return vi.waitFor(() => {
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(spans).toHaveLength(1);
    return spans[0] as ReadableSpan;
  });
}

describe("tracing", () => {
  it("makes GET /items/:item_id a server span named by its route, with the database spans under it", async () => {
    const created = await app.inject({
      method: "POST",
      url: "/items",
      payload: { name: "traced" },
    });
    const { id } = created.json() as { id: number };
    exporter.reset();

    expect((await app.inject({ url: `/items/${id}` })).statusCode).toBe(200);
    const server = await serverSpan();
    expect(server.name).toBe("GET /items/:item_id");
    expect(server.attributes).toMatchObject({
      "http.request.method": "GET",
      "http.route": "/items/:item_id",
      "url.path": `/items/${id}`,
      "http.response.status_code": 200,
    });
    const queries = exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith("pg.query"))
      .filter((s) => s.parentSpanContext?.spanId === server.spanContext().spanId);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries)
      expect(query.spanContext().traceId).toBe(server.spanContext().traceId);
  });

  it("continues the caller's trace from its traceparent header", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await app.inject({
      url: "/items",
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.statusCode).toBe(200);
    const server = await serverSpan();
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });

  it("traces neither /health nor its database ping", async () => {
    expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
    // Something traced after it, to know the spans of /health would have ended by then.
    expect((await app.inject({ url: "/nowhere" })).statusCode).toBe(404);
    await serverSpan();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["GET"]);
  });

  it("names the span of a request that matched no route by its method alone", async () => {
    expect((await app.inject({ url: "/nowhere" })).statusCode).toBe(404);
    const server = await serverSpan();
    expect(server.name).toBe("GET");
    expect(server.attributes["http.response.status_code"]).toBe(404);
  });
});
