import { sql } from "drizzle-orm";
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import pg from "pg";
import { items } from "../models/items.js";
import { type DatabaseOptions, type PoolStats, poolConfig, poolStats } from "./pool.js";

const schema = { items };

export type Db = NodePgDatabase<typeof schema>;
/** What `request.db` is: a Drizzle transaction bound to one pooled connection, or the pool (reads). */
export type Tx = PgDatabase<NodePgQueryResultHKT, typeof schema>;

export type { DatabaseOptions };

export interface Database {
  readonly db: Db;
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
  const db = drizzle(pool, { schema });
  return {
    db,
    transaction: async (fn) => {
      // Drizzle's db.transaction() on a pool leaks the connection when BEGIN itself fails (on
      // a connection the server just dropped), which would slowly drain the pool. Checking the
      // connection out here guarantees that it is always given back.
      const client = await pool.connect();
      try {
        return await drizzle(client, { schema }).transaction(fn);
      } finally {
        client.release();
      }
    },
    read: (fn) => fn(db),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    poolStats: () => poolStats(pool),
    close: () => pool.end(),
  };
}
