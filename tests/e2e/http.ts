import { execa, type ResultPromise } from "execa";
import { expect } from "vitest";
import { waitForHealth } from "../../src/steps/health.js";
import { tailLines } from "../../src/steps/runner.js";

export interface RunningServer {
  readonly base: string;
  readonly pid: number;
  /** False once the process has exited. */
  alive(): boolean;
  /** The last lines the process printed, for a failure message. */
  outputTail(lines: number): string;
  stop(): Promise<void>;
}

const DEPRECATION = /\[(FST)?DEP\d+\]|DeprecationWarning|Deprecation:/;

/** Starts a generated service and waits for /health to answer 200; fails with its output otherwise. */
export async function startServer(file: string, args: string[], options: { cwd: string; env: Record<string, string>; port: number; timeoutMs?: number }): Promise<RunningServer> {
  const child: ResultPromise = execa(file, args, { cwd: options.cwd, env: options.env, reject: false, all: true, stdin: "ignore", forceKillAfterDelay: 5_000 });
  let output = "";
  let exited = false;
  child.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  void child.finally(() => {
    exited = true;
  });
  const base = `http://127.0.0.1:${options.port}`;
  const health = await waitForHealth(`${base}/health`, { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250 });
  if (!health.ok) {
    child.kill("SIGKILL");
    await child;
    throw new Error(`\`${file} ${args.join(" ")}\` did not become healthy (last: ${health.last}):\n${tailLines(output, 40)}`);
  }
  return {
    base,
    pid: child.pid!,
    alive: () => !exited,
    outputTail: (lines) => tailLines(output, lines),
    async stop() {
      child.kill("SIGTERM");
      const r = await child;
      // A graceful shutdown ends on SIGTERM (exit 0 or the signal itself), not by force.
      expect(r.isForcefullyTerminated, `forced to stop:\n${tailLines(output, 20)}`).toBeFalsy();
      // What a user would see in their terminal on every start: no deprecation notices (Node's
      // [DEP0...], Fastify's [FSTDEP...], Python's DeprecationWarning).
      expect(output).not.toMatch(DEPRECATION);
    },
  };
}

async function call(base: string, method: string, path: string, body?: unknown, raw?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json: json as Record<string, unknown> | undefined, text, type: response.headers.get("content-type") ?? "" };
}

/**
 * The contract both stacks serve, over real HTTP: health with the database reachable, a CRUD round
 * trip, 422 on an invalid body and 404 on an unknown id, every error a JSON body, never a 500.
 * Returns the number of requests sent.
 */
export async function exerciseItemsApi(base: string): Promise<number> {
  let sent = 0;
  const req = async (method: string, path: string, body?: unknown, raw?: string) => {
    sent++;
    const r = await call(base, method, path, body, raw);
    expect(r.status, `${method} ${path} -> ${r.status} ${r.text}`).toBeLessThan(500);
    return r;
  };

  const health = await req("GET", "/health");
  expect(health.status).toBe(200);
  expect(health.json).toMatchObject({ status: "ok", database: "ok" });

  const created = await req("POST", "/items", { name: "first item", description: "made by the e2e test" });
  expect(created.status, created.text).toBe(201);
  expect(created.json).toMatchObject({ name: "first item", description: "made by the e2e test" });
  const id = created.json!.id as number;
  expect(typeof id).toBe("number");

  const fetched = await req("GET", `/items/${id}`);
  expect(fetched.status).toBe(200);
  expect(fetched.json).toMatchObject({ id, name: "first item" });

  const listed = await req("GET", "/items");
  expect(listed.status).toBe(200);
  expect(JSON.stringify(listed.json)).toContain("first item");

  const invalid = await req("POST", "/items", { name: 42, description: ["not", "a", "string"] });
  expect(invalid.status, invalid.text).toBe(422);
  expect(invalid.type).toMatch(/^application\/problem\+json/);

  const empty = await req("POST", "/items", { name: "" });
  expect(empty.status, empty.text).toBe(422);

  const unknown = await req("GET", "/items/987654321");
  expect(unknown.status).toBe(404);
  expect(unknown.type).toMatch(/^application\/problem\+json/);

  const deleted = await req("DELETE", `/items/${id}`);
  expect(deleted.status).toBe(204);
  const gone = await req("GET", `/items/${id}`);
  expect(gone.status).toBe(404);
  return sent;
}
