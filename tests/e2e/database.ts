import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { freePort } from "../helpers/standins.js";
import { PG, psql, sh } from "./harness.js";

/** The libpq environment `make db` documents: psql reaches the local server as its superuser. */
export const SUPERUSER_ENV = { PGHOST: PG.host, PGPORT: PG.port, PGUSER: PG.user };

/** `make db`, verbatim, as a user with a local Postgres runs it. */
export function makeDb(dir: string, env: Record<string, string> = {}): Promise<string> {
  return sh("make", ["db"], { cwd: dir, env: { ...env, ...SUPERUSER_ENV } });
}

/**
 * The service's role has least privilege: it logs in and owns its database and schema, has
 * CREATEDB (for the generated tests) and nothing else; it cannot read a table of another
 * database on the server, and another role cannot connect to its database.
 */
export async function expectLeastPrivilege(dir: string, dbName: string, dbUser: string): Promise<void> {
  const attributes = await psql(["-c", `SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = '${dbUser}'`], dir);
  expect(attributes).toBe("f|t|t|f|f|f");
  expect(await psql(["-c", `SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '${dbUser}'`], dir)).toBe("0");
  expect(await psql(["-c", `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${dbName}'`], dir)).toBe(dbUser);
  expect(await psql(["-c", "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"], dir, dbName)).toBe(dbUser);

  const other = `${dbName}_other`;
  const stranger = `${dbName}_stranger`;
  try {
    await psql(["-c", `CREATE DATABASE "${other}"`], dir);
    await psql(["-c", "CREATE TABLE private_data (x text); INSERT INTO private_data VALUES ('not yours')"], dir, other);
    await expect(psql(["-c", "SELECT x FROM private_data"], dir, other, dbUser)).rejects.toThrow(/permission denied for table private_data/);
    await psql(["-c", `CREATE ROLE "${stranger}" LOGIN`], dir);
    await expect(psql(["-c", "SELECT 1"], dir, dbName, stranger)).rejects.toThrow(/permission denied for database/);
  } finally {
    await psql(["-c", `DROP DATABASE IF EXISTS "${other}" WITH (FORCE)`], dir).catch(() => "");
    await psql(["-c", `DROP ROLE IF EXISTS "${stranger}"`], dir).catch(() => "");
  }
}

/** `make db` a second time, around a row written by the service's role: it succeeds and keeps the row. */
export async function expectInitDbKeepsData(dir: string, dbName: string, dbUser: string, env: Record<string, string> = {}): Promise<void> {
  const marker = `kept-${Date.now()}`;
  await psql(["-c", `INSERT INTO items (name) VALUES ('${marker}')`], dir, dbName, dbUser);
  await makeDb(dir, env);
  expect(await psql(["-c", `SELECT count(*) FROM items WHERE name = '${marker}'`], dir, dbName)).toBe("1");
  await psql(["-c", `DELETE FROM items WHERE name = '${marker}'`], dir, dbName);
}

/** A password made of the characters that break hand-built URLs and .env files. */
export const AWKWARD_PASSWORD = "p@ss:w/rd%25#frag?x=1";

/**
 * A private Postgres that checks passwords (scram-sha-256 for everyone, the shared server
 * trusts every local connection and would prove nothing), on a free port, in a temporary
 * folder it removes on stop. As root it runs as the `postgres` OS user, as initdb requires.
 */
export class PasswordPostgres {
  private constructor(
    private readonly root: string,
    readonly port: number,
    private readonly superuserPassword: string,
    private readonly bin: string,
    /** How the server's own programs run: as the postgres OS user when we are root. */
    private readonly runAs: string[],
  ) {}

  /** The libpq environment `make db` uses to reach this server as its superuser. */
  get superuserEnv(): Record<string, string> {
    return { PGHOST: "127.0.0.1", PGPORT: String(this.port), PGUSER: "postgres", PGPASSWORD: this.superuserPassword };
  }

  static async start(): Promise<PasswordPostgres> {
    const bin = (await sh("pg_config", ["--bindir"], { cwd: "/" })).trim();
    const root = mkdtempSync(path.join(tmpdir(), "svc-e2e-pg-"));
    const runAs = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
    const server = new PasswordPostgres(root, await freePort(), randomBytes(18).toString("base64url"), bin, runAs);
    const pwfile = path.join(root, "superuser-password");
    writeFileSync(pwfile, server.superuserPassword, { mode: 0o600 });
    if (runAs.length > 0) await sh("chown", ["-R", "postgres", root], { cwd: root });
    await server.ctl("initdb", ["-D", server.data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "--no-sync", "-E", "UTF8"]);
    await server.ctl("pg_ctl", ["-D", server.data, "-l", path.join(root, "log"), "-w", "-o", `-p ${server.port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c log_statement=all`, "start"]);
    return server;
  }

  async stop(): Promise<void> {
    await this.ctl("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]).catch(() => "");
    rmSync(this.root, { recursive: true, force: true });
  }

  /** psql on this server as `user` with `password`, which the server checks. */
  query(database: string, user: string, password: string, sql: string): Promise<string> {
    return sh(path.join(this.bin, "psql"), ["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-h", "127.0.0.1", "-p", String(this.port), "-U", user, "-d", database, "-qAt", "-c", sql], {
      cwd: this.root, env: { PGPASSWORD: password },
    });
  }

  /** What the server wrote to its log so far. */
  log(): string {
    return readFileSync(path.join(this.root, "log"), "utf8");
  }

  private get data(): string {
    return path.join(this.root, "data");
  }

  private ctl(program: string, args: string[]): Promise<string> {
    const file = path.join(this.bin, program);
    return this.runAs.length > 0 ? sh(this.runAs[0]!, [...this.runAs.slice(1), file, ...args], { cwd: this.root }) : sh(file, args, { cwd: this.root });
  }
}

/**
 * The project on a server that checks passwords, with a password holding `@:/%#?` (quoted in
 * .env, as it must be for `#`): `make db` sets it, the role logs in with it, and the project's
 * own migrations and tests connect with it, none of them printing it. Leaves .env as it found it.
 */
export async function expectAwkwardPasswordWorks(dir: string, server: PasswordPostgres, dbName: string, dbUser: string, commands: string[][], env: Record<string, string>): Promise<void> {
  const envFile = path.join(dir, ".env");
  const original = readFileSync(envFile, "utf8");
  try {
    writeFileSync(envFile, original.replace(/^DB_PASSWORD=.*$/m, `DB_PASSWORD="${AWKWARD_PASSWORD}"`).replace(/^DB_PORT=.*$/m, `DB_PORT=${server.port}`));
    const printed = [await sh("make", ["db"], { cwd: dir, env: { ...env, ...server.superuserEnv } })];
    expect(await server.query(dbName, dbUser, AWKWARD_PASSWORD, "SELECT current_user")).toBe(dbUser);
    await expect(server.query(dbName, dbUser, "wrong-password", "SELECT 1")).rejects.toThrow(/password authentication failed/);
    for (const [file, ...args] of commands) printed.push(await sh(file!, args, { cwd: dir, env }));
    for (const output of printed) expect(output).not.toContain(AWKWARD_PASSWORD);
    // Nor did the server log it (init_db.sql turns statement logging off around ALTER ROLE).
    expect(server.log()).not.toContain(AWKWARD_PASSWORD);
  } finally {
    writeFileSync(envFile, original);
  }
}
