import { z } from "zod";

/** Raised when the environment is unusable; main.ts prints its message as one line and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const port = z.coerce.number().int().min(0).max(65_535);

const postgresUrl = z
  .string({
    error: (issue) => (issue.input === undefined ? "is required" : "must be a string"),
  })
  .trim()
  .min(1, "is required")
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== ""
      );
    } catch {
      return false;
    }
  }, "must be a URL like postgres://user:password@host:5432/database");

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Loopback by default so a dev server is not exposed to the network; the image sets 0.0.0.0.
  HOST: z.string().min(1).default("127.0.0.1"),
  // PORT is what containers and platforms set; WEB_PORT is the shared .env key for local runs.
  PORT: port.optional(),
  WEB_PORT: port.default(3000),
  DATABASE_URL: postgresUrl,
  // Seconds a request waits for the database before it answers 503 (see src/db/pool.ts).
  DB_TIMEOUT: z.coerce.number().positive().max(3_600).default(3),
});

export interface Config {
  readonly env: "development" | "test" | "production";
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
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
    databaseUrl: values.DATABASE_URL,
    dbTimeoutMs: Math.round(values.DB_TIMEOUT * 1_000),
  });
}
