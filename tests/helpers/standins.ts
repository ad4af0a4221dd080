import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createServer } from "node:net";
import { repoRoot, tempDir } from "./cli.js";

const script = path.join(repoRoot, "tests", "fixtures", "standins", "standin.mjs");

export interface StandinCall { name: string; argv: string[]; cwd: string; pid: number }

/**
 * A bin folder of stand-in executables that record their argv to a log. `real` names programs
 * to expose from the machine (e.g. "git") by symlink; everything else is absent from PATH,
 * which is how a test says "docker is not installed". PGHOST points at an empty folder: no
 * Postgres answers there, whatever runs on the machine.
 */
export function standinBin(names: string[], real: string[] = []) {
  const dir = tempDir("svc-bin-");
  const bin = path.join(dir, "bin");
  mkdirSync(bin);
  for (const name of names) {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${script}" ${name} "$@"\n`);
    chmodSync(file, 0o755);
  }
  for (const name of real) {
    for (const dirOnPath of (process.env.PATH ?? "").split(":")) {
      const candidate = path.join(dirOnPath, name);
      if (existsSync(candidate)) {
        symlinkSync(candidate, path.join(bin, name));
        break;
      }
    }
  }
  const log = path.join(dir, "calls.jsonl");
  const noPostgres = path.join(dir, "no-postgres");
  mkdirSync(noPostgres);
  return {
    bin,
    log,
    env: { PATH: bin, STANDIN_LOG: log, PGHOST: noPostgres },
    calls(): StandinCall[] {
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as StandinCall);
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}
