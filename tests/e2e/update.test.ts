import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCli, tempDir } from "../helpers/cli.js";
import { CI, dropDatabaseAndRole, missingPrerequisites, sh, Timings, uniqueDbNames } from "./harness.js";
import { makeDb } from "./database.js";

// `create-svc-app update` on a real FastAPI project: made from an older version of the template,
// changed by its user, updated to the current template, then installed, migrated and tested.
process.env.PATH = `${path.join(repoRoot, "scripts", "support", "bin")}:${process.env.PATH}`;

const missing = await missingPrerequisites([
  { name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" },
  { name: "make", check: ["make", "--version"], how: "`apt-get install make`" },
]);
if (missing.length > 0) {
  if (CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
  console.warn(`Skipping the update e2e tier:\n${missing.join("\n")}`);
}
const machinePython = (await sh("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { cwd: "/" })).trim();

/**
 * The bundled templates as an earlier release might have had them: the Makefile without its
 * `format` target, a README line worded differently, a module since removed, and a .env without
 * LOG_LEVEL... each a row of the update table that the real template then brings back.
 */
function olderTemplates(): string {
  const root = path.join(tempDir("svc-upd-old-"), "templates");
  cpSync(path.join(repoRoot, "templates"), root, { recursive: true });
  const edit = (rel: string, change: (text: string) => string) => {
    const file = path.join(root, rel);
    const before = readFileSync(file, "utf8");
    const after = change(before);
    if (after === before) throw new Error(`the older-template edit of ${rel} changed nothing: update this test to the template`);
    writeFileSync(file, after);
  };
  edit("fastapi/base/Makefile.hbs", (t) => t.replace(/^format:.*\n(\t.*\n)+/m, ""));
  edit("fastapi/base/README.md.hbs", (t) => `${t.trimEnd()}\n\nThis line was reworded later.\n`);
  edit("fastapi/base/_env.hbs", (t) => `${t.trimEnd()}\nLEGACY_SETTING=1\n`);
  mkdirSync(path.join(root, "fastapi", "base", "app", "legacy"), { recursive: true });
  writeFileSync(path.join(root, "fastapi", "base", "app", "legacy", "__init__.py"), '"""Removed from the template since."""\n');
  return root;
}

const timings = new Timings();
afterAll(() => timings.print("update e2e step times"));

describe.skipIf(missing.length > 0)("update: an older FastAPI project, changed by its user, brought to the current template", () => {
  const { dbName, dbUser } = uniqueDbNames("upd");
  const env = { POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_NO_INTERACTION: "1", PYTHONDONTWRITEBYTECODE: "1" };
  const gitEnv = { ...env, GIT_AUTHOR_NAME: "User", GIT_AUTHOR_EMAIL: "user@example.invalid", GIT_COMMITTER_NAME: "User", GIT_COMMITTER_EMAIL: "user@example.invalid" };
  let dir = "";

  beforeAll(() => dropDatabaseAndRole(dbName, dbUser));
  afterAll(() => dropDatabaseAndRole(dbName, dbUser));

  it("1. generates from the older templates (git, no install), the user changes it and commits", async () => {
    const cwd = tempDir("svc-e2e-upd-");
    const r = await runCli(["svc-upd", "--yes", "--no-install", "--templates", olderTemplates(), "--python", machinePython, "--db-name", dbName, "--db-user", dbUser], { cwd, env });
    expect(r.exitCode, r.stderr).toBe(0);
    dir = path.join(cwd, "svc-upd");
    writeFileSync(path.join(dir, "README.md"), `Owned by the billing team.\n\n${readFileSync(path.join(dir, "README.md"), "utf8")}`);
    writeFileSync(path.join(dir, "app", "answer.py"), '"""Our own module."""\n\nANSWER = 42\n');
    writeFileSync(path.join(dir, ".env"), `${readFileSync(path.join(dir, ".env"), "utf8")}OUR_SETTING=yes\n`);
    await sh("git", ["add", "--all"], { cwd: dir, env: gitEnv });
    await sh("git", ["commit", "-qm", "our changes"], { cwd: dir, env: gitEnv });
  });

  it("2. update (also switching --orm to sqlmodel) brings the template's changes in and keeps the user's", async () => {
    const envBefore = readFileSync(path.join(dir, ".env"), "utf8");
    const r = await timings.time("fastapi", "update --orm sqlmodel", () => runCli(["update", "--json", "--orm", "sqlmodel"], { cwd: dir, env, timeout: 300_000 }));
    expect(r.exitCode, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { files: { path: string; status: string; note?: string }[]; conflicts: string[] };
    const status = Object.fromEntries(plan.files.map((f) => [f.path, f.status]));
    expect(status).toMatchObject({
      Makefile: "updated", "README.md": "merged", "app/legacy/__init__.py": "removed", "app/main.py": "unchanged", ".env": "unchanged",
      "app/models/item.py": "updated", "pyproject.toml": "updated", "poetry.lock": "updated",
    });
    // The lock is made by Poetry from the merged pyproject.toml, not merged line by line.
    expect(plan.files.find((f) => f.path === "poetry.lock")!.note).toBe("regenerated: poetry lock");
    expect(plan.conflicts).toEqual([]);
    expect(readFileSync(path.join(dir, "Makefile"), "utf8")).toMatch(/^format:/m);
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(/^Owned by the billing team\.$/m);
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).not.toContain("This line was reworded later.");
    // .env is the user's, byte for byte (the template dropped a key: nothing to append).
    expect(readFileSync(path.join(dir, ".env"), "utf8")).toBe(envBefore);
    expect(readFileSync(path.join(dir, "app", "answer.py"), "utf8")).toContain("ANSWER = 42");
  });

  it("3. the updated project installs, creates its database (make db), migrates and passes its own tests", async () => {
    await timings.time("fastapi", "poetry install", () => sh("poetry", ["install"], { cwd: dir, env }));
    expect((await sh("poetry", ["run", "python", "-c", "import sqlmodel; print('ok')"], { cwd: dir, env })).trim()).toBe("ok");
    await timings.time("fastapi", "make db", () => makeDb(dir, env));
    await timings.time("fastapi", "make migrate", () => sh("make", ["migrate"], { cwd: dir, env }));
    const out = await timings.time("fastapi", "make test", () => sh("make", ["test"], { cwd: dir, env }));
    expect(out).toMatch(/\d+ passed/);
    expect(out).not.toMatch(/\d+ (failed|error)/);
  });
});
