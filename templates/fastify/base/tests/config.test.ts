import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/core/config.js";

const DATABASE_URL = "postgres://user:secret@localhost:5432/app";

describe("loadConfig", () => {
  it("reads a valid environment, with defaults", () => {
    expect(loadConfig({ DATABASE_URL })).toEqual({
      env: "development",
      logLevel: "info",
      host: "127.0.0.1",
      port: 3000,
      databaseUrl: DATABASE_URL,
      dbTimeoutMs: 3000,
    });
  });

  it("prefers PORT over WEB_PORT", () => {
    expect(loadConfig({ DATABASE_URL, WEB_PORT: "4000" }).port).toBe(4000);
    expect(loadConfig({ DATABASE_URL, WEB_PORT: "4000", PORT: "5000" }).port).toBe(5000);
  });

  it.each([
    [{}, "Invalid configuration: DATABASE_URL is required"],
    [{ DATABASE_URL: "" }, "Invalid configuration: DATABASE_URL is required"],
    [{ DATABASE_URL: "mysql://u:p@h/db" }, "DATABASE_URL must be a URL like postgres://"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL must be a URL like postgres://"],
    [{ DATABASE_URL, WEB_PORT: "http" }, "WEB_PORT"],
    [{ DATABASE_URL, DB_TIMEOUT: "0" }, "DB_TIMEOUT"],
  ])("rejects %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("start-up", () => {
  it("exits 1 with one clear line when DATABASE_URL is missing", () => {
    const { DATABASE_URL: _unset, ...env } = process.env;
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("Invalid configuration: DATABASE_URL is required");
    expect(result.stdout).toBe("");
  });
});
