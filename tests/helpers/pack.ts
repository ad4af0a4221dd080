import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { repoRoot, tempDir } from "./cli.js";

/**
 * Packs the CLI the way a release does, from what a clean clone holds: the files git tracks (and
 * new ones it does not ignore) are copied to a temporary folder without `dist/`, the installed
 * node_modules are linked in (as after `pnpm install`), and `npm pack` runs there, so its
 * `prepack` must build. Returns the tarball's path and the folder that holds it.
 */
export async function packCleanClone(): Promise<{ tarball: string; dir: string }> {
  const work = tempDir("svc-pack-");
  const clone = path.join(work, "clone");
  const listed = await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot });
  for (const rel of String(listed.stdout).split("\0").filter(Boolean)) {
    const to = path.join(clone, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      copyFileSync(path.join(repoRoot, rel), to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // deleted but not yet staged
    }
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(clone, "node_modules"));
  const out = path.join(work, "out");
  mkdirSync(out);
  await execa("npm", ["pack", "--silent", "--pack-destination", out], { cwd: clone, env: { npm_config_update_notifier: "false" } });
  const [name] = readdirSync(out);
  return { tarball: path.join(out, name!), dir: work };
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
