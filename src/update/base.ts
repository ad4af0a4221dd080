import type { FileMap } from "../render/render.js";
import type { Answers } from "../options/types.js";
import { flagValue } from "../templates/manifest.js";
import { commitFiles, git, readTree, resolveCommit, updateRef, workTreeOf, type GitFile } from "../git/git.js";

/**
 * The base of a three-way update is the project exactly as the generator wrote it. It is kept
 * as a commit (files only, no `.env`) under a private ref: not a branch, so it never shows in
 * `git branch`, is not pushed by default, and costs only the objects that differ. A commit made
 * by create and by each update (its parent the previous base) needs no network, no old package
 * and no old templates to rebuild it, and survives template changes released under the same
 * version number.
 */
export function baseRef(prefix: string): string {
  const sub = prefix.replace(/\/+$/, "");
  // A project in a sub-folder of a repository gets its own ref, named after the folder.
  return sub ? `refs/svc-app/base-of/${sub.replace(/[^A-Za-z0-9._/-]|\.\.|\/\.|\.lock\b/g, "_")}` : "refs/svc-app/base";
}

/** Subject of the first commit made by the git step (kept stable: projects made before the base ref rely on it). */
export const FIRST_COMMIT_SUBJECT = "Initial commit from create-svc-app";

/** The files of a render that make up the base: everything but the user's state (the manifest's `keep`: `.env`). */
export function baseFiles(files: FileMap): Map<string, GitFile> {
  return new Map([...files.values()].filter((f) => !f.keep).map((f) => [f.path, { content: f.content, mode: f.mode }]));
}

/** The base commit's message: what was rendered, by which version. */
export function baseMessage(answers: Answers, version: string): string {
  return `create-svc-app base: ${[answers.stack, ...Object.entries(answers.options).map(([k, v]) => `${k}=${flagValue(v)}`)].join(" ")} (create-svc-app ${version})`;
}

/** Creates the base commit of the files a render produced (objects only; no ref moves). */
export function commitBase(dir: string, files: FileMap, answers: Answers, version: string, parent?: string): Promise<string> {
  return commitFiles(dir, baseFiles(files), baseMessage(answers, version), parent);
}

/** After create: the rendered files become the project's first base. */
export async function keepFirstBase(dir: string, files: FileMap, answers: Answers, version: string): Promise<void> {
  const tree = await workTreeOf(dir);
  if (!tree) return;
  await updateRef(dir, baseRef(tree.prefix), await commitBase(dir, files, answers, version));
}

export interface FoundBase {
  readonly files: Map<string, GitFile>;
  /** The commit it was read from. */
  readonly commit: string;
  /** Where it came from, for the report. */
  readonly source: string;
}

/**
 * The base recorded in git: the private ref, or else (a project made before the ref existed)
 * the generator's own first commit, found by its subject among the commits that added
 * `.svc-app.json`. Undefined when neither is there.
 */
export async function findBase(dir: string, prefix: string): Promise<FoundBase | undefined> {
  const ref = baseRef(prefix);
  const recorded = await resolveCommit(dir, ref);
  if (recorded) return { files: await readTree(dir, recorded), commit: recorded, source: ref };
  if (prefix) return undefined;
  const log = await git(dir, ["log", "--format=%H %s", "--diff-filter=A", "--", ".svc-app.json"]);
  if (!log.ok) return undefined;
  const first = log.stdout.toString("utf8").split("\n").map((l) => l.split(" ")).find(([, ...s]) => s.join(" ").startsWith(FIRST_COMMIT_SUBJECT));
  if (!first) return undefined;
  return { files: await readTree(dir, first[0]!), commit: first[0]!, source: `the first commit (${first[0]!.slice(0, 10)})` };
}
