import path from "node:path";
import { CancelledError, UserError } from "../errors.js";
import { randomBytes } from "../random.js";
import type { FileMap, RenderedFile } from "../render/render.js";
import { errorCode, type FsLike } from "./fs.js";
import { appendMissingKeys, type KeptFile } from "./keep.js";
import type { TargetState } from "./target.js";

export interface WriteRequest {
  readonly targetDir: string;
  /** What inspectTarget() saw; the writer checks again, since time has passed. */
  readonly target: TargetState;
  readonly files: FileMap;
  readonly force: boolean;
  /** Aborted on SIGINT/SIGTERM: the writer stops, undoes what it did and throws CancelledError. */
  readonly signal?: AbortSignal;
  /** Project files to delete (an update): moved aside, and put back on rollback. */
  readonly remove?: readonly string[];
  /**
   * Runs once every file is in place, before the backups are dropped (an update records git
   * state here); if it throws, everything is undone as for any other failure.
   */
  readonly finish?: () => Promise<void>;
  /** Called after each file is staged; tests use it to inject faults half-way. */
  readonly onFileStaged?: (path: string) => void | Promise<void>;
}

export interface WriteResult {
  /** Files written, kept files that were left untouched aside. */
  readonly written: readonly string[];
  /** Files that existed and were replaced (only with --force). */
  readonly replaced: readonly string[];
  /** Files marked `keep` that existed (only with --force): left as they were, missing keys appended. */
  readonly kept: readonly KeptFile[];
}

/**
 * The only code that touches the project directory. Files are written to a staging directory
 * beside the target, then moved into place. On any error or abort, everything it created is
 * removed and every file it replaced is put back: the disk is as it was before.
 */
export async function writeProject(fs: FsLike, request: WriteRequest): Promise<WriteResult> {
  const { targetDir, signal } = request;
  const undo: (() => Promise<void>)[] = [];
  // The real disk is written with synchronous calls (see realFs), so the event loop does not
  // turn by itself while the writer works: each check lets it turn first, for a signal that came
  // meanwhile (or while the files were rendered) to be seen before the next step.
  const checkAbort = async () => {
    await turnOfTheLoop();
    if (signal?.aborted) throw new CancelledError();
  };
  try {
    await checkAbort();
    const exists = await pathExists(fs, targetDir);
    if (!exists && request.target.kind !== "missing") throw new UserError(`${targetDir} disappeared while generating`);
    if (exists) await checkConflicts(fs, targetDir, request.files, request.force);
    // What is written: the rendered files, with kept files (.env) that exist merged or left out.
    const { files, kept } = exists ? await mergeKeptFiles(fs, targetDir, request.files) : { files: request.files, kept: [] };

    // Create missing ancestors of the target (remembered, so a rollback removes them).
    await makeDirs(fs, path.dirname(targetDir), undo);
    const staging = await makeStaging(fs, targetDir, exists, undo);
    await stageFiles(fs, staging, [...files.values()], checkAbort, request.onFileStaged);
    await checkAbort();

    const written = [...files.keys()];
    if (!exists) {
      await fs.rename(staging, targetDir);
      undo.push(() => fs.rm(targetDir, { recursive: true, force: true }));
      await fs.rm(`${staging}.backup`, { recursive: true, force: true });
      return { written, replaced: [], kept: [] };
    }

    const backup = `${staging}.backup`;
    const replaced: string[] = [];
    for (const rel of written) {
      await checkAbort();
      const dest = path.join(targetDir, rel);
      await makeDirs(fs, path.dirname(dest), undo);
      if (await pathExists(fs, dest)) {
        const saved = path.join(backup, rel);
        await fs.mkdir(path.dirname(saved), { recursive: true });
        await fs.rename(dest, saved);
        undo.push(() => fs.rename(saved, dest));
        replaced.push(rel);
      }
      await fs.rename(path.join(staging, rel), dest);
      undo.push(() => fs.rm(dest, { force: true }));
    }
    for (const rel of request.remove ?? []) {
      await checkAbort();
      const dest = path.join(targetDir, rel);
      if (!(await pathExists(fs, dest))) continue;
      const saved = path.join(backup, rel);
      await fs.mkdir(path.dirname(saved), { recursive: true });
      await fs.rename(dest, saved);
      undo.push(() => fs.rename(saved, dest));
      await removeEmptyParents(fs, targetDir, path.dirname(dest), undo);
    }
    await checkAbort();
    await request.finish?.();
    await fs.rm(staging, { recursive: true, force: true });
    await fs.rm(backup, { recursive: true, force: true });
    return { written, replaced: replaced.filter((p) => !kept.some((k) => k.path === p)), kept };
  } catch (error) {
    await rollback(undo);
    throw explain(error, targetDir);
  }
}

/** How many files are written at once (an asynchronous FsLike; realFs writes one after another): enough to keep a thread pool busy, few enough for any fd limit. */
const PARALLEL_WRITES = 16;
/** Files staged between two looks for a signal (each a turn of the event loop). */
const CHECK_EVERY = 16;

/** Two turns of the event loop: the I/O phase between them reads a signal that has come. */
function turnOfTheLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Writes the files into the fresh staging folder, which is ours alone: each folder is made once
 * (parents first, a level at a time) and the files are written side by side instead of one
 * mkdir + write + chmod after another. The umask is read off the staging folder itself, so a
 * file gets a chmod only when the umask took bits its mode must have (the template's mode wins).
 * Every write has ended before this returns or throws, so a rollback never races one.
 */
async function stageFiles(fs: FsLike, staging: string, files: readonly RenderedFile[], checkAbort: () => Promise<void>, onFileStaged: WriteRequest["onFileStaged"]): Promise<void> {
  const allowed = (await fs.lstat(staging)).mode & 0o777;
  for (const level of foldersByDepth(files.map((f) => f.path))) {
    await checkAbort();
    await Promise.all(level.map((dir) => fs.mkdir(path.join(staging, dir), {})));
  }
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < files.length) {
      const i = next++;
      const file = files[i]!;
      try {
        if (i % CHECK_EVERY === 0) await checkAbort();
        const dest = path.join(staging, file.path);
        await fs.writeFile(dest, file.content, { mode: file.mode, flag: "wx" });
        if ((file.mode & ~allowed) !== 0) await fs.chmod(dest, file.mode);
        await onFileStaged?.(file.path);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, files.length) }, worker));
  if (failure) throw failure.error;
}

/** The folders that hold the files ("a", "a/b", ...), grouped by depth: each level's parents are in the level before. */
function foldersByDepth(paths: readonly string[]): string[][] {
  const levels: Set<string>[] = [];
  for (const p of paths) {
    const parts = p.split("/").slice(0, -1);
    parts.forEach((_, i) => (levels[i] ??= new Set()).add(parts.slice(0, i + 1).join("/")));
  }
  return levels.map((level) => [...level]);
}

/**
 * Kept files (`keep` in the manifest) that already exist: one with nothing missing is dropped
 * from the files to write; one that lacks keys is written as its own bytes plus those keys,
 * with its own mode.
 */
async function mergeKeptFiles(fs: FsLike, targetDir: string, files: FileMap): Promise<{ files: FileMap; kept: KeptFile[] }> {
  const result = new Map(files);
  const kept: KeptFile[] = [];
  for (const file of files.values()) {
    if (!file.keep) continue;
    const dest = path.join(targetDir, file.path);
    if (!(await pathExists(fs, dest))) continue;
    const existing = (await fs.readFile(dest)).toString("utf8");
    const merged = appendMissingKeys(existing, file.content.toString("utf8"));
    kept.push({ path: file.path, appended: merged.appended });
    if (merged.appended.length === 0) result.delete(file.path);
    else result.set(file.path, { ...file, content: Buffer.from(merged.content, "utf8"), mode: (await fs.lstat(dest)).mode & 0o777 });
  }
  return { files: result, kept };
}

/** A place we may not write to is bad input (exit 2); other system errors pass through. */
function explain(error: unknown, targetDir: string): unknown {
  const code = errorCode(error);
  if (code && ["EACCES", "EPERM", "EROFS"].includes(code)) {
    const where = (error as NodeJS.ErrnoException).path ?? targetDir;
    const why = code === "EROFS" ? "the file system is read-only" : "permission denied";
    return new UserError(`cannot write ${targetDir}: ${why} (${where})`);
  }
  if (code === "ENOENT" && (error as NodeJS.ErrnoException).syscall === "mkdir") {
    return new UserError(`cannot write ${targetDir}: cannot create folders there (${(error as NodeJS.ErrnoException).path})`);
  }
  return error;
}

/** Runs the undo list backwards; keeps going when one undo fails, so the most is restored. */
async function rollback(undo: (() => Promise<void>)[]): Promise<void> {
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch {
      // best effort: a failed undo must not hide the original error
    }
  }
}

/** With --force, a template file may replace a file, never a directory or a link. */
async function checkConflicts(fs: FsLike, targetDir: string, files: FileMap, force: boolean): Promise<void> {
  const entries = await fs.readdir(targetDir);
  if (entries.length > 0 && !force) {
    throw new UserError(`${targetDir} is not empty; pass --force to add the template's files to it`);
  }
  for (const rel of files.keys()) {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const p = path.join(targetDir, ...parts.slice(0, i));
      let stat;
      try {
        stat = await fs.lstat(p);
      } catch (error) {
        if (errorCode(error) === "ENOENT") break;
        throw error;
      }
      const isLast = i === parts.length;
      if (stat.isSymbolicLink()) throw new UserError(`${p} is a symbolic link; the template would write through it`);
      if (isLast && !stat.isFile()) throw new UserError(`${p} exists and is not a file; the template needs to write a file there`);
      if (!isLast && !stat.isDirectory()) throw new UserError(`${p} exists and is not a directory; the template needs a folder there`);
    }
  }
}

async function makeStaging(fs: FsLike, targetDir: string, targetExists: boolean, undo: (() => Promise<void>)[]): Promise<string> {
  const suffix = (await randomBytes(4)).toString("hex");
  const beside = path.join(path.dirname(targetDir), `.${path.basename(targetDir)}.svc-app-${suffix}`);
  try {
    await fs.mkdir(beside, {});
    undo.push(() => fs.rm(beside, { recursive: true, force: true }));
    undo.push(() => fs.rm(`${beside}.backup`, { recursive: true, force: true }));
    return beside;
  } catch (error) {
    const code = errorCode(error);
    if (!targetExists || !["EACCES", "EPERM", "EROFS"].includes(code ?? "")) throw error;
  }
  // The parent is read-only but the target is writable: stage inside the target instead.
  const inside = path.join(targetDir, `.svc-app-${suffix}`);
  await fs.mkdir(inside, {});
  undo.push(() => fs.rm(inside, { recursive: true, force: true }));
  undo.push(() => fs.rm(`${inside}.backup`, { recursive: true, force: true }));
  return inside;
}

/** mkdir -p that records each directory it creates, so rollback can remove exactly those. */
async function makeDirs(fs: FsLike, dir: string, undo: (() => Promise<void>)[]): Promise<void> {
  const missing: string[] = [];
  let current = dir;
  while (!(await pathExists(fs, current))) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) {
    await fs.mkdir(d, {});
    undo.push(() => fs.rmdir(d));
  }
}

/** After a removal, folders it left empty go too (as git does), up to the project folder. */
async function removeEmptyParents(fs: FsLike, targetDir: string, dir: string, undo: (() => Promise<void>)[]): Promise<void> {
  for (let d = dir; d.startsWith(`${targetDir}${path.sep}`); d = path.dirname(d)) {
    if ((await fs.readdir(d)).length > 0) return;
    await fs.rmdir(d);
    undo.push(() => fs.mkdir(d, {}).then(() => undefined));
  }
}

async function pathExists(fs: FsLike, p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw error;
  }
}
