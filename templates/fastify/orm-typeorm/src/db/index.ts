import "reflect-metadata";
import type pg from "pg";
import { DataSource, type DataSourceOptions, type EntityManager } from "typeorm";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver.js";
import { Item } from "../models/item.js";
import { CreateItems1764201600000 } from "./migrations/1764201600000-CreateItems.js";
import { type DatabaseOptions, type PoolStats, poolConfig, poolStats } from "./pool.js";

/** What `request.db` is: a TypeORM EntityManager bound to the request's transaction, or the pool's (reads). */
export type Tx = EntityManager;

export type { DatabaseOptions };

/** Entities and migrations are listed explicitly: no globs, same list from src/ and dist/. */
export function dataSourceOptions(url: string, options: DatabaseOptions = {}): DataSourceOptions {
  return {
    type: "postgres",
    url,
    entities: [Item],
    migrations: [CreateItems1764201600000],
    migrationsTableName: "migrations",
    // Passed to the pg pool: its size and how long a request waits for the database.
    extra: poolConfig(url, options),
  };
}

export interface Database {
  readonly dataSource: DataSource;
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
  const dataSource = new DataSource(dataSourceOptions(url, options));
  // DataSource.initialize() needs a live database, so it runs on first use rather than at
  // start-up: the app boots (and /health says 503) while the database is down, and a failed
  // attempt is retried by the next request.
  let ready: Promise<DataSource> | undefined;
  const connected = (): Promise<DataSource> => {
    ready ??= dataSource.initialize().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  return {
    dataSource,
    transaction: async (fn) => (await connected()).transaction(fn),
    read: async (fn) => fn((await connected()).manager),
    ping: async () => {
      await (await connected()).query("select 1");
    },
    poolStats: () => {
      // TypeORM creates its pg pool in initialize(): until then it holds no connection.
      if (!dataSource.isInitialized) return { idle: 0, used: 0, max: poolConfig(url, options).max };
      return poolStats((dataSource.driver as PostgresDriver).master as pg.Pool);
    },
    close: async () => {
      const current = ready;
      ready = undefined;
      if (current && (await current.catch(() => undefined))?.isInitialized) {
        await dataSource.destroy();
      }
    },
  };
}
