import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, databaseUrl, loadConfig } from "../src/core/config.js";

const DB = { DB_NAME: "app", DB_USER: "user", DB_PASSWORD: "secret" };

describe("loadConfig", () => {
  it("reads a valid environment, with defaults", () => {
    expect(loadConfig(DB)).toEqual({
      env: "development",
      logLevel: "info",
      host: "127.0.0.1",
      port: 3000,
      databaseUrl: "postgres://user:secret@localhost:5432/app",
      dbTimeoutMs: 3000,
    });
  });

  it("prefers PORT over WEB_PORT", () => {
    expect(loadConfig({ ...DB, WEB_PORT: "4000" }).port).toBe(4000);
    expect(loadConfig({ ...DB, WEB_PORT: "4000", PORT: "5000" }).port).toBe(5000);
  });

  it.each([
    [
      {},
      "Invalid configuration: DB_NAME is required; DB_USER is required; DB_PASSWORD is required",
    ],
    [{ ...DB, DB_PASSWORD: "" }, "Invalid configuration: DB_PASSWORD is required"],
    [{ ...DB, DB_NAME: "  " }, "Invalid configuration: DB_NAME is required"],
    [{ ...DB, DB_PORT: "postgres" }, "DB_PORT"],
    [{ ...DB, WEB_PORT: "http" }, "WEB_PORT"],
    [{ ...DB, DB_TIMEOUT: "0" }, "DB_TIMEOUT"],
    // The embedded Postgres is started by make, which hands the app its real address.
    [{ ...DB, DB_HOST: "embedded" }, "DB_HOST is `embedded`: run through make"],
  ])("rejects %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("databaseUrl", () => {
  it("keeps any password intact: the URL parses back to exactly the parts it was built from", () => {
    const password = "p@ss:w/rd%41#frag?q=1 &é'\"";
    const url = new URL(
      databaseUrl({ host: "db", port: 5433, name: "app", user: "u@x", password }),
    );
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(decodeURIComponent(url.username)).toBe("u@x");
    expect([url.hostname, url.port, url.pathname, url.search, url.hash]).toEqual([
      "db",
      "5433",
      "/app",
      "",
      "",
    ]);
  });
});

describe("start-up", () => {
  it("exits 1 with one clear line when DB_PASSWORD is missing", () => {
    // DB_HOST as a real host: with DB_HOST=embedded in .env, the environment of the tests has it.
    const { DB_PASSWORD: _unset, ...env } = { ...process.env, ...DB, DB_HOST: "localhost" };
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("Invalid configuration: DB_PASSWORD is required");
    expect(result.stdout).toBe("");
  });
});
