import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, repoRoot } from "../helpers/cli.js";
import { packageRunners, packCleanClone, tarballFiles, terminalEnv } from "../helpers/pack.js";

// The published package, run the way users run it: packed from a clean clone (no dist/, so the
// prepack build must make it), then `npm exec --package <tgz>` (what npx does) and `pnpm dlx`,
// in an empty folder, for both stacks.
let tarball = "";
let work = "";
let runLine = "";

beforeAll(async () => {
  ({ tarball, dir: work, runLine } = await packCleanClone());
}, 180_000);

describe("the packed tarball", () => {
  it("holds exactly what the bin needs: bin, the built entry and its chunks, the templates and their pack, the bundled packages' licenses, package.json, README, LICENSE", async () => {
    const files = await tarballFiles(tarball);
    const tracked = String((await execa("git", ["ls-files", "--cached", "--others", "--exclude-standard", "bin", "templates"], { cwd: repoRoot })).stdout)
      .split("\n").filter((f) => f && f !== "templates/README.md" && existsSync(path.join(repoRoot, f)));
    const built = files.filter((f) => f.startsWith("dist/"));
    expect(built).toEqual(expect.arrayContaining(["dist/index.js", "dist/templates.pack", "dist/THIRD-PARTY-LICENSES"]));
    expect(built.every((f) => /^dist\/((index|chunk-[\w-]+)\.js|templates\.pack|THIRD-PARTY-LICENSES)$/.test(f)), built.join(", ")).toBe(true);
    expect(files).toEqual([...tracked, ...built, "LICENSE", "README.md", "package.json"].sort());
    // The CLI is bundled with what it uses: dist/ imports only Node's own modules and its own
    // chunks, so the package declares no dependency and npx installs nothing beside it.
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies ?? {}).toEqual({});
    const unpacked = path.join(work, "unpacked");
    mkdirSync(unpacked);
    await execa("tar", ["-xzf", tarball, "-C", unpacked]);
    const shipped = (f: string) => readFileSync(path.join(unpacked, "package", f), "utf8");
    const bundle = built.filter((f) => f.endsWith(".js")).map(shipped).join("\n");
    const imported = [...bundle.matchAll(/^import\s[^;]*?"([^"]+)";|\bimport\("([^"]+)"\)/gm)].map((m) => m[1] ?? m[2]!);
    expect(imported.some((m) => m.startsWith("./chunk-")), "the pattern finds the imports").toBe(true);
    expect(imported.filter((m) => !isBuiltin(m) && !m.startsWith("./")), "packages dist/ imports instead of bundling").toEqual([]);
    // ... and ships their licenses: each package whose code is bundled is named there.
    const licenses = shipped("dist/THIRD-PARTY-LICENSES");
    for (const name of ["commander", "handlebars", "@clack/prompts", "validate-npm-package-name"]) expect(licenses).toMatch(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+ \\(`, "m"));
  });

  it("the README's From a clone steps write the project beside the clone, where the git step runs", async () => {
    // The README's line as written, with the answers a terminal would have given (no terminal here).
    const r = await execa("sh", ["-c", `${runLine} --yes --no-install --json`], {
      cwd: path.join(work, "create-svc-app"), reject: false, timeout: 120_000, extendEnv: false, env: terminalEnv({ CI: "true", npm_config_cache: path.join(work, "npm-cache") }),
    });
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.targetDir).toBe(path.join(work, "my-api"));
    expect(out.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual(["git:ok"]);
  });

  describe.each(["npm", "pnpm"] as const)("run with %s as users do", (runner) => {
    it.each(["fastapi", "fastify"])("in an empty folder, --stack %s writes a complete project", async (stack) => {
      const cwd = path.join(work, `${runner}-${stack}`);
      mkdirSync(cwd);
      const { argv, env } = packageRunners(tarball, work)[runner];
      const r = await execa(argv[0], [...argv.slice(1), "my-api", "--yes", "--json", "--stack", stack, "--no-install", "--no-git"], {
        cwd, reject: false, stdin: "ignore", timeout: 120_000, extendEnv: false, env: terminalEnv({ CI: "true", NO_COLOR: "1", ...env }),
      });
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
      const out = JSON.parse(String(r.stdout)) as { ok: boolean; answers: { stack: string; options: Record<string, string> } };
      expect(out.ok).toBe(true);
      expect(out.answers.stack).toBe(stack);
      // pnpm dlx announces itself in npm_config_user_agent: the Fastify project follows it.
      if (stack === "fastify") expect(out.answers.options.pm).toBe(runner);
      const tree = listTree(path.join(cwd, "my-api"));
      expect(tree).toContain(stack === "fastapi" ? "pyproject.toml" : "package.json");
      expect(tree).toEqual(expect.arrayContaining(["Makefile", "sql/init_db.sql", ".env", ".svc-app.json", "docker-compose.yml"]));
      expect(listTree(cwd).every((f) => f.startsWith("my-api/")), "nothing is written beside the project").toBe(true);
    }, 180_000);
  });
});
