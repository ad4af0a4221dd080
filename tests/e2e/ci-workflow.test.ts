import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { runCli, tempDir } from "../helpers/cli.js";
import { manifests } from "../helpers/expected.js";
import { variantName } from "../../src/templates/variants.js";
import { optionFlags } from "../cli/variants.js";
import { CI, dropDatabaseAndRole, e2eVariants, missingPrerequisites, PG, sh, Timings, uniqueDbNames } from "./harness.js";
import { nodeBinDir } from "./node-runtime.js";

/**
 * The `ci` feature's workflow, run here the way GitHub runs its `test` job: in a clone of the
 * committed project (so without .env, which is never committed), with the job's `env`, each `run`
 * step verbatim in bash -eo pipefail, in order. The local Postgres stands in for the job's service
 * container (PGHOST/PGPORT/PGUSER point at it; the database and role names are unique to the run).
 * Steps that install a tool this machine already has are left out: `pip install` (Poetry). The
 * `uses` steps (checkout, setup-python/node, caches) are what the clone and the PATH do here; the
 * `images` job is what the boot tier does for real.
 */
const support = path.join(import.meta.dirname, "..", "..", "scripts", "support", "bin");
const missing = await missingPrerequisites([
  { name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" },
  { name: "uv", check: ["uv", "--version"], how: "`pip install uv` in a virtualenv of its own, linked onto PATH (see .ci/run)" },
  { name: "make", check: ["make", "--version"], how: "`apt-get install make`" },
  { name: "psql", check: ["psql", "--version"], how: "`apt-get install postgresql-client`" },
]);
if (missing.length > 0 && CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
const machinePython = missing.length > 0 ? "" : (await sh("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { cwd: "/" })).trim();
const NODE = "24";
const pinned: Record<string, Record<string, string>> = { fastapi: { python: machinePython }, fastify: { node: NODE } };

const variants = manifests.flatMap((m) => e2eVariants(m, pinned[m.name] ?? {})
  .filter((v) => m.options.some((o) => o.multiple && (v[o.name] as readonly string[]).includes("ci")))
  .map((v) => [`${m.name} ${variantName(v)}`, m.name, v] as const));

const timings = new Timings();
afterAll(() => timings.print("CI workflow steps, run here"));

type Job = { env?: Record<string, string>; steps: { name?: string; uses?: string; run?: string }[] };

describe.skipIf(missing.length > 0).each(variants)("the ci workflow of %s", (name, stack, options) => {
  it("its test job's steps pass in a clone of the project, with the job's settings and no .env", async () => {
    expect(variants.length).toBeGreaterThanOrEqual(manifests.length);
    const cwd = tempDir("svc-ci-");
    const { dbName, dbUser } = uniqueDbNames("ci");
    const nodeBin = stack === "fastify" ? `${await nodeBinDir(NODE)}:` : "";
    const env = { PATH: `${nodeBin}${support}:${process.env.PATH}`, POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_NO_INTERACTION: "1", NO_COLOR: "1" };
    try {
      const made = await runCli(["svc-ci", "--yes", "--no-install", "--stack", stack, ...optionFlags(options), "--db-name", dbName, "--db-user", dbUser], { cwd, env, timeout: 120_000 });
      expect(made.exitCode, made.stderr).toBe(0);
      const clone = path.join(cwd, "clone");
      await sh("git", ["clone", "--quiet", path.join(cwd, "svc-ci"), clone], { cwd });
      const job = (parseYaml(readFileSync(path.join(clone, ".github", "workflows", "ci.yml"), "utf8")) as { jobs: Record<string, Job> }).jobs.test!;
      expect(job.env?.DB_NAME).toBe(dbName);
      const jobEnv = { ...job.env, PGHOST: PG.host, PGPORT: PG.port, PGUSER: PG.user, DB_HOST: PG.host, DB_PORT: PG.port };
      const steps = job.steps.filter((s) => s.run !== undefined && !/^pip install /.test(s.run));
      expect(steps.map((s) => s.run!.trim().split("\n").at(-1))).toEqual(expect.arrayContaining(["make lint", "make db", "make migrate", "make test"]));
      for (const step of steps) {
        await timings.time(name, step.name ?? step.run!, () => sh("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], { cwd: clone, env: { ...env, ...jobEnv }, timeout: 600_000 }));
      }
    } finally {
      await dropDatabaseAndRole(dbName, dbUser);
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
