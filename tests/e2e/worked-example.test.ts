import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it, onTestFinished } from "vitest";
import { repoRoot, runCli, tempDir, templatesRoot } from "../helpers/cli.js";
import { applyWorkedExample } from "../helpers/worked-example.js";
import { loadManifests } from "../../src/templates/registry.js";
import { cliVariants, variantName } from "../../src/templates/variants.js";
import { CI, missingPrerequisites, sh } from "./harness.js";

// The authoring guide's "add an option value end to end", done to a copy of the templates under
// test as a maintainer would: edit, lock (real Poetry, through the same wrapper as the e2e tier),
// check, then the static tier with SVC_TEMPLATES, with no test edited.
const missing = await missingPrerequisites([{ name: "Poetry 2", check: ["poetry", "--version"], how: "`python3 -m pip install 'poetry>=2.2,<3'`" }]);
if (missing.length > 0 && CI) throw new Error(`e2e prerequisites missing:\n${missing.join("\n")}`);
const machinePython = (await sh("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { cwd: "/" })).trim();

describe.skipIf(missing.length > 0)("worked example: --log-format json for FastAPI, applied to a copy", () => {
  it("templates:lock creates the new locks, templates check is clean, and the static tier covers the new value", async () => {
    const work = tempDir("svc-worked-");
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const root = path.join(work, "templates");
    const elsewhere = path.join(work, "elsewhere"); // a working directory outside the templates: paths print in full
    mkdirSync(elsewhere);
    cpSync(templatesRoot, root, { recursive: true });
    applyWorkedExample(root);

    // Step 7 before step 6: the check says what is missing and how to make it.
    const before = await runCli(["templates", "check", root], { cwd: elsewhere, timeout: 120_000 });
    expect(before.exitCode, before.stdout).toBe(1);
    expect(before.stdout).toContain(`layer folder ${root}/fastapi/lock-sqlalchemy-json does not exist: pnpm templates:lock --templates ${root} creates it with its lock [layer]`);
    expect(before.stdout).toMatch(/orm=sqlmodel( \S+=\S+)* log-format=json generates without poetry\.lock, which lock\[0\] declares/);

    // Step 6: the guide's command.
    const lock = await execa(process.execPath, ["scripts/lock-templates.mjs", "fastapi", "--templates", root, "--only", "log-format=json", "--set", `python=${machinePython}`], {
      cwd: repoRoot, reject: false, all: true, timeout: 600_000,
    });
    expect(lock.exitCode, String(lock.all)).toBe(0);
    expect(String(lock.all)).toContain("4 lock files written");
    for (const orm of ["sqlalchemy", "sqlmodel"]) {
      expect(readFileSync(path.join(root, "fastapi", `lock-${orm}-json`, "poetry.lock.hbs"), "utf8")).toMatch(/^name = "python-json-logger"$/m);
      expect(readFileSync(path.join(root, "fastapi", `lock-${orm}`, "poetry.lock.hbs"), "utf8")).not.toContain("python-json-logger");
      expect(readFileSync(path.join(root, "fastapi", `lock-uv-${orm}-json`, "uv.lock.hbs"), "utf8")).toMatch(/^name = "python-json-logger"$/m);
      expect(readFileSync(path.join(root, "fastapi", `lock-uv-${orm}`, "uv.lock.hbs"), "utf8")).not.toContain("python-json-logger");
    }

    // Step 7: clean.
    const after = await runCli(["templates", "check", root], { cwd: elsewhere, timeout: 120_000 });
    expect(after.exitCode, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toMatch(/templates check: no findings in .*fastapi/);

    // Step 8: the static tier on the copy, as `SVC_TEMPLATES=<copy> pnpm test` runs it, for the
    // variants with the new value (the others are the bundled ones, checked by the cli tier).
    const report = path.join(work, "report.json");
    const env: Record<string, string | undefined> = { ...process.env, SVC_TEMPLATES: root, SVC_TEST_PACKAGE: undefined };
    const tier = await execa(process.execPath, [path.join(repoRoot, "node_modules", "vitest", "vitest.mjs"), "run", "--project", "cli", "tests/cli/fastapi.test.ts", "-t", "log-format=json", "--reporter", "json", "--outputFile", report], {
      cwd: repoRoot, reject: false, all: true, timeout: 600_000, env, extendEnv: false,
    });
    expect(tier.exitCode, String(tier.all).slice(-3000)).toBe(0);
    const results = JSON.parse(readFileSync(report, "utf8")) as { numFailedTests: number; testResults: { assertionResults: { fullName: string; status: string }[] }[] };
    const names = results.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "passed").map((a) => a.fullName));
    expect(results.numFailedTests).toBe(0);
    // Every variant with the new value that the static tier generates through the CLI was checked
    // (every combination of the one-value options: ORM, Python, package manager, Postgres today;
    // list options such as features at their default, plus the covering variants).
    const manifest = (await loadManifests(root)).find((m) => m.name === "fastapi")!;
    const expected = cliVariants(manifest).filter((o) => o["log-format"] === "json").map(variantName);
    const checked = new Set(names.map((n) => /fastapi (\S+=\S+(?: \S+=\S+)*)/.exec(n)?.[1]).filter((v) => v?.includes("log-format=json")));
    expect([...checked].sort()).toEqual(expected.sort());
  });
});
