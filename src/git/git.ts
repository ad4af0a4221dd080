import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** A file as git stores it: its bytes and whether it is executable. */
export interface GitFile {
  readonly content: Buffer;
  readonly mode: number;
}

interface GitRun {
  readonly stdout: Buffer;
  readonly ok: boolean;
  readonly stderr: string;
}

/**
 * Runs git with an argument array in `cwd`, binary-safe, never through a shell. Identity and
 * hooks of the user's configuration stay out of the plumbing commands used here.
 */
export async function git(cwd: string, args: readonly string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<GitRun> {
  const { execa } = await import("execa");
  const r = await execa("git", args, {
    cwd,
    reject: false,
    encoding: "buffer",
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" as const }),
    env: { GIT_TERMINAL_PROMPT: "0", ...options.env },
  });
  return { stdout: Buffer.from(r.stdout as Uint8Array), ok: r.exitCode === 0 && !r.failed, stderr: Buffer.from((r.stderr ?? new Uint8Array()) as Uint8Array).toString("utf8").trim() };
}

async function gitText(cwd: string, args: readonly string[], options?: Parameters<typeof git>[2]): Promise<string> {
  const r = await git(cwd, args, options);
  if (!r.ok) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.split("\n")[0] || "no message"}`);
  return r.stdout.toString("utf8");
}

/** Where `dir` sits in a git work tree: its top level and its path from there ("" or "sub/dir/"). */
export async function workTreeOf(dir: string): Promise<{ top: string; prefix: string } | undefined> {
  const r = await git(dir, ["rev-parse", "--show-toplevel", "--show-prefix"]).catch(() => undefined);
  if (!r?.ok) return undefined;
  const [top, prefix] = r.stdout.toString("utf8").split("\n");
  return { top: top!, prefix: prefix ?? "" };
}

/** Uncommitted changes under `dir`, untracked files included, as `git status --short` lines. */
export async function uncommitted(dir: string): Promise<string[]> {
  const out = await gitText(dir, ["status", "--porcelain=v1", "--untracked-files=all", "--", "."]);
  return out.split("\n").filter(Boolean);
}

export async function resolveCommit(dir: string, rev: string): Promise<string | undefined> {
  const r = await git(dir, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.ok ? r.stdout.toString("utf8").trim() : undefined;
}

/** Every file under `treeish` (e.g. `<commit>:sub/dir`), by path relative to it. */
export async function readTree(dir: string, treeish: string): Promise<Map<string, GitFile>> {
  const listing = await gitText(dir, ["ls-tree", "-r", "-z", "--full-tree", treeish]);
  const entries = listing.split("\0").filter(Boolean).map((line) => {
    const tab = line.indexOf("\t");
    const [mode, type, oid] = line.slice(0, tab).split(" ");
    return { mode: mode!, type: type!, oid: oid!, path: line.slice(tab + 1) };
  }).filter((e) => e.type === "blob" && e.mode !== "120000");
  const files = new Map<string, GitFile>();
  if (entries.length === 0) return files;
  // One `cat-file --batch` for all blobs: "<oid> blob <size>\n<content>\n" each.
  const r = await git(dir, ["cat-file", "--batch"], { input: `${entries.map((e) => e.oid).join("\n")}\n` });
  if (!r.ok) throw new Error(`git cat-file failed: ${r.stderr}`);
  let at = 0;
  for (const e of entries) {
    const eol = r.stdout.indexOf(10, at);
    const size = Number(r.stdout.subarray(at, eol).toString("utf8").split(" ")[2]);
    files.set(e.path, { content: Buffer.from(r.stdout.subarray(eol + 1, eol + 1 + size)), mode: e.mode === "100755" ? 0o755 : 0o644 });
    at = eol + 1 + size + 1;
  }
  return files;
}

/** Stores contents as blobs (one git call) and returns their object ids, in order. */
export async function writeBlobs(dir: string, contents: readonly Buffer[]): Promise<string[]> {
  if (contents.length === 0) return [];
  const scratch = await mkdtemp(path.join(tmpdir(), "svc-blobs-"));
  try {
    const paths = await Promise.all(contents.map(async (c, i) => {
      const p = path.join(scratch, String(i));
      await writeFile(p, c);
      return p;
    }));
    const out = await gitText(dir, ["hash-object", "-w", "--no-filters", "--stdin-paths"], { input: `${paths.join("\n")}\n` });
    return out.split("\n").filter(Boolean);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The generator's own identity for the commits it keeps (the user's is for their history). */
const GENERATOR_IDENTITY = {
  GIT_AUTHOR_NAME: "create-svc-app", GIT_AUTHOR_EMAIL: "create-svc-app@localhost.invalid",
  GIT_COMMITTER_NAME: "create-svc-app", GIT_COMMITTER_EMAIL: "create-svc-app@localhost.invalid",
};

/**
 * A commit of `files` (path -> content), made with a private index file, so the user's index,
 * work tree and branches are not touched. Returns its id.
 */
export async function commitFiles(dir: string, files: ReadonlyMap<string, GitFile>, message: string, parent?: string): Promise<string> {
  const paths = [...files.keys()];
  const oids = await writeBlobs(dir, paths.map((p) => files.get(p)!.content));
  const index = path.join(tmpdir(), `svc-index-${randomBytes(6).toString("hex")}`);
  try {
    const env = { GIT_INDEX_FILE: index };
    const info = paths.map((p, i) => `${files.get(p)!.mode & 0o111 ? "100755" : "100644"} ${oids[i]}\t${p}`).join("\n");
    await gitText(dir, ["update-index", "--add", "--index-info"], { input: `${info}\n`, env });
    const tree = (await gitText(dir, ["write-tree"], { env })).trim();
    const commit = await gitText(dir, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message], { env: GENERATOR_IDENTITY });
    return commit.trim();
  } finally {
    await rm(index, { force: true });
  }
}

/** Points `ref` at `commit`; with `expected`, only if it still points there (undefined: must not exist). */
export async function updateRef(dir: string, ref: string, commit: string, expected?: string | null): Promise<void> {
  const old = expected === undefined ? [] : [expected ?? "0".repeat(commit.length)];
  await gitText(dir, ["update-ref", "-m", "create-svc-app", ref, commit, ...old]);
}

export async function deleteRef(dir: string, ref: string): Promise<void> {
  await gitText(dir, ["update-ref", "-d", ref]);
}

/** One unmerged path: its versions as blob ids (a missing side is a delete in that side). */
export interface Unmerged {
  readonly path: string;
  readonly base?: { oid: string; mode: number };
  readonly ours?: { oid: string; mode: number };
  readonly theirs?: { oid: string; mode: number };
}

/**
 * Records conflicts in the index as git's merge does: the path's stage-0 entry is replaced by
 * stages 1 (base), 2 (ours), 3 (theirs), so `git status` says "both modified" (or "added by
 * both", "deleted by them"...) and `git mergetool` offers the three versions.
 */
export async function stageConflicts(top: string, prefix: string, entries: readonly Unmerged[]): Promise<void> {
  if (entries.length === 0) return;
  const zero = "0".repeat((entries[0]!.base ?? entries[0]!.ours ?? entries[0]!.theirs)!.oid.length);
  const lines: string[] = [];
  for (const e of entries) {
    const full = `${prefix}${e.path}`;
    lines.push(`0 ${zero}\t${full}`);
    ([["base", 1], ["ours", 2], ["theirs", 3]] as const).forEach(([side, stage]) => {
      const v = e[side];
      if (v) lines.push(`${v.mode & 0o111 ? "100755" : "100644"} ${v.oid} ${stage}\t${full}`);
    });
  }
  await gitText(top, ["update-index", "--index-info"], { input: `${lines.join("\n")}\n` });
}
