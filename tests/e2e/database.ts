import { expect } from "vitest";
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
