import { readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { expect } from "vitest";

/**
 * The API contract of templates/CONTRACT.md as one table: a request and what every stack and ORM
 * must answer. It runs unchanged against every booted variant, so a stack that answers
 * differently fails here. `{id}` is an item that exists, `{missing}` one that does not.
 */
export interface ConformanceCase {
  name: string;
  method: string;
  path: string;
  /** A string is sent as UTF-8; a Buffer byte for byte. */
  body?: string | Buffer;
  /** Content-Type of the body; application/json when a body is given and this is not. */
  type?: string | null;
  status: number;
  /** For 4xx/5xx: fields the problem's `errors` must name. */
  fields?: string[];
  allow?: string;
}

const MISSING = "987654321";
const json = (value: unknown) => JSON.stringify(value);
const nested = (depth: number) => `{"name":"deep","description":${"[".repeat(depth)}${"]".repeat(depth)}}`;
const astral = "\u{1F600}"; // one code point, two UTF-16 units: lengths count code points

export const CONFORMANCE: ConformanceCase[] = [
  // Routes and methods
  { name: "unknown route", method: "GET", path: "/nope", status: 404 },
  { name: "trailing slash is another path", method: "GET", path: "/items/", status: 404 },
  { name: "path below an item", method: "GET", path: "/items/{id}/extra", status: 404 },
  { name: "POST /health", method: "POST", path: "/health", status: 405, allow: "GET, HEAD" },
  { name: "PUT /items", method: "PUT", path: "/items", body: json({ name: "x" }), status: 405, allow: "GET, HEAD, POST" },
  { name: "DELETE /items", method: "DELETE", path: "/items", status: 405, allow: "GET, HEAD, POST" },
  { name: "PUT /items/{id}", method: "PUT", path: "/items/{id}", body: json({ name: "x" }), status: 405, allow: "DELETE, GET, HEAD, PATCH" },
  { name: "POST /items/{id}", method: "POST", path: "/items/{id}", body: json({ name: "x" }), status: 405, allow: "DELETE, GET, HEAD, PATCH" },
  { name: "OPTIONS /items", method: "OPTIONS", path: "/items", status: 405, allow: "GET, HEAD, POST" },
  { name: "HEAD /items", method: "HEAD", path: "/items", status: 200 },
  { name: "HEAD /items/{id}", method: "HEAD", path: "/items/{id}", status: 200 },
  { name: "HEAD of a missing item", method: "HEAD", path: `/items/${MISSING}`, status: 404 },
  // Ids: decimal digits in the range of a Postgres integer, nothing else
  { name: "missing id", method: "GET", path: `/items/${MISSING}`, status: 404 },
  { name: "DELETE missing id", method: "DELETE", path: `/items/${MISSING}`, status: 404 },
  { name: "PATCH missing id", method: "PATCH", path: `/items/${MISSING}`, body: json({ name: "x" }), status: 404 },
  ...["abc", "0", "-1", "1.5", "1e3", "0x1", "Infinity", "NaN", "2147483648", "99999999999999999999", "%2B1", "%201", "1%00"].map(
    (id): ConformanceCase => ({ name: `id ${decodeURIComponent(id)}`, method: "GET", path: `/items/${id}`, status: 422, fields: ["path.item_id"] }),
  ),
  { name: "id with invalid percent-encoding", method: "GET", path: "/items/%FF", status: 400 },
  // Query parameters: the same bounds, canonical numbers, one value per key
  ...["limit=0", "limit=101", "limit=abc", "limit=1e1", "limit=", "limit=5&limit=6"].map(
    (q): ConformanceCase => ({ name: `query ${q}`, method: "GET", path: `/items?${q}`, status: 422, fields: ["query.limit"] }),
  ),
  ...["offset=-1", "offset=2147483648", "offset=0x10"].map(
    (q): ConformanceCase => ({ name: `query ${q}`, method: "GET", path: `/items?${q}`, status: 422, fields: ["query.offset"] }),
  ),
  { name: "unknown query keys are ignored", method: "GET", path: "/items?colour=red", status: 200 },
  { name: "limit at its bound", method: "GET", path: "/items?limit=100&offset=0", status: 200 },
  // Bodies: JSON text first (400), then media type (415), then size (413), then schema (422)
  { name: "truncated JSON", method: "POST", path: "/items", body: '{"name": ', status: 400 },
  { name: "not JSON", method: "POST", path: "/items", body: "not json", status: 400 },
  { name: "single quotes", method: "POST", path: "/items", body: "{'name': 'x'}", status: 400 },
  { name: "two documents", method: "POST", path: "/items", body: '{"name":"x"}{"name":"y"}', status: 400 },
  { name: "NaN", method: "POST", path: "/items", body: '{"name": NaN}', status: 400 },
  { name: "Infinity", method: "POST", path: "/items", body: '{"name": "x", "description": Infinity}', status: 400 },
  { name: "invalid UTF-8", method: "POST", path: "/items", body: Buffer.from([...Buffer.from('{"name":"a'), 0xff, 0xfe, ...Buffer.from('b"}')]), status: 400 },
  { name: "UTF-8 encoded surrogate", method: "POST", path: "/items", body: Buffer.from([...Buffer.from('{"name":"a'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]), status: 400 },
  { name: "byte order mark", method: "POST", path: "/items", body: `\ufeff${json({ name: "bom" })}`, status: 400 },
  { name: "nested too deep", method: "POST", path: "/items", body: nested(100), status: 400 },
  { name: "text/plain", method: "POST", path: "/items", body: json({ name: "x" }), type: "text/plain", status: 415 },
  { name: "form encoding", method: "POST", path: "/items", body: "name=x", type: "application/x-www-form-urlencoded", status: 415 },
  { name: "JSON in Latin-1", method: "POST", path: "/items", body: json({ name: "x" }), type: "application/json; charset=latin1", status: 415 },
  { name: "body without a media type", method: "POST", path: "/items", body: json({ name: "x" }), type: null, status: 415 },
  { name: "DELETE with a text/plain body", method: "DELETE", path: `/items/${MISSING}`, body: "x", type: "text/plain", status: 415 },
  { name: "DELETE with a malformed JSON body", method: "DELETE", path: `/items/${MISSING}`, body: "{x", status: 400 },
  { name: "GET with a body (ignored)", method: "GET", path: `/items/${MISSING}`, body: "{x", status: 404 },
  { name: "PATCH as text/plain", method: "PATCH", path: "/items/{id}", body: json({ name: "x" }), type: "text/plain", status: 415 },
  { name: "body over 1 MiB", method: "POST", path: "/items", body: json({ name: "x".repeat(1024 * 1024) }), status: 413 },
  { name: "NUL in a string", method: "POST", path: "/items", body: '{"name": "a\\u0000b"}', status: 422, fields: ["body.name"] },
  { name: "lone surrogate", method: "POST", path: "/items", body: '{"name": "\\ud800x"}', status: 422, fields: ["body.name"] },
  { name: "lone low surrogate", method: "POST", path: "/items", body: '{"name": "ok", "description": "x\\udc00"}', status: 422, fields: ["body.description"] },
  { name: "1e400 for a string", method: "POST", path: "/items", body: '{"name": 1e400}', status: 422, fields: ["body.name"] },
  { name: "array body", method: "POST", path: "/items", body: "[]", status: 422, fields: ["body"] },
  { name: "null body", method: "POST", path: "/items", body: "null", status: 422, fields: ["body"] },
  { name: "empty JSON body", method: "POST", path: "/items", body: "", status: 422, fields: ["body"] },
  { name: "no body at all", method: "POST", path: "/items", type: null, status: 422, fields: ["body"] },
  { name: "name missing", method: "POST", path: "/items", body: json({}), status: 422, fields: ["body.name"] },
  { name: "empty name", method: "POST", path: "/items", body: json({ name: "" }), status: 422, fields: ["body.name"] },
  { name: "name of 101 characters", method: "POST", path: "/items", body: json({ name: "x".repeat(101) }), status: 422, fields: ["body.name"] },
  { name: "name of 101 astral characters", method: "POST", path: "/items", body: json({ name: astral.repeat(101) }), status: 422, fields: ["body.name"] },
  { name: "name null", method: "POST", path: "/items", body: json({ name: null }), status: 422, fields: ["body.name"] },
  { name: "name a number", method: "POST", path: "/items", body: json({ name: 42 }), status: 422, fields: ["body.name"] },
  { name: "description a number", method: "POST", path: "/items", body: json({ name: "ok", description: 5 }), status: 422, fields: ["body.description"] },
  { name: "description of 1001 characters", method: "POST", path: "/items", body: json({ name: "ok", description: "d".repeat(1001) }), status: 422, fields: ["body.description"] },
  { name: "unknown field", method: "POST", path: "/items", body: json({ name: "ok", extra: 1 }), status: 422, fields: ["body.extra"] },
  { name: "PATCH name null", method: "PATCH", path: "/items/{id}", body: json({ name: null }), status: 422, fields: ["body.name"] },
  { name: "PATCH unknown field id", method: "PATCH", path: "/items/{id}", body: json({ id: 5 }), status: 422, fields: ["body.id"] },
  // What is valid is accepted, whatever its characters
  { name: "description null", method: "POST", path: "/items", body: json({ name: "ok", description: null }), status: 201 },
  { name: "charset=utf-8", method: "POST", path: "/items", body: json({ name: "utf8" }), type: "application/json; charset=utf-8", status: 201 },
  { name: "name of 100 astral characters", method: "POST", path: "/items", body: json({ name: astral.repeat(100) }), status: 201 },
  { name: "empty PATCH changes nothing", method: "PATCH", path: "/items/{id}", body: json({}), status: 200 },
];

/** Text a client may send: stored and answered exactly as it was sent, in every stack. */
export const EXACT_TEXT = ["plain", "h\u00e9llo w\u00f6rld \u2713", `${astral} e\u0301 \u2028\u2029 \u202eRTL`, "'; DROP TABLE items; --", "tab\tnew\nline", "\\x00'\"`"];

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** One raw HTTP request: no client-side normalisation of the path, the body or its headers. */
export function rawRequest(base: string, method: string, path: string, body?: string | Buffer, type?: string | null): Promise<Answer> {
  const url = new URL(base);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const headers: Record<string, string> = {};
  if (payload !== undefined) headers["content-length"] = String(payload.length);
  const contentType = type === undefined ? (payload !== undefined ? "application/json" : undefined) : type;
  if (contentType) headers["content-type"] = contentType;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    // A server may answer 413 before reading the whole body and close: that is an answer.
    req.on("error", reject);
    req.end(payload);
  });
}

/** The problem details every error answer must be, whatever the stack. */
export function expectProblem(answer: Answer, status: number, label: string, fields: string[] = []): void {
  expect(answer.status, `${label}: ${answer.text.slice(0, 300)}`).toBe(status);
  expect(answer.headers["content-type"], label).toMatch(/^application\/problem\+json/);
  expect(answer.text.length, `${label}: an error echoes no more than a short excerpt`).toBeLessThan(2_000);
  const problem = JSON.parse(answer.text) as Record<string, unknown>;
  expect(problem, label).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  if (status === 422) {
    const errors = problem.errors as { field: unknown; reason: unknown }[];
    expect(Array.isArray(errors) && errors.length > 0, `${label}: 422 lists its errors`).toBe(true);
    for (const e of errors) expect(e, label).toMatchObject({ field: expect.any(String), reason: expect.any(String) });
    const named = errors.map((e) => e.field);
    for (const field of fields) expect(named, `${label}: errors name ${field}`).toContain(field);
  }
}

/** Runs the table against a booted service. Returns the number of requests sent. */
export async function checkConformance(base: string): Promise<number> {
  let sent = 0;
  const send = (method: string, path: string, body?: string | Buffer, type?: string | null) => {
    sent++;
    return rawRequest(base, method, path, body, type);
  };
  const created = await send("POST", "/items", json({ name: "conformance", description: "the {id} of the table" }));
  expect(created.status, created.text).toBe(201);
  const id = String((JSON.parse(created.text) as { id: number }).id);
  const failures: string[] = [];
  for (const c of CONFORMANCE) {
    const label = `${c.name}: ${c.method} ${c.path}`;
    try {
      const answer = await send(c.method, c.path.replace("{id}", id), c.body, c.type);
      if (c.status >= 400 && c.method !== "HEAD") expectProblem(answer, c.status, label, c.fields);
      else expect(answer.status, `${label}: ${answer.text.slice(0, 300)}`).toBe(c.status);
      if (c.method === "HEAD") expect(answer.text, label).toBe("");
      if (c.allow) expect(answer.headers.allow, label).toBe(c.allow);
    } catch (error) {
      failures.push((error as Error).message.split("\n")[0]!);
    }
  }
  // Stored exactly as sent, read back the same.
  for (const text of EXACT_TEXT) {
    const made = await send("POST", "/items", json({ name: text.slice(0, 100), description: text }));
    if (made.status !== 201) {
      failures.push(`exact text ${JSON.stringify(text)}: POST -> ${made.status} ${made.text.slice(0, 200)}`);
      continue;
    }
    const back = JSON.parse((await send("GET", `/items/${(JSON.parse(made.text) as { id: number }).id}`)).text) as { name: string; description: string };
    if (back.name !== text.slice(0, 100) || back.description !== text) failures.push(`exact text ${JSON.stringify(text)} came back as ${JSON.stringify(back)}`);
  }
  expect(failures, `conformance failures:\n${failures.join("\n")}`).toEqual([]);
  // The same paging default and bounds, as documented.
  const openapi = await send("GET", "/openapi.json");
  expect(openapi.status).toBe(200);
  const list = (JSON.parse(openapi.text) as { paths: Record<string, Record<string, { parameters?: { name: string; schema: Record<string, unknown> }[] }>> }).paths["/items"]!.get!;
  const limit = list.parameters?.find((p) => p.name === "limit")?.schema;
  expect(limit, "limit is documented with its default and bounds").toMatchObject({ default: 50, minimum: 1, maximum: 100 });
  return sent;
}

/** Test cases schemathesis generates per operation (6 operations; coverage and stateful phases add more). */
export const SCHEMATHESIS_EXAMPLES = 30;

/**
 * How long a request may take to answer 503 during an outage: DB_TIMEOUT from the project's .env
 * twice (waiting for a pooled connection, then for the database), plus 1.5 s of slack for a
 * loaded machine.
 */
export function outageBoundMs(projectDir: string): number {
  const seconds = Number(/^DB_TIMEOUT=(.+)$/m.exec(readFileSync(path.join(projectDir, ".env"), "utf8"))?.[1]);
  if (!(seconds > 0)) throw new Error(`no DB_TIMEOUT in ${projectDir}/.env`);
  return seconds * 2_000 + 1_500;
}
