import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, runCli, tempDir } from "../helpers/cli.js";
import { composeErrors, finalUser, hadolintErrors, missingCopySources, pythonCompileErrors } from "../helpers/static.js";
import { manifestOf, optionFlags, variantName, variantsOf } from "./variants.js";

/** The tree every FastAPI project has: the documented layout plus dotfiles and the record. */
const FASTAPI_TREE = [
  ".dockerignore", ".env", ".env.example", ".gitignore", ".python-version", ".svc-app.json",
  "Dockerfile", "Makefile", "README.md", "alembic.ini", "docker-compose.yml", "poetry.lock", "pyproject.toml",
  "app/__init__.py", "app/main.py",
  "app/api/__init__.py", "app/api/deps.py", "app/api/health.py", "app/api/items.py", "app/api/router.py",
  "app/core/__init__.py", "app/core/config.py", "app/core/logger.py",
  "app/db/__init__.py", "app/db/base.py", "app/db/session.py",
  "app/db/migrations/env.py", "app/db/migrations/script.py.mako", "app/db/migrations/versions/0001_create_items.py",
  "app/models/__init__.py", "app/models/item.py",
  "app/schema/__init__.py", "app/schema/item.py",
  "app/services/__init__.py", "app/services/items.py",
  "sql/db.Dockerfile", "sql/init_db.sql",
  "tests/__init__.py", "tests/conftest.py", "tests/helpers.py", "tests/test_health.py", "tests/test_items.py", "tests/test_migrations.py", "tests/test_session.py",
].sort();

const manifest = await manifestOf("fastapi");
const variants = variantsOf(manifest);

describe.each(variants)("fastapi $orm on Python $python", (options) => {
  let dir: string;
  let json: { files: { path: string; mode: string; status: string }[]; next: string[]; answers: Record<string, unknown> };

  beforeAll(async () => {
    const cwd = tempDir();
    const r = await runCli(["svc-api", "--yes", "--no-install", "--no-git", "--json", "--stack", "fastapi", ...optionFlags(options)], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    dir = path.join(cwd, "svc-api");
  });

  it("writes exactly the declared tree and reports it in --json", () => {
    expect(listTree(dir)).toEqual(FASTAPI_TREE);
    expect(json.files.map((f) => f.path).sort()).toEqual(FASTAPI_TREE);
    expect(json.files.every((f) => f.status === "created")).toBe(true);
    expect(json.answers).toMatchObject({ name: "svc-api", stack: "fastapi", options, dbName: "svc_api", dbUser: "svc_api_user" });
  });

  it("pins the runtime version where it matters and keeps the supported floor", () => {
    expect(readFileSync(path.join(dir, ".python-version"), "utf8").trim()).toBe(options.python);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toContain(`FROM python:${options.python}-slim`);
    const pyproject = readFileSync(path.join(dir, "pyproject.toml"), "utf8");
    expect(pyproject).toMatch(/requires-python = ">=3\.11/);
    expect(pyproject).toContain(`target-version = "py${options.python!.replace(".", "")}"`);
    expect(pyproject.includes("sqlmodel")).toBe(options.orm === "sqlmodel");
  });

  it("keeps the password in .env (0600) and init_db.sql only, and never ships .env in the image", () => {
    const env = readFileSync(path.join(dir, ".env"), "utf8");
    const password = /^DB_PASSWORD=(.+)$/m.exec(env)?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(statSync(path.join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, "sql/init_db.sql"), "utf8")).toContain(`PASSWORD '${password}'`);
    for (const f of listTree(dir).filter((p) => ![".env", "sql/init_db.sql"].includes(p))) {
      expect(readFileSync(path.join(dir, f), "utf8"), f).not.toContain(password);
    }
    expect(JSON.stringify(json)).not.toContain(password);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toMatch(/^\.env$/m);
    expect(readFileSync(path.join(dir, ".dockerignore"), "utf8")).toMatch(/^\.env$/m);
  });

  it("compiles as Python", async () => {
    expect(await pythonCompileErrors(dir)).toBe("");
  });

  it("has a docker-compose.yml valid against the Compose schema, on loopback ports", () => {
    expect(composeErrors(path.join(dir, "docker-compose.yml"))).toEqual([]);
    const compose = readFileSync(path.join(dir, "docker-compose.yml"), "utf8");
    expect(compose).toContain('"127.0.0.1:${WEB_PORT:-8000}:8000"');
    expect(compose).toContain('"127.0.0.1:${DB_PORT:-5432}:5432"');
    expect(compose).toMatch(/condition: service_healthy/);
  });

  it("has Dockerfiles without lint errors, a non-root final user and existing COPY sources", async () => {
    for (const [file, context] of [["Dockerfile", "."], ["sql/db.Dockerfile", "sql"]] as const) {
      const lint = await hadolintErrors(path.join(dir, file));
      expect(lint.errors, file).toEqual([]);
      expect(missingCopySources(path.join(dir, file), path.join(dir, context)), file).toEqual([]);
    }
    // The final stage runs as app-user, by name or by its uid/gid 1001, which the image creates.
    expect(["app-user", "app-user:app-user", "1001", "1001:1001"]).toContain(finalUser(path.join(dir, "Dockerfile")));
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toMatch(/(useradd|adduser)[^\n]*--uid 1001[^\n]*app-user/);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).not.toMatch(/COPY[^\n]*\.env\b/);
  });
});

describe("fastapi variants render the same for the same answers", () => {
  it(`is deterministic apart from the password (${variantName(variants[0]!)})`, async () => {
    const runOnce = async () => {
      const cwd = tempDir();
      await runCli(["svc-api", "--yes", "--no-install", "--no-git"], { cwd });
      const d = path.join(cwd, "svc-api");
      const password = /^DB_PASSWORD=(.+)$/m.exec(readFileSync(path.join(d, ".env"), "utf8"))![1]!;
      return Object.fromEntries(listTree(d).map((f) => [f, readFileSync(path.join(d, f), "utf8").split(password).join("<secret>")]));
    };
    expect(await runOnce()).toEqual(await runOnce());
  });
});
