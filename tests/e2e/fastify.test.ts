import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers/cli.js";
import { installLines, manifestNamed, verifyCommands } from "../helpers/expected.js";
import { variantName } from "../../src/templates/variants.js";
import { optionFlags } from "../cli/variants.js";
import { freePort } from "../helpers/standins.js";
import { CI, dropDatabaseAndRole, e2eVariants, expectSecretKept, fullContract, missingPrerequisites, psql, sh, Timings, uniqueDbNames } from "./harness.js";
import { contractSteps, ServiceUnderTest } from "./abuse.js";
import { startServer } from "./http.js";
import { nodeBinDir } from "./node-runtime.js";
import { expectAwkwardPasswordWorks, expectInitDbKeepsData, expectLeastPrivilege, makeDb, PasswordPostgres } from "./database.js";
import { checkJobsContract, queueOutageBoundMs, QueueUnderTest, startWorker } from "./jobs-contract.js";
import { observabilityStep, OtlpReceiver } from "./obs-contract.js";

// The default Node of the template (24), as a real binary first on PATH: npm, pnpm, tsc, vitest
// and the app itself all run on it, as they would for a user of that version.
const NODE = "24";
const missing = await missingPrerequisites([{ name: "make", check: ["make", "--version"], how: "`apt-get install make`" }]);
if (missing.length > 0) {
  if (CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
  console.warn(`Skipping the Fastify e2e tier:\n${missing.join("\n")}`);
}
const nodeBin = missing.length > 0 ? "" : await nodeBinDir(NODE);
// pnpm comes from the registry through npx, as the README's commands do; a shim puts it on PATH.
const env = { PATH: `${nodeBin}:${path.join(import.meta.dirname, "..", "..", "scripts", "support", "bin")}:${process.env.PATH}`, NO_COLOR: "1" };

const timings = new Timings();
afterAll(() => timings.print(`Fastify e2e step times (Node ${NODE})`));
let passwordServer: PasswordPostgres | undefined;
beforeAll(async () => {
  if (missing.length === 0) passwordServer = await PasswordPostgres.start();
});
afterAll(() => passwordServer?.stop());

// Every value of every option at least once, on Node 24 (e2eVariants).
const manifest = manifestNamed("fastify");
const variants = e2eVariants(manifest, { node: NODE });

describe.skipIf(missing.length > 0).each(variants.map((o) => [variantName(o), o] as const))("fastify %s", (_name, options) => {
  const pm = String(options.pm);
  const { dbName, dbUser } = uniqueDbNames(Object.values(options).join("").replace(/[^a-z0-9]/g, "").slice(0, 10));
  const variant = `fastify ${variantName(options)}`;
  const full = fullContract(manifest, variants, options, { node: NODE });
  let dir = "";
  const run = (args: string[]) => sh(pm, args, { cwd: dir, env });
  const runAll = async (step: Parameters<typeof verifyCommands>[2]) => {
    for (const [file, ...args] of verifyCommands(manifest, options, step)) await sh(file!, args, { cwd: dir, env });
  };

  // The worker feature: the service's job queue on a queue of its own, behind a relay (jobs-contract.ts).
  const queue = [options.features].flat().includes("worker") ? new QueueUnderTest() : undefined;
  // The metrics and otel features (obs-contract.ts): an OTLP receiver the service exports to from its boot on.
  const hasFeature = (name: string) => [options.features].flat().includes(name);
  const receiver = hasFeature("otel") ? new OtlpReceiver() : undefined;
  const otelEnv = async () => (receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.port ? receiver.endpoint : await receiver.start(), OTEL_BSP_SCHEDULE_DELAY: "200" } : {});
  const service = new ServiceUnderTest(variant, { dbName, dbUser }, async () => Number(await psql(["-c", "SELECT count(*) FROM items"], dir, dbName)));

  beforeAll(() => dropDatabaseAndRole(dbName, dbUser));
  afterAll(async () => {
    await service.teardown();
    await queue?.teardown();
    await receiver?.stop();
    await dropDatabaseAndRole(dbName, dbUser);
    // The generated project (with its virtualenv or node_modules) goes too.
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it("1. generates with the built CLI and installs from the shipped lock for real, then commits", async () => {
    const cwd = tempDir("svc-e2e-");
    const r = await timings.time(variant, "generate+install+git", () =>
      runCli(["svc-e2e", "--yes", "--json", "--stack", "fastify", ...optionFlags(options), "--db-name", dbName, "--db-user", dbUser], { cwd, env, timeout: 600_000 }));
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    const steps = JSON.parse(r.stdout).steps as { name: string; status: string; commands: string[] }[];
    expect(steps.map((s) => `${s.name}:${s.status}`)).toEqual(["install:ok", "git:ok"]);
    expect(steps[0]!.commands).toEqual(installLines(manifest, options));
    dir = path.join(cwd, "svc-e2e");
    // The install left the lock as shipped: the first commit is the whole story.
    expect(await sh("git", ["status", "--porcelain"], { cwd: dir, env })).toBe("");
    await expectSecretKept(dir, r.stdout + r.stderr);
  });

  it("2. `make db` applies sql/init_db.sql: the database and a least-privilege role with the password from .env", async () => {
    await makeDb(dir, env);
    await expectLeastPrivilege(dir, dbName, dbUser);
  });

  it("3. the manifest's migrate commands run up (and down and up again where it declares migrate-down: TypeORM, Kysely); `make db` again keeps the data", async () => {
    const hasItems = () => psql(["-c", "SELECT to_regclass('public.items') IS NOT NULL"], dir, dbName);
    expect(verifyCommands(manifest, options, "migrate").length, "the manifest's verify list has no migrate command").toBeGreaterThan(0);
    await timings.time(variant, "migrations", async () => {
      await runAll("migrate");
      expect(await hasItems()).toBe("t");
      if (verifyCommands(manifest, options, "migrate-down").length === 0) return; // drizzle-kit has no down migrations
      await runAll("migrate-down");
      expect(await hasItems()).toBe("f");
      await runAll("migrate");
      expect(await hasItems()).toBe("t");
    });
    await expectInitDbKeepsData(dir, dbName, dbUser, env);
  });

  it("4. the manifest's lint commands are clean (tsc strict, biome)", async () => {
    await timings.time(variant, "typecheck+lint", () => runAll("lint"));
  });

  it("5. the project's own tests pass (the manifest's test commands)", async () => {
    expect(verifyCommands(manifest, options, "test").length, "the manifest's verify list has no test command").toBeGreaterThan(0);
    for (const [file, ...args] of verifyCommands(manifest, options, "test")) {
      const out = await timings.time(variant, [file, ...args].join(" "), () => sh(file!, args, { cwd: dir, env }));
      expect(out).toMatch(/Tests\s+\d+ passed/);
    }
  });

  it("6. builds, boots with node, /health reports the database, CRUD over HTTP, 422 and 404 as JSON", async () => {
    await run(["run", "build"]);
    const port = await freePort();
    // The worker feature: Redis through a relay too (step 7b), and a queue of this run's own; the
    // otel feature: the receiver of step 8c.
    const featureEnv = { ...(await queue?.serviceEnv()), ...(await otelEnv()) };
    // The app reaches Postgres through a relay the test can cut (step 8); the environment wins over .env.
    await timings.time(variant, "boot+http", () => service.bootAndExercise((dbPort) =>
      startServer(path.join(nodeBin, "node"), ["--env-file=.env", "dist/main.js"], {
        cwd: dir, env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", DB_PORT: String(dbPort), ...featureEnv } as Record<string, string>, port,
      })));
  });

  it("7. bad input is a 4xx JSON error, never a 500, and the table holds exactly what valid requests wrote", async () => {
    await timings.time(variant, "bad input", () => service.badInput());
  });

  if (queue) it("7b. the worker feature: the jobs contract, a job run by `make worker` to success and one to failure, Redis outages", async () => {
    service.report.jobs = await timings.time(variant, "jobs contract", () => checkJobsContract(service.server!.base, queue!, {
      boundMs: queueOutageBoundMs(dir),
      startWorker: () => startWorker(["make", "worker"], { cwd: dir, env: { ...process.env, ...env, ...queue!.workerEnv() } as Record<string, string> }),
    }));
  });

  // A second instance reaches Redis directly (serviceEnv would start the step-7b relay again, on its port).
  observabilityStep("8c", service, timings, {
    metrics: hasFeature("metrics"),
    receiver,
    serve: async (extra) => {
      const port = await freePort();
      return startServer(path.join(nodeBin, "node"), ["--env-file=.env", "dist/main.js"], {
        cwd: dir, env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", ...queue?.workerEnv(), ...extra } as Record<string, string>, port,
      });
    },
  });

  contractSteps(8, service, timings, () => dir, full);
  if (!full) return;

  it("11. with a password holding @:/%#? on a server that checks it: `make db`, `make migrate` and `make test` connect", async () => {
    await timings.time(variant, "awkward password", () =>
      expectAwkwardPasswordWorks(dir, passwordServer!, dbName, dbUser, [["make", "migrate"], ["make", "test"]], env));
  });
});
