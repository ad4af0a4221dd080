import { describe, expect, it } from "vitest";
import { CancelledError, UserError } from "../../src/errors.js";
import type { FileMap, RenderedFile } from "../../src/render/render.js";
import { inspectTarget } from "../../src/write/target.js";
import { writeProject } from "../../src/write/writer.js";
import { memDisk } from "../helpers/memfs.js";

function fileMap(entries: Record<string, string>): FileMap {
  return new Map(Object.entries(entries).map(([p, c]): [string, RenderedFile] => [p, { path: p, content: Buffer.from(c), mode: p === ".env" ? 0o600 : 0o644, source: "test" }]));
}
const project = fileMap({ "README.md": "new readme", ".env": "SECRET=1", "app/main.py": "print()", "app/db/session.py": "x" });

describe("writeProject", () => {
  it("creates a missing target (and its parents) through a staging directory", async () => {
    const { fs, snapshot, vol } = memDisk({ "/work/keep.txt": "keep" });
    const target = await inspectTarget(fs, "/work/a/b/my-api", "a/b/my-api");
    expect(target).toEqual({ kind: "missing" });
    const result = await writeProject(fs, { targetDir: "/work/a/b/my-api", target, files: project, force: false });
    expect(result.written).toHaveLength(4);
    expect(snapshot()).toEqual({
      "/work/keep.txt": "keep",
      "/work/a/b/my-api/README.md": "new readme",
      "/work/a/b/my-api/.env": "SECRET=1",
      "/work/a/b/my-api/app/main.py": "print()",
      "/work/a/b/my-api/app/db/session.py": "x",
    });
    expect(vol.statSync("/work/a/b/my-api/.env").mode & 0o777).toBe(0o600);
    expect(vol.readdirSync("/work/a/b")).toEqual(["my-api"]); // no staging left behind
  });

  it("refuses a non-empty target without --force and writes nothing", async () => {
    const { fs, snapshot } = memDisk({ "/work/my-api/notes.txt": "mine" });
    const before = snapshot();
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    expect(target).toEqual({ kind: "non-empty", entries: 1 });
    await expect(writeProject(fs, { targetDir: "/work/my-api", target, files: project, force: false })).rejects.toThrowError(UserError);
    expect(snapshot()).toEqual(before);
  });

  it("with --force writes the template's files, replaces same-named ones and touches nothing else", async () => {
    const { fs, snapshot } = memDisk({ "/work/my-api/notes.txt": "mine", "/work/my-api/README.md": "old readme", "/work/my-api/app/legacy.py": "old" });
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    const result = await writeProject(fs, { targetDir: "/work/my-api", target, files: project, force: true });
    expect(result.replaced).toEqual(["README.md"]);
    expect(snapshot()).toEqual({
      "/work/my-api/notes.txt": "mine",
      "/work/my-api/README.md": "new readme",
      "/work/my-api/app/legacy.py": "old",
      "/work/my-api/.env": "SECRET=1",
      "/work/my-api/app/main.py": "print()",
      "/work/my-api/app/db/session.py": "x",
    });
  });

  it("rolls back a write that fails half-way: the disk is as it was", async () => {
    const { fs, snapshot } = memDisk({ "/work/other.txt": "x" });
    const before = snapshot();
    const target = await inspectTarget(fs, "/work/new/my-api", "new/my-api");
    let staged = 0;
    const failing = writeProject(fs, {
      targetDir: "/work/new/my-api", target, files: project, force: false,
      onFileStaged: () => {
        if (++staged === 2) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      },
    });
    await expect(failing).rejects.toThrowError(/ENOSPC/);
    expect(snapshot()).toEqual(before);
  });

  it("rolls back a --force write that fails while moving files in, restoring replaced files", async () => {
    const { fs, snapshot } = memDisk({ "/work/my-api/README.md": "old readme", "/work/my-api/notes.txt": "mine" });
    const before = snapshot();
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    const realRename = fs.rename.bind(fs);
    let moves = 0;
    fs.rename = async (from, to) => {
      if (to.startsWith("/work/my-api/app/db") && ++moves === 1) throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
      return realRename(from, to);
    };
    await expect(writeProject(fs, { targetDir: "/work/my-api", target, files: project, force: true })).rejects.toThrowError(/EIO/);
    fs.rename = realRename;
    expect(snapshot()).toEqual(before);
  });

  it("stops and rolls back when aborted (Ctrl-C), throwing CancelledError", async () => {
    const { fs, snapshot } = memDisk({ "/work/x": "1" });
    const before = snapshot();
    const controller = new AbortController();
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    const writing = writeProject(fs, {
      targetDir: "/work/my-api", target, files: project, force: false, signal: controller.signal,
      onFileStaged: () => controller.abort(),
    });
    await expect(writing).rejects.toThrowError(CancelledError);
    expect(snapshot()).toEqual(before);
  });

  it("refuses to replace a directory or write through a file where a folder is needed", async () => {
    const { fs, snapshot } = memDisk({ "/work/my-api/README.md/inner": "dir", "/work/p/app": "a file" });
    const before = snapshot();
    const t1 = await inspectTarget(fs, "/work/my-api", "my-api");
    await expect(writeProject(fs, { targetDir: "/work/my-api", target: t1, files: project, force: true })).rejects.toThrowError(/README.md exists and is not a file/);
    const t2 = await inspectTarget(fs, "/work/p", "p");
    await expect(writeProject(fs, { targetDir: "/work/p", target: t2, files: project, force: true })).rejects.toThrowError(/app exists and is not a directory/);
    expect(snapshot()).toEqual(before);
  });

  it("refuses a target that is a file", async () => {
    const { fs } = memDisk({ "/work/my-api": "a file" });
    await expect(inspectTarget(fs, "/work/my-api", "my-api")).rejects.toThrowError("my-api exists and is not a directory");
  });
});

describe("writeProject for an update: removals and a final step", () => {
  const existing = { "/work/my-api/README.md": "old readme", "/work/my-api/old.txt": "obsolete", "/work/my-api/notes.txt": "mine", "/work/my-api/gone/deep/x.py": "x" };

  it("replaces, adds and removes files, then runs finish once everything is in place", async () => {
    const { fs, snapshot, vol } = memDisk(existing);
    let seen: Record<string, string | null> = {};
    await writeProject(fs, {
      targetDir: "/work/my-api", target: { kind: "non-empty", entries: 3 }, force: true,
      files: fileMap({ "README.md": "new readme", "lib/new.txt": "added" }),
      remove: ["old.txt", "gone/deep/x.py"],
      finish: async () => {
        seen = snapshot();
      },
    });
    const expected = { "/work/my-api/README.md": "new readme", "/work/my-api/lib/new.txt": "added", "/work/my-api/notes.txt": "mine" };
    expect(snapshot()).toEqual(expected);
    expect(Object.keys(seen).filter((p) => p.startsWith("/work/my-api/"))).toEqual(expect.arrayContaining(Object.keys(expected)));
    expect(seen["/work/my-api/old.txt"]).toBeUndefined();
    expect(vol.existsSync("/work/my-api/gone")).toBe(false); // folders left empty go too
  });

  it("when finish fails, every replaced and removed file is back and nothing added stays", async () => {
    const { fs, snapshot } = memDisk(existing);
    const before = snapshot();
    const request = {
      targetDir: "/work/my-api", target: { kind: "non-empty", entries: 3 } as const, force: true,
      files: fileMap({ "README.md": "new readme", "lib/new.txt": "added" }),
      remove: ["old.txt", "gone/deep/x.py"],
      finish: () => Promise.reject(new Error("git update-index failed")),
    };
    await expect(writeProject(fs, request)).rejects.toThrow("git update-index failed");
    expect(snapshot()).toEqual(before);
  });
});
