import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, runCli, tempDir } from "../helpers/cli.js";
import { pythonCompileErrors } from "../helpers/static.js";
import { generatedSecrets } from "../helpers/secrets.js";
import { commonProjectChecks } from "./static-suite.js";
import { manifestOf, optionFlags, variantsOf } from "./variants.js";

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
  "scripts/__init__.py", "scripts/embedded_db.py",
  "sql/db.Dockerfile", "sql/init_db.sql",
  "tests/__init__.py", "tests/conftest.py", "tests/helpers.py", "tests/test_health.py", "tests/test_items.py", "tests/test_migrations.py", "tests/test_session.py",
].sort();

const manifest = await manifestOf("fastapi");
const variants = variantsOf(manifest);

describe.each(variants)("fastapi $orm on Python $python", (options) => {
  let dir: string;
  let json: { files: { path: string; mode: string; status: string }[]; next: { paths: { database: string; commands: string[] }[] }; answers: Record<string, unknown> };

  beforeAll(async () => {
    const cwd = tempDir();
    const r = await runCli(["svc-api", "--yes", "--no-install", "--json", "--stack", "fastapi", ...optionFlags(options)], { cwd });
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

  it("keeps the embedded Postgres to development: a dev dependency the image does not install, its data ignored by git and Docker", () => {
    const pyproject = readFileSync(path.join(dir, "pyproject.toml"), "utf8");
    const devGroup = pyproject.slice(pyproject.indexOf("[tool.poetry.group.dev.dependencies]"));
    expect(devGroup.slice(0, devGroup.indexOf("\n[", 1))).toMatch(/^embedded-postgres = /m);
    expect(pyproject.slice(0, pyproject.indexOf("[tool.poetry.group.dev.dependencies]"))).not.toContain("embedded-postgres");
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toMatch(/poetry install [^\n]*--only main/);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toMatch(/^\.postgres\/$/m);
    expect(readFileSync(path.join(dir, ".dockerignore"), "utf8")).toMatch(/^\.postgres\/$/m);
    // The README says where the embedded server's major differs from the one Compose runs.
    expect(readFileSync(path.join(dir, "README.md"), "utf8").includes(`(**not ${options.postgres}**`)).toBe(options.postgres !== "18");
  });

  it("compiles as Python", async () => {
    expect(await pythonCompileErrors(dir)).toBe("");
  });

  commonProjectChecks(() => ({ dir, json }), 8000);
});

describe("fastapi variants render the same for the same answers", () => {
  it("is deterministic apart from the passwords", async () => {
    const runOnce = async () => {
      const cwd = tempDir();
      await runCli(["svc-api", "--yes", "--no-install", "--no-git"], { cwd });
      const d = path.join(cwd, "svc-api");
      const secrets = generatedSecrets(d);
      return Object.fromEntries(listTree(d).map((f) => [f, secrets.reduce((text, s) => text.split(s).join("<secret>"), readFileSync(path.join(d, f), "utf8"))]));
    };
    expect(await runOnce()).toEqual(await runOnce());
  });
});
