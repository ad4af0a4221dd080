import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import ts from "typescript";
import { expect, it } from "vitest";
import { listTree } from "../helpers/cli.js";
import { composeErrors, finalUser, hadolintErrors, missingCopySources } from "../helpers/static.js";

export interface GeneratedProject {
  readonly dir: string;
  /** The CLI's --json output for the run that generated it. */
  readonly json: unknown;
}

/**
 * The checks every generated project must pass, whatever its stack: secrets stay in .env
 * (0600) and init_db.sql, Compose validates and publishes on loopback, Dockerfiles lint clean,
 * run as app-user (uid 1001) and copy only what exists, JSON files parse.
 * Call inside a describe whose beforeAll fills `project()`.
 */
export function commonProjectChecks(project: () => GeneratedProject, webPort: number): void {
  const file = (p: string) => readFileSync(path.join(project().dir, p), "utf8");

  it("keeps the password in .env (0600) and init_db.sql only, and ignores .env for git and Docker", () => {
    const { dir, json } = project();
    const password = /^DB_PASSWORD=(.+)$/m.exec(file(".env"))?.[1] ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 random bytes, URL-safe
    expect(statSync(path.join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(file("sql/init_db.sql")).toContain(`PASSWORD '${password}'`);
    for (const f of listTree(dir).filter((p) => ![".env", "sql/init_db.sql"].includes(p))) {
      expect(file(f), f).not.toContain(password);
    }
    expect(JSON.stringify(json)).not.toContain(password);
    expect(file(".gitignore")).toMatch(/^\.env$/m);
    expect(file(".dockerignore")).toMatch(/^\.env$/m);
  });

  it("has a docker-compose.yml valid against the Compose schema, publishing on 127.0.0.1 only", () => {
    expect(composeErrors(path.join(project().dir, "docker-compose.yml"))).toEqual([]);
    const compose = file("docker-compose.yml");
    expect(compose).toContain(`"127.0.0.1:\${WEB_PORT:-${webPort}}:${webPort}"`);
    expect(compose).toContain('"127.0.0.1:${DB_PORT:-5432}:5432"');
    expect(compose).toMatch(/condition: service_healthy/);
    expect(compose).toMatch(/env_file:\s*\n?\s*-?\s*\.env/);
    expect(compose).not.toMatch(/^\s*-\s*"?\d+:\d+"?\s*$/m); // no port published on every interface
  });

  // docker-compose v1 resolves the file as Compose would (env_file, ${VAR} from .env) without a daemon.
  it("resolves with `docker-compose config`, reading .env, ports still on 127.0.0.1", async (ctx) => {
    const { dir } = project();
    const r = await execa("docker-compose", ["config"], { cwd: dir, reject: false });
    if ((r as { code?: string }).code === "ENOENT") {
      // .ci/run installs it: in CI a check that cannot run fails; elsewhere it says it was skipped.
      const why = "docker-compose (v1) is missing: apt-get install docker-compose";
      if (!["", "0", "false"].includes(String(process.env.CI ?? "").toLowerCase())) throw new Error(why);
      ctx.skip(why);
    }
    expect(r.exitCode, `${r.stderr}`).toBe(0);
    const resolved = String(r.stdout);
    expect(resolved).toContain(`- 127.0.0.1:${webPort}:${webPort}/tcp`);
    expect(resolved).toContain("- 127.0.0.1:5432:5432/tcp");
    expect(resolved).not.toContain("${");
  });

  it("has Dockerfiles without lint errors, app-user (uid 1001) as the final user, existing COPY sources and no .env", async () => {
    const { dir } = project();
    for (const [dockerfile, context] of [["Dockerfile", "."], ["sql/db.Dockerfile", "sql"]] as const) {
      const lint = await hadolintErrors(path.join(dir, dockerfile));
      expect(lint.errors, dockerfile).toEqual([]);
      expect(missingCopySources(path.join(dir, dockerfile), path.join(dir, context)), dockerfile).toEqual([]);
    }
    // By name or by number: both are app-user, which the image creates with uid/gid 1001.
    expect(["app-user", "app-user:app-user", "1001", "1001:1001"]).toContain(finalUser(path.join(dir, "Dockerfile")));
    expect(file("Dockerfile")).toMatch(/(useradd|adduser)[^\n]*--uid 1001[^\n]*app-user/);
    expect(file("Dockerfile")).not.toMatch(/^(COPY|ADD)[^\n]*\.env\b/m);
  });

  it("has JSON files that parse (tsconfig files as the JSON-with-comments TypeScript reads)", () => {
    for (const f of listTree(project().dir).filter((p) => p.endsWith(".json"))) {
      if (/(^|\/)tsconfig[^/]*\.json$/.test(f)) {
        expect(ts.parseConfigFileTextToJson(f, file(f)).error, f).toBeUndefined();
      } else {
        expect(() => JSON.parse(file(f)), f).not.toThrow();
      }
    }
  });
}
