import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { tempDir } from "./cli.js";

/**
 * A made-up machine for runtime detection: a HOME holding the given tool folders
 * (".pyenv/versions/3.12.4", ".nvm/versions/node/v22.1.0", ...) and a PATH of one folder with the
 * given programs (empty scripts), so what the CLI finds does not depend on the machine running
 * the tests. PYENV_ROOT and the managers' own variables point into that HOME, and PGHOST at an
 * empty folder in it: no Postgres answers there (see fakePostgres for one that does).
 */
export function fakeMachine(dirs: string[], programs: string[] = []) {
  const home = tempDir("svc-home-");
  for (const d of dirs) mkdirSync(path.join(home, d), { recursive: true });
  const bin = path.join(home, "bin");
  mkdirSync(bin);
  for (const p of programs) {
    writeFileSync(path.join(bin, p), "#!/bin/sh\n");
    chmodSync(path.join(bin, p), 0o755);
  }
  const noPostgres = path.join(home, "no-postgres");
  mkdirSync(noPostgres);
  return { HOME: home, PATH: bin, PGHOST: noPostgres, PYENV_ROOT: path.join(home, ".pyenv"), NVM_DIR: path.join(home, ".nvm"), FNM_DIR: path.join(home, ".local", "share", "fnm"), VOLTA_HOME: path.join(home, ".volta") };
}

/**
 * A Postgres as far as a client's first look goes: a Unix socket where libpq would find it
 * (`<dir>/.s.PGSQL.5432`, dir to give as PGHOST) that answers a startup message with
 * AuthenticationOk, as a server with trust authentication does. Close it after the test.
 */
export async function fakePostgres(): Promise<{ dir: string; close: () => Promise<void> }> {
  const dir = tempDir("svc-pg-");
  const server = createServer((socket) => {
    socket.once("data", () => socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]))); // 'R', length 8, AuthenticationOk
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, ".s.PGSQL.5432"), resolve));
  return { dir, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
