import { readFileSync } from "node:fs";
import path from "node:path";

/** The keys of .env that hold generated secrets: the service's password and the superuser's. */
export const SECRET_KEYS = ["DB_PASSWORD", "POSTGRES_PASSWORD"] as const;

/** The generated secrets of a project, as its .env holds them (unquoted, as generated). */
export function generatedSecrets(dir: string): string[] {
  const env = readFileSync(path.join(dir, ".env"), "utf8");
  return SECRET_KEYS.map((key) => {
    const value = new RegExp(`^${key}=(.+)$`, "m").exec(env)?.[1] ?? "";
    if (!/^[A-Za-z0-9_-]{32}$/.test(value)) throw new Error(`.env has no generated ${key} (24 random bytes, URL-safe)`);
    return value;
  });
}
