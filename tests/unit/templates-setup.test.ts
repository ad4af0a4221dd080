import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import setup from "../helpers/templates-setup.js";
import { snapshotDir, tempDir } from "../helpers/cli.js";

describe("SVC_TEMPLATES: the suites test a copy", () => {
  it("copies the folder with links resolved into a staged package, so nothing writes through to the original", async () => {
    const saved = { templates: process.env.SVC_TEMPLATES, pkg: process.env.SVC_TEST_PACKAGE };
    const source = tempDir("svc-setup-");
    const elsewhere = tempDir("svc-setup-");
    mkdirSync(path.join(elsewhere, "base"), { recursive: true });
    writeFileSync(path.join(elsewhere, "base", "a.txt"), "original\n");
    mkdirSync(path.join(source, "demo"));
    symlinkSync(path.join(elsewhere, "base"), path.join(source, "demo", "base"));
    const before = { source: snapshotDir(source), elsewhere: snapshotDir(elsewhere) };
    try {
      process.env.SVC_TEMPLATES = source;
      delete process.env.SVC_TEST_PACKAGE;
      const teardown = await setup();
      const staged = process.env.SVC_TEST_PACKAGE!;
      const copied = path.join(staged, "templates", "demo", "base");
      expect(lstatSync(copied).isSymbolicLink()).toBe(false);
      writeFileSync(path.join(copied, "a.txt"), "changed by a test\n");
      expect(readFileSync(path.join(elsewhere, "base", "a.txt"), "utf8")).toBe("original\n");
      expect(existsSync(path.join(staged, "bin", "create-svc-app.js"))).toBe(true);
      // Its templates pack is the copy's (a stack-less folder here), not the repository's.
      expect(readFileSync(path.join(staged, "dist", "templates.pack"), "utf8")).not.toContain("fastapi");
      teardown!();
      expect(existsSync(staged)).toBe(false);
      expect({ source: snapshotDir(source), elsewhere: snapshotDir(elsewhere) }).toEqual(before);
    } finally {
      rmSync(source, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
      process.env.SVC_TEMPLATES = saved.templates;
      if (saved.templates === undefined) delete process.env.SVC_TEMPLATES;
      if (saved.pkg === undefined) delete process.env.SVC_TEST_PACKAGE;
      else process.env.SVC_TEST_PACKAGE = saved.pkg;
    }
  });
});
