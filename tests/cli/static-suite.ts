import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import ts from "typescript";
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { listTree, tempDir } from "../helpers/cli.js";
import { generatedSecrets } from "../helpers/secrets.js";
import { composeErrors, finalUser, hadolintErrors, missingCopySources, readDockerfile } from "../helpers/static.js";

export interface GeneratedProject {
  readonly dir: string;
  /** The CLI's --json output for the run that generated it. */
  readonly json: unknown;
}

/**
 * The checks every generated project must pass, whatever its stack: secrets stay in .env
 * (0600) and out of commits and images, Compose validates and publishes on loopback, Dockerfiles lint clean,
 * run as app-user (uid 1001) and copy only what exists, JSON files parse.
 * Call inside a describe whose beforeAll fills `project()`.
 */
export function commonProjectChecks(project: () => GeneratedProject, webPort: number): void {
  const file = (p: string) => readFileSync(path.join(project().dir, p), "utf8");

  it("keeps both generated passwords in .env (0600) only: no other file, no commit, not --json", async () => {
    const { dir, json } = project();
    const secrets = generatedSecrets(dir);
    expect(new Set(secrets).size).toBe(secrets.length); // the superuser's password is not the service's
    expect(statSync(path.join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(file(".gitignore")).toMatch(/^\.env$/m);
    expect(file(".dockerignore")).toMatch(/^\.env$/m);
    const git = (args: string[]) => execa("git", args, { cwd: dir, reject: false }).then((r) => String(r.stdout));
    expect((await git(["ls-files"])).split("\n")).not.toContain(".env");
    const commits = (await git(["rev-list", "--all"])).split("\n").filter(Boolean);
    expect(commits.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(listTree(dir).filter((f) => file(f).includes(secret))).toEqual([".env"]);
      expect(await git(["grep", "-l", "-F", "-e", secret, ...commits])).toBe("");
      expect(JSON.stringify(json)).not.toContain(secret);
    }
  });

  it("runs the chosen PostgreSQL major in Compose (sql/db.Dockerfile, its volume) and the README says so", () => {
    const major = (project().json as { answers: { options: { postgres: string } } }).answers.options.postgres;
    const from = readDockerfile(path.join(project().dir, "sql", "db.Dockerfile")).filter((i) => i.keyword.toUpperCase() === "FROM");
    expect(from.map((i) => i.args)).toEqual([`postgres:${major}-alpine`]);
    const db = (parseYaml(file("docker-compose.yml")) as { services: { db: { volumes: string[] } } }).services.db;
    // From 18 the image keeps its data under /var/lib/postgresql/<major> and refuses a volume on .../data.
    expect(db.volumes).toEqual([Number(major) >= 18 ? "db-data:/var/lib/postgresql" : "db-data:/var/lib/postgresql/data"]);
    expect(file("README.md")).toContain(`PostgreSQL ${major} image`);
  });

  it("builds no secret into an image: init_db.sql reads DB_PASSWORD at run time, no build argument, no .env copied", () => {
    const initDb = file("sql/init_db.sql");
    expect(initDb).toMatch(/^\\getenv db_password DB_PASSWORD$/m);
    // Never destructive, never more than the service needs (the e2e tier checks the role itself).
    expect(initDb).not.toMatch(/\bDROP\b/);
    expect(initDb).not.toMatch(/(?<!NO)(SUPERUSER|CREATEROLE|REPLICATION|BYPASSRLS)\b/);
    for (const dockerfile of ["Dockerfile", "sql/db.Dockerfile"]) {
      const instructions = readDockerfile(path.join(project().dir, dockerfile));
      expect(instructions.filter((i) => i.keyword === "ARG" || /\.env\b|password|secret/i.test(i.args)), dockerfile).toEqual([]);
    }
    const compose = parseYaml(file("docker-compose.yml")) as { services: Record<string, { build?: unknown; environment?: Record<string, string> }> };
    for (const [name, service] of Object.entries(compose.services)) {
      expect(JSON.stringify(service.build ?? {}), `${name}: build`).not.toMatch(/args|secret|password/i);
    }
    // Each password reaches only the container that needs it, from .env at run time.
    expect(compose.services.db?.environment).toMatchObject({ POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", DB_PASSWORD: "${DB_PASSWORD:?set DB_PASSWORD in .env}" });
    expect(compose.services.web?.environment?.POSTGRES_PASSWORD).toBe("");
  });

  it("`make db` hands psql the password from .env (quoted or not) or the environment, never on a command line", async () => {
    const { dir } = project();
    const [password] = generatedSecrets(dir);
    const awkward = "p@ss:w/rd%25#frag?x=1 'q'";
    const cases: [string, Record<string, string>, string][] = [
      [file(".env"), {}, password!],
      [file(".env").replace(/^DB_PASSWORD=.*$/m, `DB_PASSWORD="${awkward}"`), {}, awkward],
      [file(".env").replace(/^DB_PASSWORD=.*$/m, "DB_PASSWORD='single#quoted'"), {}, "single#quoted"],
      [file(".env"), { DB_PASSWORD: "from-the-environment" }, "from-the-environment"],
    ];
    for (const [envFile, env, expected] of cases) {
      const work = tempDir("svc-make-db-");
      const bin = path.join(work, "bin");
      mkdirSync(bin);
      // A stand-in psql that records what it was given.
      writeFileSync(path.join(bin, "psql"), '#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORD.argv"\nprintf "%s" "$DB_PASSWORD" > "$RECORD.password"\n', { mode: 0o755 });
      writeFileSync(path.join(work, "Makefile"), file("Makefile"));
      writeFileSync(path.join(work, ".env"), envFile);
      const r = await execa("make", ["db"], { cwd: work, reject: false, env: { ...env, PATH: `${bin}:${process.env.PATH}`, RECORD: path.join(work, "psql") }, extendEnv: false });
      expect(r.exitCode, r.stderr).toBe(0);
      const argv = readFileSync(path.join(work, "psql.argv"), "utf8");
      expect(argv).toContain("--file=sql/init_db.sql");
      expect(argv).not.toContain(expected);
      expect(`${r.stdout}${r.stderr}`).not.toContain(expected);
      expect(readFileSync(path.join(work, "psql.password"), "utf8")).toBe(expected);
      rmSync(work, { recursive: true, force: true });
    }
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
