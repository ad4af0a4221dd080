import { z } from "zod";

/** Raised when the environment is unusable; main.ts prints its message as one line and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const port = z.coerce.number().int().min(0).max(65_535);

// No defaults for the database and its credentials: a service that silently talks to the wrong
// database is worse than one that refuses to start.
const text = z.string({
  error: (issue) => (issue.input === undefined ? "is required" : "must be a string"),
});

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Loopback by default so a dev server is not exposed to the network; the image sets 0.0.0.0.
  HOST: z.string().min(1).default("127.0.0.1"),
  // PORT is what containers and platforms set; WEB_PORT is the shared .env key for local runs.
  PORT: port.optional(),
  WEB_PORT: port.default(3000),
  // `embedded` names the embedded Postgres, which scripts/embedded-db.ts starts and then hands
  // its real address to the command it runs (make dev, make migrate): never a host to dial.
  DB_HOST: z
    .string()
    .trim()
    .min(1)
    .refine((host) => host !== "embedded", {
      message:
        "is `embedded`: run through make (make dev, make migrate), which starts the embedded Postgres",
    })
    .default("localhost"),
  DB_PORT: port.default(5432),
  DB_NAME: text.trim().min(1, "is required"),
  DB_USER: text.trim().min(1, "is required"),
  // Used as written, never trimmed: any character may be part of a password.
  DB_PASSWORD: text.min(1, "is required"),
  // Seconds a request waits for the database before it answers 503 (see src/db/pool.ts).
  DB_TIMEOUT: z.coerce.number().positive().max(3_600).default(3),
});

export interface DatabaseSettings {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
}

/**
 * The connection URL, built from its parts with each one percent-encoded, so a password holding
 * `@`, `:`, `/`, `%`, `#` or `?` reaches the server as it was written.
 */
export function databaseUrl({ host, port, name, user, password }: DatabaseSettings): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hostPart}:${port}/${encodeURIComponent(name)}`;
}

export interface Config {
  readonly env: "development" | "test" | "production";
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  /** Built from DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD; it holds the password. */
  readonly databaseUrl: string;
  readonly dbTimeoutMs: number;
}

/** Validates the environment once, at start-up, so a bad setting fails fast and says which. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "environment"} ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  const values = parsed.data;
  return Object.freeze({
    env: values.NODE_ENV,
    logLevel: values.LOG_LEVEL,
    host: values.HOST,
    port: values.PORT ?? values.WEB_PORT,
    databaseUrl: databaseUrl({
      host: values.DB_HOST,
      port: values.DB_PORT,
      name: values.DB_NAME,
      user: values.DB_USER,
      password: values.DB_PASSWORD,
    }),
    dbTimeoutMs: Math.round(values.DB_TIMEOUT * 1_000),
  });
}
