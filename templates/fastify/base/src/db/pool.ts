import type pg from "pg";

export interface DatabaseOptions {
  /** Pool size; the tests use 1 to prove that every request gives its connection back. */
  max?: number;
  /**
   * How long a request waits for the database (DB_TIMEOUT): a connection from the pool, a new
   * connection, one statement. Past it the request fails and answers 503 instead of hanging.
   * 0 waits forever (migrations, which may run long).
   */
  timeoutMs?: number;
}

/** The pg pool settings every ORM of this template uses. */
export function poolConfig(url: string, { max = 10, timeoutMs = 3_000 }: DatabaseOptions = {}) {
  return {
    connectionString: url,
    max,
    connectionTimeoutMillis: timeoutMs,
    // Ended by the server: a statement stuck behind a lock frees its connection.
    statement_timeout: timeoutMs,
    // Ended by the client, a little later: a server that stopped answering altogether.
    query_timeout: timeoutMs === 0 ? 0 : timeoutMs + 1_000,
  } satisfies pg.PoolConfig;
}

/** The connections a pool holds now, and the most it opens. */
export interface PoolStats {
  readonly idle: number;
  readonly used: number;
  readonly max: number;
}

export function poolStats(pool: pg.Pool): PoolStats {
  const { idleCount, totalCount, options } = pool;
  return { idle: idleCount, used: totalCount - idleCount, max: options.max ?? 10 };
}
