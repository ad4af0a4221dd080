import path from "node:path";
import { constants } from "node:fs";
import { UserError } from "../errors.js";
import { errorCode, type FsLike } from "./fs.js";

/** What is at the target path before we write anything. */
export type TargetState =
  | { kind: "missing" }
  | { kind: "empty" }
  | { kind: "non-empty"; entries: number };

/**
 * Looks at the target path and refuses what we will never write into: a file, a symbolic link,
 * a directory we cannot write, a parent we cannot create a folder in.
 */
export async function inspectTarget(fs: FsLike, targetDir: string, shown: string): Promise<TargetState> {
  let stat;
  try {
    stat = await fs.lstat(targetDir);
  } catch (error) {
    if (!isMissing(error)) throw new UserError(`cannot read ${shown}: ${errorCode(error) ?? String(error)}`);
    await checkParentWritable(fs, targetDir, shown);
    return { kind: "missing" };
  }
  if (stat.isSymbolicLink()) throw new UserError(`${shown} is a symbolic link; give the real directory instead`);
  if (!stat.isDirectory()) throw new UserError(`${shown} exists and is not a directory`);
  try {
    await fs.access(targetDir, constants.W_OK);
  } catch {
    throw new UserError(`${shown} is not writable`);
  }
  const entries = (await fs.readdir(targetDir)).length;
  return entries === 0 ? { kind: "empty" } : { kind: "non-empty", entries };
}

/** Walks up to the nearest existing ancestor: it must be a writable directory. */
async function checkParentWritable(fs: FsLike, targetDir: string, shown: string): Promise<void> {
  let dir = path.dirname(targetDir);
  for (;;) {
    try {
      const stat = await fs.lstat(dir);
      if (!stat.isDirectory() && !stat.isSymbolicLink()) throw new UserError(`cannot create ${shown}: ${dir} is a file`);
      try {
        await fs.access(dir, constants.W_OK);
      } catch {
        throw new UserError(`cannot create ${shown}: ${dir} is not writable`);
      }
      return;
    } catch (error) {
      if (error instanceof UserError) throw error;
      if (!isMissing(error) || path.dirname(dir) === dir) throw new UserError(`cannot create ${shown}: ${dir} is not accessible`);
      dir = path.dirname(dir);
    }
  }
}

/** Nothing there: the path does not exist, or one of its parents is a file. */
function isMissing(error: unknown): boolean {
  return ["ENOENT", "ENOTDIR"].includes(errorCode(error) ?? "");
}
