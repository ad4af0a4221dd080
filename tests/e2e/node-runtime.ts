import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { repoRoot } from "../helpers/cli.js";

/**
 * A real Node.js binary of the given major version, for running generated projects on the
 * runtime they target: the npm registry's `node` package carries one. Installed once into
 * node_modules/.cache and reused. Returns the folder to put first on PATH.
 */
export async function nodeBinDir(major: string): Promise<string> {
  const prefix = path.join(repoRoot, "node_modules", ".cache", `node${major}`);
  const bin = path.join(prefix, "node_modules", ".bin");
  if (!existsSync(path.join(bin, "node"))) {
    await execa("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, `node@${major}`], { stdio: "inherit" });
  }
  const version = await execa(path.join(bin, "node"), ["--version"]);
  if (!String(version.stdout).startsWith(`v${major}.`)) throw new Error(`expected Node ${major}, got ${version.stdout}`);
  return bin;
}
