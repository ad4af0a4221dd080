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

async function createItem(payload: Record<string, unknown>) {
  const response = await app.inject({ method: "POST", url: "/items", payload });
  expect(response.statusCode).toBe(201);
  return response.json();
}

describe("POST /items", () => {
  it("creates an item and answers 201 with it", async () => {
    const name = uniqueName("create");
    const item = await createItem({ name, description: "first" });
    expect(item).toMatchObject({ name, description: "first" });
    expect(item.id).toBeTypeOf("number");
    expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
  });

  it("makes description optional", async () => {
    const item = await createItem({ name: uniqueName("bare") });
    expect(item.description).toBeNull();
  });

  it.each([
    ["a missing name", { description: "x" }],
    ["an empty name", { name: "" }],
    ["a name over 100 characters", { name: "n".repeat(101) }],
    ["a description over 1000 characters", { name: "ok", description: "d".repeat(1001) }],
    ["a name of the wrong type", { name: 42 }],
  ])("rejects %s with 422 JSON", async (_case, payload) => {
    const response = await app.inject({ method: "POST", url: "/items", payload });
    expect(response.statusCode).toBe(422);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 422, title: "Unprocessable Entity" });
    expect(response.json().errors.length).toBeGreaterThan(0);
  });

  it("rejects malformed JSON with 400 JSON", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/items",
      headers: { "content-type": "application/json" },
      payload: '{"name": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status: 400, title: "Bad Request" });
  });

  it("rejects a request without a body with 422", async () => {
    const response = await app.inject({ method: "POST", url: "/items" });
    expect(response.statusCode).toBe(422);
  });
});

describe("GET /items", () => {
  it("pages with limit and offset, oldest first", async () => {
    const created: { id: number }[] = [];
    for (let i = 0; i < 3; i++) created.push(await createItem({ name: uniqueName("page") }));
    const all = (await app.inject({ url: "/items?limit=100" })).json() as { id: number }[];
    const [first, second, third] = created;
    const start = all.findIndex((item) => item.id === first?.id);
    const page = await app.inject({ url: `/items?limit=2&offset=${start + 1}` });
    expect(page.statusCode).toBe(200);
    expect(page.json().map((item: { id: number }) => item.id)).toEqual([second?.id, third?.id]);
  });

  it.each(["limit=0", "limit=101", "offset=-1", "limit=abc", "limit=1e1", "limit=5&limit=6"])(
    "rejects %s with 422",
    async (qs) => {
      const response = await app.inject({ url: `/items?${qs}` });
      expect(response.statusCode).toBe(422);
    },
  );
});

describe("GET /items/:id", () => {
  it("returns the item", async () => {
    const item = await createItem({ name: uniqueName("get") });
    const response = await app.inject({ url: `/items/${item.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(item);
  });

  it("answers 404 JSON for an unknown id", async () => {
    const response = await app.inject({ url: "/items/2147483647" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ status: 404, title: "Not Found" });
  });

  it.each(["abc", "0", "1.5", "99999999999", "1e3", "0x1"])(
    "answers 422 for the id %s",
    async (id) => {
      const response = await app.inject({ url: `/items/${id}` });
      expect(response.statusCode).toBe(422);
    },
  );
});

describe("PATCH /items/:id", () => {
  it("changes only the fields given", async () => {
    const item = await createItem({ name: uniqueName("patch"), description: "before" });
    const renamed = uniqueName("renamed");
    const response = await app.inject({
      method: "PATCH",
      url: `/items/${item.id}`,
      payload: { name: renamed },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ...item, name: renamed });
  });

  it("clears the description with null", async () => {
    const item = await createItem({ name: uniqueName("clear"), description: "gone soon" });
    const response = await app.inject({
      method: "PATCH",
      url: `/items/${item.id}`,
      payload: { description: null },
    });
    expect(response.json().description).toBeNull();
  });

  it("answers 404 for an unknown id and 422 for an invalid body", async () => {
    const missing = await app.inject({
      method: "PATCH",
      url: "/items/2147483647",
      payload: { name: "x" },
    });
    expect(missing.statusCode).toBe(404);
    const item = await createItem({ name: uniqueName("invalid") });
    const invalid = await app.inject({
      method: "PATCH",
      url: `/items/${item.id}`,
      payload: { name: "" },
    });
    expect(invalid.statusCode).toBe(422);
  });
});

describe("DELETE /items/:id", () => {
  it("deletes with 204 and then answers 404", async () => {
    const item = await createItem({ name: uniqueName("delete") });
    const deleted = await app.inject({ method: "DELETE", url: `/items/${item.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe("");
    expect((await app.inject({ url: `/items/${item.id}` })).statusCode).toBe(404);
    const again = await app.inject({ method: "DELETE", url: `/items/${item.id}` });
    expect(again.statusCode).toBe(404);
  });
});

describe("the contract (docs/CONTRACT.md)", () => {
  it.each([
    ["PUT /items", "PUT", '{"name": "x"}', "application/json", 405],
    ["text/plain", "POST", '{"name": "x"}', "text/plain", 415],
    ["over 1 MiB", "POST", `{"name": "${"x".repeat(1_048_576)}"}`, "application/json", 413],
    ["truncated JSON", "POST", '{"name": ', "application/json", 400],
    ["NaN", "POST", '{"name": NaN}', "application/json", 400],
    [
      "invalid UTF-8",
      "POST",
      Buffer.from([...Buffer.from('{"name": "a'), 0xff, 0x22, 0x7d]),
      "application/json",
      400,
    ],
    ["NUL", "POST", '{"name": "a\\u0000b"}', "application/json", 422],
    ["lone surrogate", "POST", '{"name": "\\ud800"}', "application/json", 422],
  ] as const)(
    "%s: %s answers a short %d problem",
    async (_label, method, payload, type, status) => {
      const response = await app.inject({
        method,
        url: "/items",
        headers: { "content-type": type },
        payload,
      });
      expect(response.statusCode, response.body).toBe(status);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(response.json().status).toBe(status);
      expect(response.body.length).toBeLessThan(2_000);
      if (status === 405) expect(response.headers.allow).toBe("GET, HEAD, POST");
    },
  );
});

describe("OpenAPI", () => {
  it("serves the document and the docs page", async () => {
    const spec = await app.inject({ url: "/openapi.json" });
    expect(spec.statusCode).toBe(200);
    expect(Object.keys(spec.json().paths).sort()).toEqual([
      "/health",
      "/items",
      "/items/{item_id}",
    ]);
    // Every error a route answers is documented as a problem.
    const read = spec.json().paths["/items/{item_id}"].get.responses;
    expect(Object.keys(read).sort()).toEqual(["200", "400", "404", "422", "503"]);
    expect(read["404"].content).toHaveProperty(["application/problem+json"]);
    const page = await app.inject({ url: "/docs" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
  });
});
