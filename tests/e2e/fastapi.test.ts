import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers/cli.js";
import { freePort } from "../helpers/standins.js";
import { CI, dropDatabaseAndRole, expectSecretKept, missingPrerequisites, psql, sh, Timings, uniqueDbNames } from "./harness.js";
import { ServiceUnderTest } from "./abuse.js";
import { startServer } from "./http.js";
import { expectAwkwardPasswordWorks, expectInitDbKeepsData, expectLeastPrivilege, makeDb, PasswordPostgres } from "./database.js";

// Poetry runs through a wrapper that falls back to the Simple API where an index does not serve
// PyPI's per-release JSON (see scripts/support/poetry_simple_api.py); the install itself is Poetry's own.
process.env.PATH = `${path.join(import.meta.dirname, "..", "..", "scripts", "support", "bin")}:${process.env.PATH}`;

const missing = await missingPrerequisites([
  { name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" },
  { name: "make", check: ["make", "--version"], how: "`apt-get install make`" },
]);
if (missing.length > 0) {
  // In CI the e2e tier may never skip: fail loudly with what to install or start.
  if (CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
  console.warn(`Skipping the FastAPI e2e tier:\n${missing.join("\n")}`);
}

// The generated .python-version pins the interpreter (pyenv honours it), so generate for the
// Python this machine has; the other --python values are covered by the static checks.
const machinePython = (await sh("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { cwd: "/" })).trim();

const timings = new Timings();
afterAll(() => timings.print("FastAPI e2e step times"));
let passwordServer: PasswordPostgres | undefined;
beforeAll(async () => {
  if (missing.length === 0) passwordServer = await PasswordPostgres.start();
});
afterAll(() => passwordServer?.stop());

describe.skipIf(missing.length > 0).each(["sqlalchemy", "sqlmodel"])("fastapi with %s", (orm) => {
  const { dbName, dbUser } = uniqueDbNames(orm.slice(0, 6));
  const variant = `fastapi ${orm}`;
  let dir = "";
  // Poetry's virtualenv goes inside the temporary project, so nothing leaks between runs.
  const env = { POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_NO_INTERACTION: "1", PYTHONDONTWRITEBYTECODE: "1" };
  const poetry = (args: string[]) => sh("poetry", args, { cwd: dir, env });

  const service = new ServiceUnderTest(variant, async () => Number(await psql(["-c", "SELECT count(*) FROM items"], dir, dbName)));

  beforeAll(() => dropDatabaseAndRole(dbName, dbUser));
  afterAll(async () => {
    await service.teardown();
    await dropDatabaseAndRole(dbName, dbUser);
  });

  it("1. generates with the built CLI (--yes), installing with Poetry and committing with git for real", async () => {
    const cwd = tempDir("svc-e2e-");
    const r = await timings.time(variant, "generate+install+git", () =>
      runCli(["svc-e2e", "--yes", "--json", "--stack", "fastapi", "--orm", orm, "--python", machinePython, "--db-name", dbName, "--db-user", dbUser], { cwd, env, timeout: 600_000 }));
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    const steps = JSON.parse(r.stdout).steps as { name: string; status: string }[];
    expect(steps.map((s) => `${s.name}:${s.status}`)).toEqual(["install:ok", "git:ok"]);
    dir = path.join(cwd, "svc-e2e");
    await expectSecretKept(dir, r.stdout + r.stderr);
  });

  it("2. the shipped poetry.lock matches pyproject.toml and the virtualenv is complete", async () => {
    await poetry(["check", "--lock"]);
    const packages = await poetry(["run", "python", "-c", "import fastapi, sqlalchemy, asyncpg, alembic, pytest; print('ok')"]);
    expect(packages.trim()).toBe("ok");
  });

  it("3. `make db` applies sql/init_db.sql: the database and a least-privilege role with the password from .env", async () => {
    await timings.time(variant, "make db", () => makeDb(dir, env));
    await expectLeastPrivilege(dir, dbName, dbUser);
  });

  it("4. alembic upgrade head, downgrade base and upgrade head again; `make db` again keeps the data", async () => {
    const hasItems = () => psql(["-c", "SELECT to_regclass('public.items') IS NOT NULL"], dir, dbName);
    await timings.time(variant, "migrations", async () => {
      await poetry(["run", "alembic", "upgrade", "head"]);
      expect(await hasItems()).toBe("t");
      await poetry(["run", "alembic", "downgrade", "base"]);
      expect(await hasItems()).toBe("f");
      await poetry(["run", "alembic", "upgrade", "head"]);
      expect(await hasItems()).toBe("t");
    });
    await expectInitDbKeepsData(dir, dbName, dbUser, env);
  });

  it("5. the project's own tests pass with `make test`", async () => {
    const out = await timings.time(variant, "make test", () => sh("make", ["test"], { cwd: dir, env }));
    expect(out).toMatch(/\d+ passed/);
    expect(out).not.toMatch(/\d+ (failed|error)/);
  });

  it("6. ruff check, ruff format --check and mypy (strict) are clean", async () => {
    await timings.time(variant, "ruff+mypy", async () => {
      await poetry(["run", "ruff", "check", "."]);
      await poetry(["run", "ruff", "format", "--check", "."]);
      await poetry(["run", "mypy", "app"]);
    });
  });

  it("7. boots with uvicorn, /health reports the database, CRUD over HTTP, 422 and 404 as JSON", async () => {
    const port = await freePort();
    // The app reaches Postgres through a relay the test can cut (step 9); the environment wins over .env.
    await timings.time(variant, "boot+http", () => service.bootAndExercise((dbPort) =>
      startServer(path.join(dir, ".venv", "bin", "uvicorn"), ["app.main:app", "--host", "127.0.0.1", "--port", String(port)], {
        cwd: dir, env: { ...process.env, ...env, DB_PORT: String(dbPort) } as Record<string, string>, port,
      })));
  });

  it("8. bad input is a 4xx JSON error, never a 500, and the table holds exactly what valid requests wrote", async () => {
    await timings.time(variant, "bad input", () => service.badInput());
  });

  it("9. with the database gone /health answers 503 JSON and the process stays up; it recovers by itself", async () => {
    await service.outageAndStop();
  });

  it("10. with a password holding @:/%#? on a server that checks it: `make db`, `make migrate` and `make test` connect", async () => {
    await timings.time(variant, "awkward password", () =>
      expectAwkwardPasswordWorks(dir, passwordServer!, dbName, dbUser, [["make", "migrate"], ["make", "test"]], env));
  });
});
