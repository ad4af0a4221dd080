import { mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type Options } from "execa";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = path.join(repoRoot, "bin", "create-svc-app.js");

const made: string[] = [];

/**
 * A fresh empty folder under the system temp dir. Every folder made here is removed after the
 * test file ends (tests/helpers/cleanup.ts, a setup file of every tier), so a run leaves nothing.
 */
export function tempDir(prefix = "svc-cli-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far (generated projects, stand-in bins, caches inside them). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Runs the built CLI as a user would, non-interactively (CI=true, no stdin), and never throws:
 * the test looks at exitCode, stdout and stderr.
 */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; timeout?: number } & Partial<Options> = { cwd: tmpdir() }) {
  const { env, ...rest } = options;
  const result = await execa(process.execPath, [cliPath, ...args], {
    reject: false,
    stdin: "ignore",
    timeout: options.timeout ?? 30_000,
    env: { CI: "true", NO_COLOR: "1", ...env },
    ...rest,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), timedOut: result.timedOut };
}

/** Every file under dir (the .git folder aside) as a sorted list of relative paths (folders implied). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if (p === ".git") continue;
      if (lstatSync(path.join(dir, p)).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk("");
  return out.sort();
}

/** A byte-exact picture of a folder (paths, modes, contents, link targets) to compare before/after. */
export function snapshotDir(dir: string): Record<string, string> {
  const snap: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = lstatSync(abs);
    const key = rel || ".";
    if (st.isSymbolicLink()) snap[key] = `link:${readlinkSync(abs)}`;
    else if (st.isDirectory()) {
      snap[key] = `dir:${(st.mode & 0o777).toString(8)}`;
      for (const name of readdirSync(abs)) walk(rel ? `${rel}/${name}` : name);
    } else snap[key] = `file:${(st.mode & 0o777).toString(8)}:${readFileSync(abs).toString("base64")}`;
  };
  walk("");
  return snap;
}
