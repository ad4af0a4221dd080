import { randomBytes } from "node:crypto";
import { execa, type Options } from "execa";
import { tailLines } from "../../src/steps/runner.js";
import type { Manifest, OptionValues } from "../../src/templates/manifest.js";
import { flagValue } from "../../src/templates/manifest.js";
import { relevantOptions } from "../../src/templates/locks.js";
import { defaultsOf, packedVariants, variantName, variantsOf } from "../../src/templates/variants.js";
import { generatedSecrets } from "../helpers/secrets.js";

export const CI = Boolean(process.env.CI) && !["0", "false"].includes(String(process.env.CI).toLowerCase());
export const PG = { host: "127.0.0.1", port: "5432", user: "postgres" };

/**
 * Runs a command for an e2e step. On failure it throws an error that names the command, its
 * folder and the tail of its output, which is what a failing variant must print.
 */
export async function sh(file: string, args: string[], options: Options & { cwd: string }): Promise<string> {
  const r = await execa(file, args, { reject: false, all: true, stdin: "ignore", ...options });
  const output = String(r.all ?? "");
  if (r.exitCode !== 0 || r.failed) {
    const why = r.timedOut ? "timed out" : `exited with code ${r.exitCode}`;
    throw new Error(`\`${[file, ...args].join(" ")}\` in ${options.cwd} ${why}:\n${tailLines(output, 40)}`);
  }
  return output;
}

/** psql against the local server (as the superuser unless `user` says otherwise), stopping at the first error. */
export function psql(args: string[], cwd: string, database = "postgres", user = PG.user): Promise<string> {
  return sh("psql", ["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--no-password", "-h", PG.host, "-p", PG.port, "-U", user, "-d", database, "-qAt", ...args], { cwd });
}

/** A database name and role unique to this run, so runs never collide and cleanup is exact. */
export function uniqueDbNames(prefix: string): { dbName: string; dbUser: string } {
  const id = randomBytes(4).toString("hex");
  return { dbName: `e2e_${prefix}_${id}`, dbUser: `e2e_${prefix}_${id}_user` };
}

export async function dropDatabaseAndRole(dbName: string, dbUser: string): Promise<void> {
  const run = (sql: string) => psql(["-c", sql], "/").catch(() => "");
  // The generated tests make <db>_test_* databases; they drop them, but a crash could leave one.
  const leftovers = (await psql(["-c", `SELECT datname FROM pg_database WHERE datname LIKE '${dbName}%'`], "/").catch(() => ""))
    .split("\n").filter(Boolean);
  for (const db of leftovers) await run(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await run(`DROP ROLE IF EXISTS "${dbUser}"`);
}

/** What is missing for the e2e tier on this machine: a message per thing, saying how to get it. */
export async function missingPrerequisites(tools: { name: string; check: string[]; how: string }[]): Promise<string[]> {
  const missing: string[] = [];
  const ready = await execa("pg_isready", ["-h", PG.host, "-p", PG.port], { reject: false });
  if (ready.exitCode !== 0) {
    missing.push("Postgres is not answering on 127.0.0.1:5432: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`");
  }
  for (const tool of tools) {
    const r = await execa(tool.check[0]!, tool.check.slice(1), { reject: false });
    if (r.exitCode !== 0) missing.push(`${tool.name} is missing: ${tool.how}`);
  }
  return missing;
}

/** Step timings, printed as a table at the end of the run (and used in the closing note). */
export class Timings {
  private readonly rows: [string, string, number][] = [];
  async time<T>(variant: string, step: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      this.rows.push([variant, step, Date.now() - started]);
    }
  }
  print(title: string): void {
    const lines = this.rows.map(([v, s, ms]) => `  ${v.padEnd(34)} ${s.padEnd(28)} ${(ms / 1000).toFixed(1).padStart(7)} s`);
    console.log(`${title}\n${lines.join("\n")}`);
  }
}

/**
 * The generated passwords live in .env only: not in what the CLI printed, in no commit (of any
 * branch), and in no other file of the project (installed dependencies and .git aside).
 */
export async function expectSecretKept(dir: string, printed: string): Promise<void> {
  const tracked = (await sh("git", ["ls-files"], { cwd: dir })).split("\n");
  if (tracked.includes(".env")) throw new Error(".env is in the first commit");
  const commits = (await sh("git", ["rev-list", "--all"], { cwd: dir })).split("\n").filter(Boolean);
  if (commits.length === 0) throw new Error("the git step made no commit");
  for (const secret of generatedSecrets(dir)) {
    if (printed.includes(secret)) throw new Error("the CLI printed a generated password");
    const grep = await execa("git", ["grep", "-l", "-F", "-e", secret, ...commits], { cwd: dir, reject: false });
    if (String(grep.stdout).trim()) throw new Error(`a generated password is committed in: ${grep.stdout}`);
    const files = await execa("grep", ["-rlF", "--exclude-dir=.git", "--exclude-dir=node_modules", "--exclude-dir=.venv", "-e", secret, "."], { cwd: dir, reject: false });
    if (String(files.stdout).trim() !== "./.env") throw new Error(`a generated password is in files other than .env: ${files.stdout}`);
  }
}

/** The stacks whose every shipped lock file the e2e tier installs (FastAPI's four; Fastify's six would cost two variants more). */
const EVERY_LOCK = new Set(["fastapi"]);

/**
 * The variants a stack's e2e files run: every value of every option at least once (from the
 * manifest), `pinned` to what the machine has, packed into few variants (a feature alone rides on
 * another variant); for the stacks in EVERY_LOCK, every combination of the options that choose
 * the lock file among them, so each shipped lock is installed and run once.
 */
export function e2eVariants(manifest: Manifest, pinned: Readonly<Record<string, string>>): OptionValues[] {
  const defaults = defaultsOf(manifest, pinned);
  const lockChoosing = relevantOptions(manifest);
  const seeds = EVERY_LOCK.has(manifest.name) ? variantsOf(manifest).filter((v) => Object.entries(v).every(([k, x]) => lockChoosing.includes(k) || flagValue(x) === flagValue(defaults[k]!))) : [];
  return packedVariants(manifest, pinned, seeds);
}

/**
 * Which variants get the whole contract (schemathesis, the five outages, the awkward password) on
 * top of what every variant gets (install, migrations, its own tests, lint, boot, CRUD, bad input,
 * the conformance table). Those answers depend on the code that serves the request: the stack,
 * its ORM, and the features that add routes and middleware. So: the defaults, the first variant of
 * `variants` with each other ORM (whatever else packedVariants put with it), and every list option
 * (features) with all its values at once (`pinned`: the runtime the tier runs on, in place of the
 * manifest's default). A package manager or a Postgres major (the local server is the machine's
 * either way; the boot tier runs each major in its image) changes none of that code path.
 */
export function fullContract(manifest: Manifest, variants: readonly OptionValues[], options: OptionValues, pinned: Readonly<Record<string, string>>): boolean {
  const defaults = defaultsOf(manifest, pinned);
  const differing = manifest.options.filter((o) => flagValue(options[o.name]!) !== flagValue(defaults[o.name]!));
  if (differing.length === 0) return true;
  if (differing.some((o) => o.name === "orm")) {
    const first = variants.find((v) => flagValue(v.orm!) === flagValue(options.orm!));
    return first !== undefined && variantName(first) === variantName(options);
  }
  return differing.every((o) => o.multiple && flagValue(options[o.name]!) === flagValue(o.choices.map((c) => c.value)));
}
