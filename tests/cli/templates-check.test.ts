import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir, templatesRoot } from "../helpers/cli.js";
import { choiceList, manifestNamed, manifests } from "../helpers/expected.js";
import { variantsOf } from "../../src/templates/variants.js";

const CI = Boolean(process.env.CI) && !["0", "false"].includes(String(process.env.CI).toLowerCase());

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder removed after the tests. */
function scratch(): string {
  const dir = tempDir("svc-check-");
  made.push(dir);
  return dir;
}

/** A copy of the templates under test that a test may break. */
function copyOfTemplates(): string {
  const dir = path.join(scratch(), "templates");
  cpSync(templatesRoot, dir, { recursive: true });
  return dir;
}

/** Appends `text` to a file and returns the line and column where `needle` lands. */
function append(root: string, rel: string, text: string, needle: string): { file: string; line: number; col: number } {
  const file = path.join(root, rel);
  const before = readFileSync(file, "utf8");
  writeFileSync(file, before + text);
  return { file, ...lineCol(before + text, before.length + text.indexOf(needle)) };
}

function write(root: string, rel: string, text: string): string {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
  return path.join(root, rel);
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, col: offset - before.lastIndexOf("\n") };
}

/** Edits a manifest as data and returns where `needle` ends up in the rewritten file. */
function editManifest(root: string, stack: string, edit: (m: Record<string, any>) => void): (needle: string) => { file: string; line: number; col: number } {
  const file = path.join(root, stack, "template.json");
  const manifest = JSON.parse(readFileSync(file, "utf8"));
  edit(manifest);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(file, text);
  return (needle) => ({ file, ...lineCol(text, text.indexOf(needle)) });
}

const at = (p: { file: string; line: number; col: number }) => `${p.file}:${p.line}:${p.col}: `;

async function check(root: string, json = false) {
  const r = await runCli(["templates", "check", root, ...(json ? ["--json"] : [])], { cwd: scratch(), timeout: 240_000 });
  return { ...r, lines: r.stdout.split("\n") };
}

// A whole check renders every combination (each subset of the features, so it doubles with each
// feature added): on a shared 2-core machine it can take longer than vitest's default minute.
describe("create-svc-app templates check", () => {
  it("finds nothing in the templates under test: exit 0, every combination rendered", async () => {
    const r = await check(templatesRoot, true);
    const report = JSON.parse(r.stdout);
    expect(report.findings, r.stdout).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(report).toMatchObject({ ok: true, templates: expect.arrayContaining(["fastapi", "fastify"]) });
    // Every combination: each subset of the features too (tests/cli/combinations.test.ts checks the count).
    expect(report.variants).toBe(manifests.reduce((n, m) => n + variantsOf(m).length, 0));
    if (!CI) return;
    expect(report.skipped, "CI has every tool the checks use").toEqual([]);
  }, 240_000);

  it("reports each mistake in a template file at its line and column, with the fix", async () => {
    const root = copyOfTemplates();
    const expected = [
      [append(root, "fastapi/base/README.md.hbs", "\nMaintained by the {{project.titel}} team.\n", "project.titel"),
        'unknown name "project.titel" (project has name, pyPackage, title); did you mean "project.title"? [template]'],
      [append(root, "fastapi/base/pyproject.toml.hbs", '\n{{#if options.ormm}}\n# extra\n{{/if}}\n', "options.ormm"),
        `unknown name "options.ormm" (the fastapi manifest declares options ${manifestNamed("fastapi").options.map((o) => o.name).join(", ")}); did you mean "options.orm"? [template]`],
      [append(root, "fastapi/base/app/services/items.py.hbs", '{{#if (eq options.orm "tortise")}}\n# tortoise\n{{/if}}\n', '"tortise"'),
        `compares options.orm with "tortise", which is not one of its choices (${choiceList("fastapi", "orm")}), so it is never equal [template]`],
      [{ file: write(root, "fastapi/base/_github/workflows/ci.yml.hbs", "on: push\njobs:\n  build:\n    if: ${{ github.ref }}\n"), line: 4, col: 13 },
        'unknown name "github.ref" (a template sees project, stack, options, db, generator); if this "{{" is meant literally, escape it as \\{{ or drop .hbs from the file name [template]'],
      [{ file: write(root, "fastapi/base/NOTES.md.hbs", "# Notes\n\n{{#if (eq options.orm \"sqlmodel\")}}\nSQLModel notes\n"), line: 3, col: 1 },
        "{{#if}} is never closed: add {{/if}} where the block ends [template]"],
    ] as const;
    // The manifest's own commands are checked for names too.
    const fastify = editManifest(root, "fastify", (m) => {
      m.verify.push({ step: "lint", run: ["{{options.pmm}}", "run", "lint"] });
    });
    const verify = fastify('"{{options.pmm}}"');
    const r = await check(root);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    for (const [where, message] of expected) expect(r.lines, r.stdout).toContain(`${at(where)}${message}`);
    expect(r.lines.find((l) => l.startsWith(at(verify)))).toMatch(/verify\[\d+\]\.run\[0\]: unknown name "options\.pmm" \(the fastify manifest declares options .*\); did you mean "options\.pm"\? \[manifest\]$/);
  });

  it("reports layers, locks and generated files that are wrong, pointing at the manifest field or the template file", async () => {
    const root = copyOfTemplates();
    const fastapi = editManifest(root, "fastapi", (m) => {
      m.options[0].choices.push({ value: "tortoise", label: "Tortoise ORM + aerich" });
      m.layers.push({ source: "orm-tortoise", when: { orm: "tortoise" } });
      m.layers.push({ source: "orm-sqlmodel", when: { orm: [] } });
    });
    write(root, "fastapi/orm-peewee/app/models/item.py", "ITEM = 1\n");
    const broken = write(root, "fastapi/base/app/broken.py", "def f(:\n    pass\n");
    const pyproject = path.join(root, "fastapi/base/pyproject.toml.hbs");
    writeFileSync(pyproject, readFileSync(pyproject, "utf8").replace('dependencies = [\n', 'dependencies = [\n    "orjson>=3.10,<4.0",\n'));
    const pkg = path.join(root, "fastify/base/package.json.hbs");
    writeFileSync(pkg, readFileSync(pkg, "utf8").replace('"dependencies": {\n', '"dependencies": {\n    "pino-pretty": "^13.0.0",\n'));
    const biome = path.join(root, "fastify/base/biome.json");
    const biomeText = `${readFileSync(biome, "utf8").trimEnd().replace(/\}$/, "").trimEnd()},\n}\n`;
    writeFileSync(biome, biomeText);
    append(root, "fastify/base/docker-compose.yml.hbs", "\nvolumez:\n  data: {}\n", "volumez");
    const workflow = path.join(root, "fastify/feature-ci/.github/workflows/ci.yml.hbs");
    writeFileSync(workflow, readFileSync(workflow, "utf8").replace("node-version-file: .nvmrc", "node-versoin-file: .nvmrc"));
    const dockerfile = path.join(root, "fastify/base/Dockerfile.hbs");
    writeFileSync(dockerfile, readFileSync(dockerfile, "utf8").replace("COPY src ./src", "COPY src ./src\nCOPY missing.txt ./"));

    const r = await check(root);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const out = r.lines;
    expect(out, r.stdout).toContain(`${at(fastapi('"orm-tortoise"'))}layer folder ${root}/fastapi/orm-tortoise does not exist: create it, or fix the name [layer]`);
    expect(out, r.stdout).toContain(`${root}/fastapi/orm-peewee: folder is not used by any layer: add { "source": "orm-peewee", "when": {...} } to layers in template.json, or delete it [layer]`);
    const never = fastapi('"orm": []');
    expect(out, r.stdout).toContain(`${never.file}:${never.line - 3}:5: never applies: no combination of the options matches its when [layer]`);
    expect(out.find((l) => l.includes("generates without poetry.lock"))).toMatch(
      new RegExp(`^${root}/fastapi/template\\.json:\\d+:\\d+: orm=tortoise( \\S+=\\S+)+ generates without poetry\\.lock, which lock\\[0\\] declares: run pnpm templates:lock --templates ${root} --only orm=tortoise( --only \\S+)* \\[lock\\]$`));
    expect(out, r.stdout).toContain(`${broken}:1:7: does not compile: invalid syntax [python]`);
    expect(out, r.stdout).toContain(`${biome}:${biomeText.trimEnd().split("\n").length}:1: not valid JSON: Expected double-quoted property name [json]`);
    expect(out.find((l) => l.includes("[compose]"))).toMatch(/docker-compose\.yml\.hbs: in the generated docker-compose\.yml \(\S+=\S+( \S+=\S+)*(, and \d+ more)?\): not valid against the Compose schema: \/ must NOT have additional properties/);
    expect(out.find((l) => l.includes("COPY missing.txt"))).toMatch(/Dockerfile\.hbs: in the generated Dockerfile:\d+ \(.*\): COPY missing\.txt: no such file in the generated project \[dockerfile\]/);
    expect(out.find((l) => l.includes("[workflow]"))).toMatch(/ci\.yml\.hbs: in the generated \.github\/workflows\/ci\.yml:\d+:\d+ \(.*features=ci.*\): input "node-versoin-file" is not defined in action "actions\/setup-node@v4".* \[actionlint action\] \[workflow\]$/);
    for (const lock of ["lock-npm-drizzle/package-lock.json.hbs", "lock-pnpm-kysely/pnpm-lock.yaml.hbs"]) {
      expect(out.find((l) => l.startsWith(`${root}/fastify/${lock}`)), lock).toMatch(/dependencies differ from package\.json: run pnpm templates:lock --only orm=\w+( --only \S+)* \[lock\]$/);
    }
    if (r.stderr.includes("skipped: poetry.lock")) {
      expect(CI, "poetry is missing: CI installs it").toBe(false);
    } else {
      expect(out.find((l) => l.startsWith(`${root}/fastapi/lock-sqlalchemy/poetry.lock.hbs: `))).toMatch(/does not match pyproject\.toml \(poetry check --lock: .*\): run pnpm templates:lock --only orm=sqlalchemy( --only \S+)* \[lock\]$/);
    }
    if (r.stderr.includes("skipped: uv.lock")) {
      expect(CI, "uv is missing: CI installs it").toBe(false);
    } else {
      expect(out.find((l) => l.startsWith(`${root}/fastapi/lock-uv-sqlmodel/uv.lock.hbs: `))).toMatch(/does not match pyproject\.toml \(uv lock --check: .*\): run pnpm templates:lock --only orm=sqlmodel --only pm=uv( --only \S+)* \[lock\]$/);
    }
  }, 240_000);

  it("reports a merged lock made before a feature existed, and one that is stale for some features only", async () => {
    const root = copyOfTemplates();
    // A new feature nothing locks yet; and a dependency only the ci subsets have, without relocking.
    editManifest(root, "fastify", (m) => {
      m.options.find((o: { name: string }) => o.name === "features").choices.push({ value: "audit", label: "Audit log" });
    });
    const pkg = path.join(root, "fastify/base/package.json.hbs");
    writeFileSync(pkg, readFileSync(pkg, "utf8").replace('"dependencies": {\n', '"dependencies": {\n{{#if (includes options.features "ci")}}\n    "left-pad": "^1.3.0",\n{{/if}}\n'));
    const pyproject = path.join(root, "fastapi/base/pyproject.toml.hbs");
    writeFileSync(pyproject, readFileSync(pyproject, "utf8").replace("dependencies = [\n", 'dependencies = [\n{{#if (includes options.features "ci")}}\n    "orjson>=3.10,<4.0",\n{{/if}}\n'));
    const r = await check(root, true);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const findings = (JSON.parse(r.stdout) as { findings: { file: string; message: string; check: string }[] }).findings.filter((f) => f.check === "lock");
    const about = (lock: string) => findings.filter((f) => f.file === `${root}/${lock}`).map((f) => f.message);
    for (const orm of ["drizzle", "typeorm", "kysely"]) {
      for (const [pm, file] of [["npm", "package-lock.json"], ["pnpm", "pnpm-lock.yaml"]] as const) {
        const messages = about(`fastify/lock-${pm}-${orm}/${file}.hbs`);
        // Every subset with audit is named (whatever features the templates already have), and no other.
        const missing = messages.find((m) => m.startsWith("has no lock for "));
        expect(missing, `${orm} ${pm}: ${messages.join("\n")}`).toMatch(new RegExp(`^has no lock for (features=[a-z,]*audit(; )?)+ \\(it was made before these combinations existed\\): run pnpm templates:lock --templates ${root} --only orm=${orm} --only pm=${pm}$`));
        expect(missing).toContain("features=audit;");
        // Stale for the subsets with ci only: the first one named has ci, and none is without it.
        const stale = messages.filter((m) => m.includes("dependencies differ"));
        expect(stale, `${orm} ${pm}`).toHaveLength(1);
        expect(stale[0]).toMatch(new RegExp(`^in the generated ${file.replace(".", "\\.")} \\(orm=${orm} \\S+ pm=${pm} (\\S+=\\S+ )*features=ci(,audit)?(, and \\d+ more)?\\): dependencies differ from package\\.json: run pnpm templates:lock --only orm=${orm} --only pm=${pm}$`));
      }
    }
    const python = [["poetry", "lock-sqlalchemy/poetry.lock.hbs"], ["uv", "lock-uv-sqlmodel/uv.lock.hbs"]] as const;
    for (const [tool, lock] of python) {
      if (r.stderr.includes(`skipped: ${tool}.lock`)) {
        expect(CI, `${tool} is missing: CI installs it`).toBe(false);
        continue;
      }
      const stale = about(`fastapi/${lock}`);
      expect(stale, lock).toHaveLength(1);
      expect(stale[0]).toMatch(/^in the generated (poetry|uv)\.lock \(\S+=\S+( \S+=\S+)* features=ci(, and \d+ more)?\): does not match pyproject\.toml/);
    }
  }, 240_000);

  it("reports broken manifests at their line and column: comments, reserved names (templates, no-*)", async () => {
    const root = path.join(scratch(), "templates");
    const manifest = (name: string, option: string) => JSON.stringify({
      name, title: name, description: "d", options: [{ name: option, message: "?", default: "a", choices: [{ value: "a" }] }],
      layers: [{ source: "base" }], health: { path: "/health", portVar: "WEB_PORT" },
    }, null, 2);
    write(root, "commented/template.json", '{\n  "name": "commented", // the stack\n  "title": "C"\n}\n');
    for (const [stack, option] of [["logger", "no-logger"], ["install", "no-install"], ["tpl", "templates"]] as const) {
      write(root, `${stack}/template.json`, manifest(stack, option));
      write(root, `${stack}/base/README.md`, "x\n");
    }
    const r = await check(root);
    expect(r.exitCode).toBe(1);
    expect(r.lines, r.stdout).toContain(`${root}/commented/template.json:2:24: not valid JSON: JSON has no comments: remove the comment (the description fields say what the manifest means) [manifest]`);
    expect(r.lines, r.stdout).toContain(`${root}/logger/template.json:7:15: options[0].name "no-logger" cannot be a flag: --no-logger means "logger is false" on the command line; choose a name without "no-" [manifest]`);
    expect(r.lines, r.stdout).toContain(`${root}/install/template.json:7:15: options[0].name "no-install" cannot be a flag: --no-install means "install is false" on the command line; choose a name without "no-" [manifest]`);
    expect(r.lines, r.stdout).toContain(`${root}/tpl/template.json:7:15: options[0].name "templates" is a flag of the CLI itself (--templates); choose another name [manifest]`);
  });

  it("reserves every flag the CLI has", async () => {
    const { RESERVED_OPTION_NAMES } = await import("../../src/templates/manifest.js");
    const { manifests } = await import("../helpers/expected.js");
    const help = (await runCli(["--help"])).stdout;
    const options = new Set(manifests.flatMap((m) => m.options.map((o) => o.name)));
    const flags = [...help.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!).filter((f) => !options.has(f) && !f.startsWith("no-"));
    expect(flags.length).toBeGreaterThan(10);
    for (const flag of flags) expect(RESERVED_OPTION_NAMES.has(flag), `--${flag}`).toBe(true);
  });

  it("bad usage is one line and exit 2", async () => {
    const r = await runCli(["templates", "check", "--colour"], { cwd: scratch() });
    expect([r.exitCode, r.stderr.trim()]).toEqual([2, "error: unknown option '--colour' (see create-svc-app templates --help)"]);
    const missing = await runCli(["templates", "check", "/nonexistent/templates"], { cwd: scratch() });
    expect([missing.exitCode, missing.stderr.trim()]).toEqual([2, "error: templates folder not found: /nonexistent/templates"]);
  });
});
