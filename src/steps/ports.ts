import { createServer } from "node:net";

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
