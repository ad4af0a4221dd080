import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { repoRoot } from "../helpers/cli.js";
import { sh } from "./harness.js";

/** The venv .ci/run creates (and the first e2e run, if it is missing), with the pinned version. */
export const SCHEMATHESIS_VENV = path.join(repoRoot, "node_modules", ".cache", "schemathesis");
const REQUIREMENTS = path.join(repoRoot, "tests", "e2e", "schemathesis-requirements.txt");
/** Fixed, so a failure is reproducible with the same command. */
export const SCHEMATHESIS_SEED = 20261128;

export async function schemathesisBin(): Promise<string> {
  const bin = path.join(SCHEMATHESIS_VENV, "bin", "schemathesis");
  if (!existsSync(bin)) {
    await sh("python3", ["-m", "venv", SCHEMATHESIS_VENV], { cwd: repoRoot });
    await sh(path.join(SCHEMATHESIS_VENV, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS], { cwd: repoRoot });
  }
  return bin;
}

/**
 * schemathesis with every check against the service's own /openapi.json: the document must be
 * the truth about every status, header and body the service answers. Returns the number of test
 * cases it generated; throws with its report when it finds anything.
 */
export async function runSchemathesis(base: string, maxExamples: number): Promise<number> {
  const args = ["run", `${base}/openapi.json`, "--checks", "all", "--seed", String(SCHEMATHESIS_SEED), "--max-examples", String(maxExamples),
    "--generation-database", "none", "--workers", "1", "--no-color", "--request-timeout", "20"];
  // Run from a temporary folder: schemathesis keeps a cache folder where it runs.
  const cwd = mkdtempSync(path.join(tmpdir(), "schemathesis-"));
  const r = await execa(await schemathesisBin(), args, { cwd, reject: false, all: true, stdin: "ignore", env: { NO_COLOR: "1" } }).finally(() =>
    rmSync(cwd, { recursive: true, force: true }));
  const output = String(r.all ?? "");
  const cases = Number(/(\d+) generated/.exec(output)?.[1] ?? Number.NaN);
  if (r.exitCode !== 0 || !/No issues found/.test(output) || !(cases > 0)) {
    throw new Error(`schemathesis ${args.join(" ")} exited ${r.exitCode}:\n${output.slice(-6000)}`);
  }
  return cases;
}
