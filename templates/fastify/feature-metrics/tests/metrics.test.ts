import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, uniqueName } from "./helpers.js";

let app: FastifyInstance;

beforeAll(async () => {
  app = await createTestApp();
});

afterAll(async () => {
  await app.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments left out). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const [, name = "", labelText = "", value = ""] = match;
    const labels = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, text]) => [key, text]),
    );
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  const response = await app.inject({ url: "/metrics" });
  expect(response.statusCode).toBe(200);
  return parseSamples(response.body);
}

/** The value of the sample with this name and these labels (others may differ), 0 when absent. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

const itemRoute = { method: "GET", route: "/items/:item_id", status: "200" };

describe("GET /metrics", () => {
  it("answers in the Prometheus text format and is not in the OpenAPI document", async () => {
    const response = await app.inject({ url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain("# TYPE http_requests_total counter");
    const openapi = (await app.inject({ url: "/openapi.json" })).json();
    expect(Object.keys(openapi.paths)).not.toContain("/metrics");
  });

  it("counts GET /items/:item_id under its route template, with its duration", async () => {
    const created = await app.inject({
      method: "POST",
      url: "/items",
      payload: { name: uniqueName("metrics") },
    });
    const { id } = created.json() as { id: number };
    const before = await scrape();
    for (let i = 0; i < 3; i++) {
      expect((await app.inject({ url: `/items/${id}` })).statusCode).toBe(200);
    }
    const after = await scrape();
    const delta = (name: string) =>
      sampleValue(after, name, itemRoute) - sampleValue(before, name, itemRoute);
    expect(delta("http_requests_total")).toBe(3);
    expect(delta("http_request_duration_seconds_count")).toBe(3);
    expect(sampleValue(after, "http_request_duration_seconds_sum", itemRoute)).toBeGreaterThan(0);
    expect(
      sampleValue(after, "http_request_duration_seconds_bucket", { ...itemRoute, le: "+Inf" }),
    ).toBe(sampleValue(after, "http_request_duration_seconds_count", itemRoute));
    // The raw path is never a label: one series per route template.
    expect(after.some((s) => s.labels.route === `/items/${id}`)).toBe(false);
  });

  it("counts a path no route matches as `unmatched`, and never counts itself", async () => {
    const before = await scrape();
    expect((await app.inject({ url: `/${uniqueName("nowhere")}` })).statusCode).toBe(404);
    const after = await scrape();
    const unmatched = { method: "GET", route: "unmatched", status: "404" };
    expect(sampleValue(after, "http_requests_total", unmatched)).toBe(
      sampleValue(before, "http_requests_total", unmatched) + 1,
    );
    expect(after.some((s) => s.labels.route === "/metrics")).toBe(false);
  });

  it("counts methods other than the standard ones under one `_OTHER` label", async () => {
    const before = await scrape();
    const refused = await app.inject({ method: "PROPFIND", url: "/items" });
    const other = { method: "_OTHER", route: "unmatched", status: String(refused.statusCode) };
    const after = await scrape();
    expect(sampleValue(after, "http_requests_total", other)).toBe(
      sampleValue(before, "http_requests_total", other) + 1,
    );
    expect(after.some((s) => s.labels.method === "PROPFIND")).toBe(false);
  });

  it("reports the database pool: its size and its idle and used connections", async () => {
    // A query first: the connection it used is back in the pool, idle.
    expect((await app.inject({ url: "/items" })).statusCode).toBe(200);
    const samples = await scrape();
    expect(sampleValue(samples, "db_pool_max_connections")).toBe(10);
    const states = samples
      .filter((s) => s.name === "db_pool_connections")
      .map((s) => s.labels.state);
    expect(states.sort()).toEqual(["idle", "used"]);
    expect(sampleValue(samples, "db_pool_connections", { state: "idle" })).toBeGreaterThan(0);
  });
});
