import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { ItemsTable } from "../models/items.js";
import { type DatabaseOptions, type PoolStats, poolConfig, poolStats } from "./pool.js";

/** Every table of the database, by name. */
export interface DB {
  items: ItemsTable;
}

/** What `request.db` is: a Kysely transaction bound to one pooled connection, or the pool (reads). */
export type Tx = Kysely<DB>;

export type { DatabaseOptions };

export interface Database {
  readonly db: Kysely<DB>;
  /** Commits when `fn` resolves, rolls back when it throws; the connection is always released. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` on the pool, outside a transaction: each statement commits on its own. */
  read<T>(fn: (db: Tx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** The pool's connections now (idle, in use) and the most it opens. */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  // The pool connects on first use, so the app starts even while the database is down.
  const pool = new pg.Pool(poolConfig(url, options));
  // A connection dropped by the server (restart, failover) must not crash the process. pg
  // emits 'error' on the pool for idle clients and on the client itself for checked-out ones;
  // the query in flight is rejected either way, and the pool opens a fresh connection next time.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    transaction: (fn) => db.transaction().execute(fn),
    read: (fn) => fn(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    poolStats: () => poolStats(pool),
    // Also ends the pool.
    close: () => db.destroy(),
  };
}
