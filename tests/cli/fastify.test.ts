import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTree, runCli, tempDir } from "../helpers/cli.js";
import { commonProjectChecks } from "./static-suite.js";
import { manifestOf, optionFlags, variantsOf } from "./variants.js";

/** Files every Fastify project has, whatever the ORM and package manager. */
const COMMON = [
  ".dockerignore", ".env", ".env.example", ".gitignore", ".nvmrc", ".svc-app.json",
  "Dockerfile", "Makefile", "README.md", "biome.json", "docker-compose.yml", "package.json",
  "sql/db.Dockerfile", "sql/init_db.sql",
  "src/api/health.ts", "src/api/items.ts", "src/app.ts", "src/core/config.ts", "src/core/errors.ts",
  "src/db/index.ts", "src/db/migrator.ts", "src/db/session.ts", "src/main.ts", "src/migrate.ts",
  "src/schema/health.ts", "src/schema/items.ts", "src/services/items.ts",
  "tests/config.test.ts", "tests/global-setup.ts", "tests/health.test.ts", "tests/helpers.ts", "tests/items.test.ts", "tests/session.test.ts",
  "tsconfig.build.json", "tsconfig.json", "vitest.config.ts",
];
/** What each ORM adds: its models and its migrations, in the ORM's own format. */
const BY_ORM: Record<string, string[]> = {
  drizzle: ["drizzle.config.ts", "migrations/0000_create_items.sql", "migrations/meta/0000_snapshot.json", "migrations/meta/_journal.json", "src/models/items.ts"],
  typeorm: ["src/db/data-source.ts", "src/db/migrations/1764201600000-CreateItems.ts", "src/models/item.ts"],
  kysely: ["src/db/migrations/0001_create_items.ts", "src/models/items.ts"],
};
const LOCK: Record<string, string> = { npm: "package-lock.json", pnpm: "pnpm-lock.yaml" };

const manifest = await manifestOf("fastify");

describe.each(variantsOf(manifest))("fastify $orm on Node $node with $pm", (options) => {
  let dir: string;
  let json: { files: { path: string; status: string }[]; answers: Record<string, unknown>; next: { paths: { database: string; commands: string[] }[] } };

  beforeAll(async () => {
    const cwd = tempDir();
    const r = await runCli(["svc-ts", "--yes", "--no-install", "--json", "--stack", "fastify", ...optionFlags(options)], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    json = JSON.parse(r.stdout);
    dir = path.join(cwd, "svc-ts");
  });

  it("writes exactly the declared tree, with the lock file of the chosen package manager", () => {
    const expected = [...COMMON, ...BY_ORM[options.orm!]!, LOCK[options.pm!]!].sort();
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
    } else {
      expect(read("pnpm-lock.yaml")).toMatch(/^lockfileVersion: '9.0'/);
    }
    expect(read("Makefile")).toMatch(new RegExp(`^PM := ${options.pm}$`, "m"));
  });

  it("installs from the lock, never resolving anew", () => {
    expect(json.next.paths[0]!.commands).toContain(options.pm === "npm" ? "npm ci" : "pnpm install --frozen-lockfile");
  });

  commonProjectChecks(() => ({ dir, json }), 3000);
});
