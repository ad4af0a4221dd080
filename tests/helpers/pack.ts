import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { repoRoot, tempDir } from "./cli.js";

/** The ```sh block under a README heading (any level), as its lines. */
export function readmeSection(readme: string, heading: string): string[] {
  const start = readme.search(new RegExp(`^#+ ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  if (start < 0) throw new Error(`the README has no "${heading}" heading`);
  const rest = readme.slice(start);
  const firstLine = rest.indexOf("\n") + 1;
  // The section ends at the next heading; "# ..." lines inside a code block are comments, not headings.
  const body = rest.slice(firstLine).replace(/```[\s\S]*?```/g, (code) => code.replace(/^#/gm, " "));
  const end = body.search(/^#+ /m);
  const block = /```sh\n([\s\S]*?)```/.exec(end < 0 ? rest : rest.slice(0, firstLine + end));
  if (!block) throw new Error(`"${heading}" has no sh block`);
  return block[1]!.split("\n").filter((l) => l.trim() !== "");
}

/**
 * Packs the CLI by the README's "From a clone" steps: the working tree's files (those git tracks
 * and new ones it does not ignore) are copied to `<tmp>/create-svc-app`, standing for the
 * `git clone` line (so uncommitted work is packed too); then the README's next line runs there
 * verbatim (pnpm install, npm pack: the prepack build makes dist/). Returns the tarball, the
 * folder that holds the clone, and the README's line that runs the tarball.
 */
export async function packCleanClone(): Promise<{ tarball: string; dir: string; runLine: string }> {
  const work = tempDir("svc-pack-");
  const clone = path.join(work, "create-svc-app");
  const listed = await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot });
  for (const rel of String(listed.stdout).split("\0").filter(Boolean)) {
    if (!existsSync(path.join(repoRoot, rel))) continue; // deleted, not yet staged
    mkdirSync(path.dirname(path.join(clone, rel)), { recursive: true });
    copyFileSync(path.join(repoRoot, rel), path.join(clone, rel));
  }
  const [cloneLine, buildLine, runLine] = readmeSection(readFileSync(path.join(repoRoot, "README.md"), "utf8"), "From a clone");
  if (!cloneLine?.startsWith("git clone ") || !buildLine || !runLine) throw new Error("the README's From a clone steps are not: git clone, build and pack, run");
  const built = await execa("sh", ["-c", buildLine], { cwd: work, reject: false, all: true, extendEnv: false, env: terminalEnv({ npm_config_update_notifier: "false" }) });
  if (built.exitCode !== 0) throw new Error(`\`${buildLine}\` failed:\n${built.all}`);
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
  const tarball = path.join(clone, `create-svc-app-${version}.tgz`);
  if (!existsSync(tarball)) throw new Error(`\`${buildLine}\` wrote no ${path.basename(tarball)}`);
  return { tarball, dir: work, runLine };
}

/** The files inside a tarball, as paths relative to the package root. */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const listed = await execa("tar", ["-tzf", tarball]);
  return String(listed.stdout).split("\n").filter((l) => l && !l.endsWith("/")).map((l) => l.replace(/^package\//, "")).sort();
}

/**
 * The command lines users type to run a published package, for a tarball: `npx` is `npm exec`,
 * and `pnpm dlx` is pnpm's. Each gets a private cache inside `cacheRoot` so that a run neither
 * reuses nor leaves behind an install of an earlier tarball.
 */
export function packageRunners(tarball: string, cacheRoot: string) {
  return {
    npm: {
      argv: ["npm", "exec", "--yes", "--package", tarball, "--", "create-svc-app"],
      env: { npm_config_cache: path.join(cacheRoot, "npm-cache"), npm_config_update_notifier: "false" },
    },
    pnpm: {
      argv: ["npx", "-y", "pnpm@10", "dlx", tarball],
      env: { npm_config_cache_dir: path.join(cacheRoot, "pnpm-cache"), npm_config_update_notifier: "false" },
    },
  } as const;
}

/**
 * The environment of a terminal: this process's, without what `pnpm test` (or npm) sets for its
 * own children: a package runner started from a terminal announces itself, not the test runner.
 */
export function terminalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(npm_|PNPM_|INIT_CWD$)/i.test(k))) as Record<string, string>;
  return { ...env, ...extra };
}
