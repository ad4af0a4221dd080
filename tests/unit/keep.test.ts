import { describe, expect, it } from "vitest";
import type { FileMap, RenderedFile } from "../../src/render/render.js";
import { appendMissingKeys } from "../../src/write/keep.js";
import { inspectTarget } from "../../src/write/target.js";
import { writeProject } from "../../src/write/writer.js";
import { memDisk } from "../helpers/memfs.js";

const rendered = "# header\nAPP_ENV=development\n# the service's password\nDB_PASSWORD=new-generated\n# the superuser's\nPOSTGRES_PASSWORD=new-super\n";

describe("appendMissingKeys", () => {
  it("returns the existing text itself when no key is missing", () => {
    const existing = "APP_ENV=production\r\nexport DB_PASSWORD='mine'   \nPOSTGRES_PASSWORD=\n# my notes";
    expect(appendMissingKeys(existing, rendered)).toEqual({ content: existing, appended: [] });
  });

  it("keeps every existing byte and appends only the missing keys, each with its comment", () => {
    const existing = "APP_ENV=production\nDB_PASSWORD=mine # no newline at the end";
    const { content, appended } = appendMissingKeys(existing, rendered);
    expect(appended).toEqual(["POSTGRES_PASSWORD"]);
    expect(content.startsWith(`${existing}\n`)).toBe(true);
    expect(content.slice(existing.length + 1)).toBe("# Added by create-svc-app --force: settings the template has that this file lacked.\n# the superuser's\nPOSTGRES_PASSWORD=new-super\n");
  });

  it("counts a commented-out key as missing", () => {
    expect(appendMissingKeys("# DB_PASSWORD=old\nAPP_ENV=x\nPOSTGRES_PASSWORD=y\n", rendered).appended).toEqual(["DB_PASSWORD"]);
  });
});

describe("writeProject with a kept file (--force)", () => {
  const files: FileMap = new Map(Object.entries({ ".env": rendered, "README.md": "new readme" }).map(([p, c]): [string, RenderedFile] =>
    [p, { path: p, content: Buffer.from(c), mode: p === ".env" ? 0o600 : 0o644, source: "test", ...(p === ".env" ? { keep: true } : {}) }]));

  it("leaves a complete .env untouched (content and mode) and reports it kept, not written", async () => {
    const env = "APP_ENV=production\nDB_PASSWORD=mine\nPOSTGRES_PASSWORD=also-mine\n";
    const { fs, snapshot, vol } = memDisk({ "/work/my-api/.env": env, "/work/my-api/README.md": "old" });
    vol.chmodSync("/work/my-api/.env", 0o640);
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    const result = await writeProject(fs, { targetDir: "/work/my-api", target, files, force: true });
    expect(result).toEqual({ written: ["README.md"], replaced: ["README.md"], kept: [{ path: ".env", appended: [] }] });
    expect(snapshot()).toEqual({ "/work/my-api/.env": env, "/work/my-api/README.md": "new readme" });
    expect(vol.statSync("/work/my-api/.env").mode & 0o777).toBe(0o640);
  });

  it("appends the keys .env lacks, keeping its mode; a failure later puts the old .env back", async () => {
    const env = "DB_PASSWORD=mine\n";
    const { fs, snapshot, vol } = memDisk({ "/work/my-api/.env": env });
    vol.chmodSync("/work/my-api/.env", 0o600);
    const target = await inspectTarget(fs, "/work/my-api", "my-api");
    const result = await writeProject(fs, { targetDir: "/work/my-api", target, files, force: true });
    expect(result.kept).toEqual([{ path: ".env", appended: ["APP_ENV", "POSTGRES_PASSWORD"] }]);
    expect(result.replaced).toEqual([]);
    const after = snapshot()["/work/my-api/.env"]!;
    expect(after.startsWith(env)).toBe(true);
    expect(after).toContain("\nPOSTGRES_PASSWORD=new-super\n");
    expect(after).not.toContain("new-generated");

    const again = memDisk({ "/work/my-api/.env": env });
    const before = again.snapshot();
    const realRename = again.fs.rename.bind(again.fs);
    again.fs.rename = async (from, to) => {
      if (to.endsWith("README.md")) throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
      return realRename(from, to);
    };
    const againTarget = await inspectTarget(again.fs, "/work/my-api", "my-api");
    await expect(writeProject(again.fs, { targetDir: "/work/my-api", target: againTarget, files, force: true })).rejects.toThrowError(/EIO/);
    expect(again.snapshot()).toEqual(before);
  });
});
