import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { waitForHealth } from "../../src/steps/health.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A real HTTP server on a free loopback port whose /health answer is decided per request. */
async function serve(answer: (elapsedMs: number) => number): Promise<string> {
  const started = Date.now();
  server = createServer((_req, res) => {
    res.writeHead(answer(Date.now() - started), { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/health`;
}

describe("waitForHealth against a real server", () => {
  it("waits for a server that becomes healthy after a delay", async () => {
    const url = await serve((ms) => (ms < 600 ? 503 : 200));
    const r = await waitForHealth(url, { timeoutMs: 5_000, intervalMs: 100 });
    expect(r.ok).toBe(true);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(500);
  });

  it("gives up after the timeout on a server that keeps answering 503, reporting it", async () => {
    const url = await serve(() => 503);
    const r = await waitForHealth(url, { timeoutMs: 2_000, intervalMs: 100 });
    expect(r).toMatchObject({ ok: false, last: "HTTP 503", interrupted: false });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1_900);
  });

  it("reports a server that never comes up as connection refused", async () => {
    // Hold a port on 127.0.0.1 and call it on 127.0.0.2: nothing can listen there meanwhile,
    // unlike a freed port, which a parallel test could take.
    const held = new URL(await serve(() => 200));
    const r = await waitForHealth(`http://127.0.0.2:${held.port}/health`, { timeoutMs: 500, intervalMs: 100 });
    expect(r).toMatchObject({ ok: false, last: "connection refused" });
  });

  it("stops at once when aborted", async () => {
    const url = await serve(() => 503);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await waitForHealth(url, { timeoutMs: 10_000, intervalMs: 1_000, signal: controller.signal });
    expect(r).toMatchObject({ ok: false, interrupted: true });
    expect(r.elapsedMs).toBeLessThan(1_500);
  });
});
