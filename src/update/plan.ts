import { isBinary, merge3, type MergeOptions } from "../merge/index.js";
import { appendMissingKeys } from "../write/keep.js";

/** One version of a file: its bytes and mode (0o644 or 0o755). */
export interface Version {
  readonly content: Buffer;
  readonly mode: number;
}

export type FileStatus = "unchanged" | "kept" | "updated" | "merged" | "conflict" | "added" | "removed";

export interface PlannedFile {
  readonly path: string;
  readonly status: FileStatus;
  /** Why, in a few words, when the status alone does not say it. */
  readonly note?: string;
  /** What the project file becomes; undefined: it stays as it is (or is removed, with `remove`). */
  readonly write?: Version;
  readonly remove?: boolean;
  /** For a conflict: the three versions to record in the git index (a missing one was deleted on that side). */
  readonly sides?: { readonly base?: Version; readonly ours?: Version; readonly theirs?: Version };
  /** A lock file the template changed: regenerate it from the merged manifest after the merge. */
  readonly regenerate?: boolean;
}

export interface PlanInput {
  /** The project as the generator made it (user-state files left out). */
  readonly base: ReadonlyMap<string, Version>;
  /** The project as it is now, for every path of base and theirs (absent: not there). */
  readonly ours: ReadonlyMap<string, Version>;
  /** The current template rendered with the (possibly changed) answers. */
  readonly theirs: ReadonlyMap<string, Version>;
  /** Files holding the user's state (the manifest's `keep`: `.env`): never replaced, missing keys appended. */
  readonly userState: ReadonlySet<string>;
  /** Lock files of the project (manifest `lock`): never merged line by line. */
  readonly lockFiles: ReadonlySet<string>;
  readonly merge?: MergeOptions;
}

/**
 * The per-file plan of an update, as a pure function of the three trees: the rules of the
 * update table (README "Updating a project"), one file at a time. Nothing is read or written.
 */
export function planUpdate(input: PlanInput): PlannedFile[] {
  const paths = [...new Set([...input.base.keys(), ...input.theirs.keys()])].sort();
  const plan = paths.map((p): PlannedFile => {
    const b = input.base.get(p);
    const o = input.ours.get(p);
    const t = input.theirs.get(p);
    if (input.userState.has(p)) return userState(p, o, t);
    if (input.lockFiles.has(p)) return lockFile(p, b, o, t);
    return threeWay(p, b, o, t, input.merge ?? {});
  });
  return noteRenames(plan, input);
}

function threeWay(path: string, b: Version | undefined, o: Version | undefined, t: Version | undefined, options: MergeOptions): PlannedFile {
  if (same(o, t)) return { path, status: "unchanged", ...(b && !same(b, o) ? { note: "already as the new template has it" } : {}) };
  if (same(o, b)) {
    if (!t) return { path, status: "removed", remove: true, note: "removed by the template" };
    return { path, status: b ? "updated" : "added", write: t };
  }
  if (same(t, b)) return { path, status: "kept", note: o ? "changed by you, not by the template" : "deleted by you, not changed by the template" };

  // Both sides changed it, differently.
  const sides = { ...(b ? { base: b } : {}), ...(o ? { ours: o } : {}), ...(t ? { theirs: t } : {}) };
  if (!t) return { path, status: "conflict", sides, note: "removed by the template, changed by you: yours is kept" };
  if (!o) return { path, status: "conflict", sides, write: t, note: "deleted by you, changed by the template: the template's version is written" };
  if (isBinary(o.content) || isBinary(t.content) || (b && isBinary(b.content))) {
    return { path, status: "conflict", sides, note: "binary, changed on both sides: yours is kept" };
  }
  const merged = merge3(b ? b.content.toString("utf8") : "", o.content.toString("utf8"), t.content.toString("utf8"), options);
  // A mode change (chmod +x) follows the side that made it; yours wins when both did.
  const mode = b && o.mode === b.mode ? t.mode : o.mode;
  const write = { content: Buffer.from(merged.text, "utf8"), mode };
  if (merged.conflicts === 0) return { path, status: "merged", write };
  const what = b ? `${merged.conflicts} conflicting change${merged.conflicts === 1 ? "" : "s"}` : "added by the template and by you";
  return { path, status: "conflict", sides, write, note: what };
}

/** `.env` and the like: never replaced; keys the new template adds are appended. */
function userState(path: string, o: Version | undefined, t: Version | undefined): PlannedFile {
  if (!o || !t) return { path, status: "unchanged", note: o ? "holds your settings" : "not in your project; not created" };
  const { content, appended } = appendMissingKeys(o.content.toString("utf8"), t.content.toString("utf8"), "create-svc-app update");
  if (appended.length === 0) return { path, status: "unchanged", note: "holds your settings; never replaced" };
  return { path, status: "updated", write: { content: Buffer.from(content, "utf8"), mode: o.mode }, note: `new keys appended: ${appended.join(", ")}` };
}

/**
 * A lock file the template did not change stays yours. One it changed is never merged line by
 * line: it starts from the template's (yours, if you changed it) and is regenerated from the
 * merged dependency manifest by the package manager.
 */
function lockFile(path: string, b: Version | undefined, o: Version | undefined, t: Version | undefined): PlannedFile {
  if (same(t, b) || same(o, t)) return { path, status: same(o, b) || same(o, t) ? "unchanged" : "kept" };
  if (!t) return same(o, b) ? { path, status: "removed", remove: true, note: "removed by the template" } : { path, status: "kept", note: "removed by the template, changed by you" };
  const start = o && !same(o, b) ? o : t;
  return { path, status: b ? "updated" : "added", write: start, regenerate: true };
}

/** A file the template removed whose content it added elsewhere was renamed: say so on both. */
function noteRenames(plan: PlannedFile[], input: PlanInput): PlannedFile[] {
  const added = plan.filter((f) => f.status === "added" || (f.status === "conflict" && !input.base.has(f.path)));
  const removed = plan.filter((f) => !input.theirs.has(f.path) && input.base.has(f.path));
  const renames = new Map<string, string>();
  for (const r of removed) {
    const to = added.find((a) => input.theirs.get(a.path)!.content.equals(input.base.get(r.path)!.content));
    if (to) {
      renames.set(r.path, `renamed by the template to ${to.path} (a remove plus an add)`);
      renames.set(to.path, `renamed by the template from ${r.path} (a remove plus an add)`);
    }
  }
  const generic = new Set([undefined, "removed by the template"]);
  return plan.map((f) => (renames.has(f.path) ? { ...f, note: [generic.has(f.note) ? undefined : f.note, renames.get(f.path)].filter(Boolean).join("; ") } : f));
}

function same(x: Version | undefined, y: Version | undefined): boolean {
  if (!x || !y) return x === y;
  return x.mode === y.mode && x.content.equals(y.content);
}
