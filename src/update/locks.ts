import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CancelledError } from "../errors.js";
import { whenMatches, type Manifest, type OptionValues } from "../templates/manifest.js";
import { quote, runCommand } from "../steps/runner.js";
import type { PlannedFile, Version } from "./plan.js";

export interface LockOutcome {
  readonly path: string;
  /** The regenerated lock, or undefined when it could not be (see `problem`). */
  readonly content?: Buffer;
  /** Why it was not regenerated, and what to run: "poetry is not installed; run: poetry lock". */
  readonly problem?: string;
  readonly command: string;
}

/** The project's lock files: the manifest's `lock` entries that apply to the answers. */
export function lockFilesOf(manifest: Manifest, options: OptionValues) {
  return manifest.lock.filter((spec) => whenMatches(spec, options));
}

/**
 * Runs each lock command of the plan in a scratch copy of the lock's folder as it will be after
 * the merge, so the project itself is untouched until the writer moves everything in at once
 * (a failure or Ctrl-C here leaves it as it was). A conflict in the dependency manifest makes
 * the lock command fail: the lock is then flagged, to be regenerated once it is resolved.
 */
export async function regenerateLocks(
  plan: readonly PlannedFile[],
  manifest: Manifest,
  options: OptionValues,
  targetDir: string,
  signal: AbortSignal,
): Promise<LockOutcome[]> {
  const outcomes: LockOutcome[] = [];
  for (const spec of lockFilesOf(manifest, options)) {
    const entry = plan.find((f) => f.path === spec.file && f.regenerate);
    if (!entry) continue;
    const command = spec.run.map(quote).join(" ");
    const folder = path.posix.dirname(spec.file) === "." ? "" : path.posix.dirname(spec.file);
    const inFolder = (p: string) => path.posix.dirname(p) === (folder || ".");
    const conflicted = plan.filter((f) => f.status === "conflict" && inFolder(f.path)).map((f) => f.path);
    const scratch = await mkdtemp(path.join(tmpdir(), "svc-lock-"));
    try {
      await copyFolderAfterMerge(plan, targetDir, folder, scratch);
      const r = await runCommand(spec.run, { cwd: scratch, signal });
      if (r.interrupted || signal.aborted) throw new CancelledError();
      if (r.missing) outcomes.push({ path: spec.file, command, problem: `${spec.run[0]} is not installed, so it was not regenerated; run: ${command}` });
      else if (!r.ok && conflicted.length > 0) outcomes.push({ path: spec.file, command, problem: `not regenerated (${command} failed: ${lastLine(r.tail)}); resolve the conflicts in ${conflicted.join(", ")}, then run: ${command}` });
      else if (!r.ok) outcomes.push({ path: spec.file, command, problem: `not regenerated: ${command} exited with code ${r.exitCode} (${lastLine(r.tail)}); run it after fixing that` });
      else outcomes.push({ path: spec.file, command, content: await readFile(path.join(scratch, path.posix.basename(spec.file))) });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return outcomes;
}

/** The files directly in `folder` (not below it) as the update will leave them. */
async function copyFolderAfterMerge(plan: readonly PlannedFile[], targetDir: string, folder: string, scratch: string): Promise<void> {
  const source = path.join(targetDir, folder);
  const planned = new Map(plan.filter((f) => path.posix.dirname(f.path) === (folder || ".")).map((f) => [path.posix.basename(f.path), f]));
  const names = new Set([...planned.keys(), ...(await readdir(source, { withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => e.name)]);
  await mkdir(scratch, { recursive: true });
  for (const name of names) {
    const f = planned.get(name);
    if (f?.remove) continue;
    const write: Version | undefined = f?.write;
    if (write) await writeFile(path.join(scratch, name), write.content);
    else await cp(path.join(source, name), path.join(scratch, name)).catch(() => undefined);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "no output";
}
