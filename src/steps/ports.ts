import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

/** A host port that a Compose file publishes: `"127.0.0.1:${WEB_PORT:-8000}:8000"`, `"5432:5432"`. */
export interface PublishedPort {
  /** The host address it binds (0.0.0.0 when the entry names none). */
  readonly host: string;
  /** The variable that sets it, if the entry uses one. */
  readonly variable?: string;
  /** The literal port, or the variable's default in the entry. */
  readonly fallback?: string;
}

const ENTRY = /^\s*-\s*["']?(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(?:\$\{(\w+)(?::?-(\d+))?\}|(\d+)):\d+(?:\/(?:tcp|udp))?["']?\s*$/gm;

/** The host ports in a Compose file's `ports:` lists (short syntax), in file order. */
export function publishedPorts(compose: string): PublishedPort[] {
  return [...compose.matchAll(ENTRY)].map(([, host, variable, fallback, literal]) => ({
    host: host ?? "0.0.0.0",
    ...(variable ? { variable } : {}),
    ...((fallback ?? literal) ? { fallback: fallback ?? literal } : {}),
  }));
}

/** True when something already listens on host:port (binding it fails with EADDRINUSE). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** A variable as Docker Compose sees it in `dir`: the environment first, then the files in order. */
export async function composeVariable(dir: string, env: NodeJS.ProcessEnv, key: string, files = [".env"]): Promise<string | undefined> {
  if (env[key]) return env[key]!;
  for (const file of files) {
    const text = readText(path.join(dir, file));
    const match = new RegExp(`^\\s*${key}\\s*=\\s*"?([0-9]+)"?\\s*$`, "m").exec(text);
    if (match) return match[1]!;
  }
  return undefined;
}

/** A published host port that another program already holds. */
export interface BusyPort {
  readonly host: string;
  readonly port: number;
  readonly variable?: string;
}

/** The host ports the Compose file in `dir` publishes (as Compose resolves them) that another program holds. */
export async function busyPorts(dir: string, env: NodeJS.ProcessEnv): Promise<BusyPort[]> {
  const compose = readText(path.join(dir, "docker-compose.yml"));
  const busy: BusyPort[] = [];
  for (const entry of publishedPorts(compose)) {
    const port = (entry.variable && (await composeVariable(dir, env, entry.variable))) || entry.fallback;
    if (port && (await portInUse(entry.host, Number(port)))) busy.push({ host: entry.host, port: Number(port), ...(entry.variable ? { variable: entry.variable } : {}) });
  }
  return busy;
}

/** The first port above `port` that is free on `host` and not in `taken`. */
export async function freePortAbove(host: string, port: number, taken: readonly number[] = []): Promise<number> {
  for (let p = port + 1; p < 65_536; p++) {
    if (!taken.includes(p) && !(await portInUse(host, p))) return p;
  }
  throw new Error(`no free port above ${port} on ${host}`);
}

/** A small file's text, or "" when there is none (read synchronously: a thread-pool round trip costs more than the read). */
function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
