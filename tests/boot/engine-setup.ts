import path from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";
import { repoRoot } from "../helpers/cli.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** DOCKER_HOST, DOCKER_CONFIG and PODMAN_COMPOSE: what makes `docker compose` reach the engine. */
    engineEnv: Record<string, string>;
  }
}

const script = path.join(repoRoot, "scripts", "boot", "setup.sh");

/**
 * Sets up the engine (idempotent: installs what is missing, builds stand-in base images whose
 * recipe changed, starts `podman system service` if it is not answering) and hands its
 * environment to the tests. A service this run started is stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const running = await execa("docker", ["version", "--format", "{{.Server.Version}}"], { reject: false, env: await knownEnv() });
  const r = await execa("bash", [script], { reject: false, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`scripts/boot/setup.sh failed (exit ${r.exitCode}); its messages are above`);
  const env = Object.fromEntries(
    String(r.stdout).split("\n").filter((line) => /^[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  console.log(`boot tier: engine ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide("engineEnv", env);
  return async () => {
    if (running.exitCode !== 0) await execa("bash", [script, "stop"], { reject: false, stdio: "inherit" });
  };
}

/** The environment of an earlier setup, if there was one (to tell whether its service runs). */
async function knownEnv(): Promise<Record<string, string>> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(path.join(process.env.SVC_BOOT_HOME ?? "/var/cache/svc-app-boot", "env"), "utf8").catch(() => "");
  return Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}
