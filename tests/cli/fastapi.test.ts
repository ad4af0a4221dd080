import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, runCli, tempDir } from "../helpers/cli.js";
import { declaredLocks, expectedTree } from "../helpers/expected.js";
import { pythonCompileErrors } from "../helpers/static.js";
import { generatedSecrets } from "../helpers/secrets.js";
import { commonProjectChecks } from "./static-suite.js";
import { cliVariants, manifestOf, optionFlags, variantName } from "./variants.js";

const manifest = await manifestOf("fastapi");

/** Where each package manager keeps the dev tools, and how the image installs the runtime ones only. */
const PACKAGE_MANAGERS: Record<string, { devSection: string; devEntry: RegExp; imageInstall: RegExp; lock: string }> = {
  poetry: { devSection: "[tool.poetry.group.dev.dependencies]", devEntry: /^embedded-postgres = /m, imageInstall: /^RUN poetry install [^\n]*--only main/m, lock: "poetry.lock" },
  uv: { devSection: "[dependency-groups]", devEntry: /^ {4}"embedded-postgres>=/m, imageInstall: /^RUN uv sync --locked --no-dev/m, lock: "uv.lock" },
};
// Every combination of the options with one value, plus each feature (multiple options) alone and
// all together; every combination with features too is rendered in memory (combinations.test.ts).
const variants = cliVariants(manifest);

describe.each(variants.map((o) => [variantName(o), o] as const))("fastapi %s", (_name, options) => {
  let dir: string;
  let json: { files: { path: string; mode: string; status: string }[]; next: { paths: { database: string; commands: string[] }[] }; answers: Record<string, unknown> };

  beforeAll(async () => {
    const cwd = tempDir();
    const r = await runCli(["svc-api", "--yes", "--no-install", "--json", "--stack", "fastapi", ...optionFlags(options)], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    dir = path.join(cwd, "svc-api");
  });

  it("writes exactly the tree its layers declare, with the declared lock, and reports it in --json", () => {
    const tree = expectedTree(manifest, options);
    expect(listTree(dir)).toEqual(tree);
    expect(tree).toEqual(expect.arrayContaining(["Dockerfile", "docker-compose.yml", "Makefile", "pyproject.toml", "app/main.py", ...declaredLocks(manifest, options)]));
    expect(json.files.map((f) => f.path).sort()).toEqual(tree);
    expect(json.files.every((f) => f.status === "created")).toBe(true);
    expect(json.answers).toMatchObject({ name: "svc-api", stack: "fastapi", options, dbName: "svc_api", dbUser: "svc_api_user" });
  });

  it("pins the runtime version where it matters and keeps the supported floor", () => {
    expect(readFileSync(path.join(dir, ".python-version"), "utf8").trim()).toBe(options.python);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toContain(`FROM python:${options.python}-slim`);
    const pyproject = readFileSync(path.join(dir, "pyproject.toml"), "utf8");
    expect(pyproject).toMatch(/requires-python = ">=3\.11/);
    expect(pyproject).toContain(`target-version = "py${String(options.python).replace(".", "")}"`);
  });

  it("keeps the embedded Postgres to development: a dev dependency the image does not install, its data ignored by git and Docker", () => {
    const pm = PACKAGE_MANAGERS[String(options.pm ?? "poetry")]!;
    const pyproject = readFileSync(path.join(dir, "pyproject.toml"), "utf8");
    expect(pyproject).toContain(pm.devSection);
    const devGroup = pyproject.slice(pyproject.indexOf(pm.devSection));
    expect(devGroup.slice(0, devGroup.indexOf("\n[", 1))).toMatch(pm.devEntry);
    expect(pyproject.slice(0, pyproject.indexOf(pm.devSection))).not.toContain("embedded-postgres");
    const dockerfile = readFileSync(path.join(dir, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(pm.imageInstall);
    expect(dockerfile).toContain(`COPY pyproject.toml ${pm.lock} ./`);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toMatch(/^\.postgres\/$/m);
    expect(readFileSync(path.join(dir, ".dockerignore"), "utf8")).toMatch(/^\.postgres\/$/m);
    // The README says where the embedded server's major differs from the one Compose runs.
    expect(readFileSync(path.join(dir, "README.md"), "utf8").includes(`(**not ${options.postgres}**`)).toBe(options.postgres !== "18");
  });

  it("the Makefile, README and next steps use the chosen package manager only, and its lock names the project", () => {
    const other = Object.keys(PACKAGE_MANAGERS).filter((p) => p !== (options.pm ?? "poetry"));
    for (const file of ["Makefile", "README.md", "Dockerfile", "pyproject.toml"]) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const p of other) expect(text, `${file} mentions ${p}`).not.toMatch(new RegExp(`\\b${p} (run|install|sync|lock)\\b|${p}\\.lock`));
    }
    expect(readFileSync(path.join(dir, "Makefile"), "utf8")).toMatch(new RegExp(`^\\t${options.pm ?? "poetry"} run pytest$`, "m"));
    if (options.pm === "uv") expect(readFileSync(path.join(dir, "uv.lock"), "utf8")).toMatch(/^name = "svc-api"\nversion = "0\.1\.0"\nsource = \{ virtual = "\." \}$/m);
  });

  it("compiles as Python", async () => {
    expect(await pythonCompileErrors(dir)).toBe("");
  });

  commonProjectChecks(() => ({ dir, json }), 8000);
});

describe("fastapi variants render the same for the same answers", () => {
  it("is deterministic apart from the passwords", async () => {
    const runOnce = async () => {
      const cwd = tempDir();
      await runCli(["svc-api", "--yes", "--no-install", "--no-git"], { cwd });
      const d = path.join(cwd, "svc-api");
      const secrets = generatedSecrets(d);
      return Object.fromEntries(listTree(d).map((f) => [f, secrets.reduce((text, s) => text.split(s).join("<secret>"), readFileSync(path.join(d, f), "utf8"))]));
    };
    expect(await runOnce()).toEqual(await runOnce());
  });
});
