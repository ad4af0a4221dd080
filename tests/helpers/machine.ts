import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./cli.js";

/**
 * A made-up machine for runtime detection: a HOME holding the given tool folders
 * (".pyenv/versions/3.12.4", ".nvm/versions/node/v22.1.0", ...) and a PATH of one folder with the
 * given programs (empty scripts), so what the CLI finds does not depend on the machine running
 * the tests. PYENV_ROOT and the managers' own variables point into that HOME.
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
  return { HOME: home, PATH: bin, PYENV_ROOT: path.join(home, ".pyenv"), NVM_DIR: path.join(home, ".nvm"), FNM_DIR: path.join(home, ".local", "share", "fnm"), VOLTA_HOME: path.join(home, ".volta") };
}
