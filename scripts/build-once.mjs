// `tsup --silent`, unless dist/ was already built from the sources as they are now, and one build
// at a time. The test tiers that .ci/run starts side by side (test:e2e and test:boot) each begin
// with a build; tsup empties dist/ first, so a second build starting while the other tier runs
// the CLI from dist/ would pull the files from under it. Here the second waits for the first
// (a lock folder) and then finds dist/ current.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const INPUTS = ["src", "templates", "tsup.config.ts", "package.json", "pnpm-lock.yaml", "tsconfig.json"];
const stamp = path.join(root, "dist", ".built-from");
const lock = path.join(root, "dist.lock");
// A build takes seconds; a lock older than this was left by a build that was killed.
const STALE_LOCK_MS = 5 * 60_000;

function files(entry) {
  const full = path.join(root, entry);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full).sort().flatMap((name) => files(path.join(entry, name)));
}

function sourcesHash() {
  const hash = createHash("sha256");
  for (const file of INPUTS.flatMap(files)) hash.update(`${file}\0`).update(readFileSync(path.join(root, file))).update("\0");
  return hash.digest("hex");
}

async function withLock(fn) {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

await withLock(() => {
  const hash = sourcesHash();
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  execFileSync(path.join(root, "node_modules", ".bin", "tsup"), ["--silent"], { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, hash);
});
