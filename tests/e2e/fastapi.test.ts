import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers/cli.js";
import { manifestNamed, verifyCommands } from "../helpers/expected.js";
import { variantName } from "../../src/templates/variants.js";
import { optionFlags } from "../cli/variants.js";
import { freePort } from "../helpers/standins.js";
import { CI, dropDatabaseAndRole, e2eVariants, expectSecretKept, fullContract, missingPrerequisites, psql, sh, Timings, uniqueDbNames } from "./harness.js";
import { contractSteps, ServiceUnderTest } from "./abuse.js";
import { startServer } from "./http.js";
import { expectAwkwardPasswordWorks, expectInitDbKeepsData, expectLeastPrivilege, makeDb, PasswordPostgres } from "./database.js";
import { checkJobsContract, QueueUnderTest, queueOutageBoundMs, startWorker } from "./jobs-contract.js";
import { observabilityStep, OtlpReceiver } from "./obs-contract.js";

// Poetry runs through a wrapper that falls back to the Simple API where an index does not serve
// PyPI's per-release JSON (see scripts/support/poetry_simple_api.py); the install itself is Poetry's own.
process.env.PATH = `${path.join(import.meta.dirname, "..", "..", "scripts", "support", "bin")}:${process.env.PATH}`;

const missing = await missingPrerequisites([
  { name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" },
  { name: "uv", check: ["uv", "--version"], how: "`pip install uv` in a virtualenv of its own, linked onto PATH (see .ci/run)" },
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

// Every value of every option at least once, and each shipped lock (ORM x package manager), on
// the machine's Python (e2eVariants).
const manifest = manifestNamed("fastapi");
const pinned = { python: machinePython };
const variants = e2eVariants(manifest, pinned);

/** How each package manager proves its lock matches pyproject.toml, without changing either. */
const LOCK_CHECK: Record<string, string[]> = { poetry: ["check", "--lock"], uv: ["lock", "--check"] };

describe.skipIf(missing.length > 0).each(variants.map((o) => [variantName(o), o] as const))("fastapi %s", (_name, options) => {
  const { dbName, dbUser } = uniqueDbNames(Object.values(options).join("").replace(/[^a-z0-9]/g, "").slice(0, 8));
  const variant = `fastapi ${variantName(options)}`;
  const full = fullContract(manifest, variants, options, pinned);
  const verify = (step: Parameters<typeof verifyCommands>[2]) => verifyCommands(manifest, options, step);
  let dir = "";
  // The virtualenv goes inside the temporary project (uv's default; Poetry told so), so nothing leaks between runs.
  const env = { POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_NO_INTERACTION: "1", PYTHONDONTWRITEBYTECODE: "1" };
  const tool = String(options.pm ?? "poetry");
  const pm = (args: string[]) => sh(tool, args, { cwd: dir, env });

  const service = new ServiceUnderTest(variant, { dbName, dbUser }, async () => Number(await psql(["-c", "SELECT count(*) FROM items"], dir, dbName)));
  // The worker feature: a queue of this variant's own on the machine's Redis (jobs-contract.ts).
  const queue = Array.isArray(options.features) && options.features.includes("worker") ? new QueueUnderTest() : undefined;
  // The metrics and otel features (obs-contract.ts): an OTLP receiver the service exports to from its boot on.
  const hasFeature = (name: string) => Array.isArray(options.features) && options.features.includes(name);
  const receiver = hasFeature("otel") ? new OtlpReceiver() : undefined;
  const otelEnv = async () => (receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.port ? receiver.endpoint : await receiver.start(), OTEL_BSP_SCHEDULE_DELAY: "200" } : {});

  beforeAll(() => dropDatabaseAndRole(dbName, dbUser));
  afterAll(async () => {
    await service.teardown();
    await queue?.teardown();
    await receiver?.stop();
    await dropDatabaseAndRole(dbName, dbUser);
    // The generated project (with its virtualenv or node_modules) goes too.
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it(`1. generates with the built CLI (--yes), installing with ${tool} and committing with git for real`, async () => {
    const cwd = tempDir("svc-e2e-");
    const r = await timings.time(variant, "generate+install+git", () =>
      runCli(["svc-e2e", "--yes", "--json", "--stack", "fastapi", ...optionFlags(options), "--db-name", dbName, "--db-user", dbUser], { cwd, env, timeout: 600_000 }));
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    const steps = JSON.parse(r.stdout).steps as { name: string; status: string }[];
    expect(steps.map((s) => `${s.name}:${s.status}`)).toEqual(["install:ok", "git:ok"]);
    dir = path.join(cwd, "svc-e2e");
    await expectSecretKept(dir, r.stdout + r.stderr);
  });

  it(`2. the shipped ${tool}.lock matches pyproject.toml and the virtualenv is complete`, async () => {
    await pm(LOCK_CHECK[tool]!);
    const packages = await pm(["run", "python", "-c", "import fastapi, pytest, app.main; print('ok')"]);
    expect(packages.trim()).toBe("ok");
  });

  it("3. `make db` applies sql/init_db.sql: the database and a least-privilege role with the password from .env", async () => {
    await timings.time(variant, "make db", () => makeDb(dir, env));
    await expectLeastPrivilege(dir, dbName, dbUser);
  });

  it("4. the manifest's migrate commands create the schema; migrate-down drops it; migrate again; `make db` again keeps the data", async () => {
    const hasItems = () => psql(["-c", "SELECT to_regclass('public.items') IS NOT NULL"], dir, dbName);
    const runAll = async (argvs: string[][]) => {
      for (const [file, ...args] of argvs) await sh(file!, args, { cwd: dir, env });
    };
    expect(verify("migrate").length, "the manifest's verify list has no migrate command").toBeGreaterThan(0);
    await timings.time(variant, "migrations", async () => {
      await runAll(verify("migrate"));
      expect(await hasItems()).toBe("t");
      if (verify("migrate-down").length === 0) return;
      await runAll(verify("migrate-down"));
      expect(await hasItems()).toBe("f");
      await runAll(verify("migrate"));
      expect(await hasItems()).toBe("t");
    });
    await expectInitDbKeepsData(dir, dbName, dbUser, env);
  });

  it("5. the project's own tests pass (the manifest's test commands)", async () => {
    expect(verify("test").length, "the manifest's verify list has no test command").toBeGreaterThan(0);
    for (const [file, ...args] of verify("test")) {
      const out = await timings.time(variant, file === "make" ? `make ${args.join(" ")}` : "test", () => sh(file!, args, { cwd: dir, env }));
      expect(out).toMatch(/\d+ passed/);
      expect(out).not.toMatch(/\d+ (failed|error)/);
    }
  });

  it("6. the manifest's lint commands are clean (ruff check, ruff format --check, mypy strict)", async () => {
    await timings.time(variant, "lint", async () => {
      for (const [file, ...args] of verify("lint")) await sh(file!, args, { cwd: dir, env });
    });
  });

  it("7. boots with uvicorn, /health reports the database, CRUD over HTTP, 422 and 404 as JSON", async () => {
    const port = await freePort();
    // The app reaches Postgres through a relay the test can cut (step 9); the environment wins over .env.
    await timings.time(variant, "boot+http", () => service.bootAndExercise(async (dbPort) =>
      startServer(path.join(dir, ".venv", "bin", "uvicorn"), ["app.main:app", "--host", "127.0.0.1", "--port", String(port)], {
        cwd: dir, env: { ...process.env, ...env, DB_PORT: String(dbPort), ...(await queue?.serviceEnv()), ...(await otelEnv()) } as Record<string, string>, port,
      })));
  });

  it("8. bad input is a 4xx JSON error, never a 500, and the table holds exactly what valid requests wrote", async () => {
    await timings.time(variant, "bad input", () => service.badInput());
  });

  if (queue) it("8b. the job queue: its table, jobs run by `make worker` (one succeeds, one fails after 3 attempts), Redis refused and unresponsive: 503 in time", async () => {
    service.report.jobs = await timings.time(variant, "jobs", () => checkJobsContract(service.server!.base, queue, {
      boundMs: queueOutageBoundMs(dir),
      startWorker: () => startWorker(["make", "worker"], { cwd: dir, env: { ...process.env, ...env, ...queue.workerEnv() } as Record<string, string> }),
    }));
  });

  // A second instance reaches Redis directly (the queue's relay serves the first one).
  observabilityStep("8c", service, timings, {
    metrics: hasFeature("metrics"),
    receiver,
    serve: async (extra) => {
      const port = await freePort();
      return startServer(path.join(dir, ".venv", "bin", "uvicorn"), ["app.main:app", "--host", "127.0.0.1", "--port", String(port)], {
        cwd: dir, env: { ...process.env, ...env, ...queue?.workerEnv(), ...extra } as Record<string, string>, port,
      });
    },
  });

  contractSteps(9, service, timings, () => dir, full);
  if (!full) return;

  it("12. with a password holding @:/%#? on a server that checks it: `make db`, `make migrate` and `make test` connect", async () => {
    await timings.time(variant, "awkward password", () =>
      expectAwkwardPasswordWorks(dir, passwordServer!, dbName, dbUser, [["make", "migrate"], ["make", "test"]], env));
  });
});
