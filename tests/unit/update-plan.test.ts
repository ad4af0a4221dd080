import { describe, expect, it } from "vitest";
import { planUpdate, type Version } from "../../src/update/plan.js";
import { recoverSecret } from "../../src/update/record.js";
import type { FileMap } from "../../src/render/render.js";

const v = (text: string, mode = 0o644): Version => ({ content: Buffer.from(text), mode });
const tree = (files: Record<string, string | Version>) => new Map(Object.entries(files).map(([p, c]) => [p, typeof c === "string" ? v(c) : c]));
const plan = (base: Record<string, string | Version>, ours: Record<string, string | Version>, theirs: Record<string, string | Version>, lockFiles: string[] = []) =>
  Object.fromEntries(planUpdate({ base: tree(base), ours: tree(ours), theirs: tree(theirs), userState: new Set([".env", "sub/.env"]), lockFiles: new Set(lockFiles) }).map((f) => [f.path, f]));

describe("planUpdate: one rule per row of the update table", () => {
  it("unchanged by you -> the template's; unchanged by the template -> yours; both -> merged", () => {
    const p = plan(
      { a: "1\n2\n3\n", b: "x\n", c: "1\n2\n3\n4\n5\n" },
      { a: "1\n2\n3\n", b: "mine\n", c: "ONE\n2\n3\n4\n5\n" },
      { a: "1\n2\nTHREE\n", b: "x\n", c: "1\n2\n3\n4\nFIVE\n" },
    );
    expect([p.a!.status, p.a!.write?.content.toString()]).toEqual(["updated", "1\n2\nTHREE\n"]);
    expect([p.b!.status, p.b!.write]).toEqual(["kept", undefined]);
    expect([p.c!.status, p.c!.write?.content.toString()]).toEqual(["merged", "ONE\n2\n3\n4\nFIVE\n"]);
  });

  it("added, removed, and the conflicts of adding and removing", () => {
    const p = plan({ gone: "old\n", changed: "v1\n", deleted: "v1\n" }, { gone: "old\n", changed: "mine\n", there: "mine\n" }, { added: "new\n", there: "theirs\n", deleted: "v2\n" });
    expect(p.added!.status).toBe("added");
    expect([p.gone!.status, p.gone!.remove]).toEqual(["removed", true]);
    expect([p.changed!.status, p.changed!.write, Object.keys(p.changed!.sides!)]).toEqual(["conflict", undefined, ["base", "ours"]]);
    expect([p.there!.status, Object.keys(p.there!.sides!)]).toEqual(["conflict", ["ours", "theirs"]]);
    expect([p.deleted!.status, p.deleted!.write?.content.toString(), Object.keys(p.deleted!.sides!)]).toEqual(["conflict", "v2\n", ["base", "theirs"]]);
  });

  it("a mode change follows the side that made it", () => {
    const p = plan({ run: v("a\nb\nc\n") }, { run: v("A\nb\nc\n") }, { run: v("a\nb\nC\n", 0o755) });
    expect([p.run!.status, p.run!.write!.mode]).toEqual(["merged", 0o755]);
  });

  it("binary files changed on both sides are a conflict, yours kept", () => {
    const p = plan({ img: "\0base" }, { img: "\0ours" }, { img: "\0theirs" });
    expect([p.img!.status, p.img!.write]).toEqual(["conflict", undefined]);
  });

  it(".env is never replaced: new keys appended, nothing created", () => {
    const p = plan({}, { ".env": "A=mine\n" }, { ".env": "A=theirs\nB=2\n", "sub/.env": "X=1\n" });
    expect([p[".env"]!.status, p[".env"]!.write?.content.toString()]).toEqual(["updated", "A=mine\n# Added by create-svc-app update: settings the template has that this file lacked.\nB=2\n"]);
    expect([p["sub/.env"]!.status, p["sub/.env"]!.write]).toEqual(["unchanged", undefined]);
  });

  it("a lock file the template changed is regenerated from yours if you changed it, else from the template's; never merged", () => {
    expect(plan({ l: "b\n" }, { l: "b\n" }, { l: "t\n" }, ["l"]).l).toMatchObject({ status: "updated", regenerate: true, write: v("t\n") });
    expect(plan({ l: "b\n" }, { l: "o\n" }, { l: "t\n" }, ["l"]).l).toMatchObject({ status: "updated", regenerate: true, write: v("o\n") });
    expect(plan({ l: "b\n" }, { l: "o\n" }, { l: "b\n" }, ["l"]).l).toMatchObject({ status: "kept" });
  });
});

describe("recoverSecret", () => {
  it("finds the value on the line the marked render puts the marker, with the text around it", () => {
    const marked: FileMap = new Map([[".env", { path: ".env", content: Buffer.from("DB_PASSWORD=MARK\nURL=postgres://u:MARK@h/db\n"), mode: 0o600, source: "t" }]]);
    expect(recoverSecret(marked, "MARK", [new Map([[".env", Buffer.from("DB_PASSWORD=s3cret_-x\n")]])])).toBe("s3cret_-x");
    expect(recoverSecret(marked, "MARK", [new Map([[".env", Buffer.from("URL=postgres://u:abc@h/db\n")]])])).toBe("abc");
    expect(recoverSecret(marked, "MARK", [new Map([[".env", Buffer.from("OTHER=1\n")]])])).toBeUndefined();
  });
});
