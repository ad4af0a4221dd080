import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cliPath, listTree, repoRoot, runCli, snapshotDir, tempDir } from "../helpers/cli.js";
import { manifestNamed, manifests, re } from "../helpers/expected.js";
import { fakeMachine, fakePostgres } from "../helpers/machine.js";
import { freePort } from "../helpers/standins.js";

const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
const noSteps = ["--yes", "--no-install", "--no-git"];

describe("the CLI as a user runs it", () => {
  it("-V prints the version and --help documents every flag with the choices of each stack", async () => {
    const v = await runCli(["-V"]);
    expect([v.exitCode, v.stdout.trim()]).toEqual([0, pkg.version]);
    // A machine with pyenv's 3.12 only: the Python default follows it, and --help marks it.
    const h = await runCli(["--help"], { cwd: tempDir(), env: fakeMachine([".pyenv/versions/3.12.4"]) });
    expect(h.exitCode).toBe(0);
    for (const flag of ["--stack", "--orm", "--python", "--db-name", "--db-user", "--install", "--no-install", "--git", "--no-git", "--boot", "--no-boot", "--boot-timeout", "--yes", "--force", "--dry-run", "--json", "--templates", "--version", "--help"]) {
      expect(h.stdout).toContain(flag);
    }
    // Every choice of every option, as the manifests under test declare them (a detected default
    // is marked where it is found, so only the order of the values is fixed here).
    const help = h.stdout.replace(/\s+/g, " ");
    for (const m of manifests) {
      for (const o of m.options) {
        expect(help).toMatch(new RegExp(`${m.name}: ${o.choices.map((c) => `${re(c.value)}( \\([^)]*\\))?`).join(", ")}`));
      }
    }
    const python = manifestNamed("fastapi").options.find((o) => o.name === "python")!;
    const found = python.choices.map((c) => (c.value === "3.12" ? "3.12 (default, found here)" : c.value)).join(", ");
    expect(help).toContain(`[fastapi: ${found}; the default is the newest found here]`);
    expect(h.stdout).toMatch(/Examples:\n  create-svc-app my-api /);
    expect(h.stdout).toMatch(/Exit codes:\n  0 +done\n  1 .*\n  2 +bad input.*\n  130 +cancelled/);
  });

  it("--help piped into a reader that stops early (`| head -1`) ends quietly, with no stack trace", async () => {
    const r = await execa("bash", ["-c", `"${process.execPath}" "${cliPath}" --help | head -1; exit "\${PIPESTATUS[0]}"`], { cwd: tempDir(), reject: false });
    expect(r.stdout).toBe("Usage: create-svc-app [directory] [options]");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("`help` is --help, not a project called help", async () => {
    const cwd = tempDir();
    const machine = fakeMachine([]);
    const [help, flag] = await Promise.all([runCli(["help"], { cwd, env: machine }), runCli(["--help"], { cwd, env: machine })]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toBe(flag.stdout);
    expect(listTree(cwd)).toEqual([]);
  });

  it("without any Python found the default is 3.13, and --help marks nothing as found", async () => {
    const h = await runCli(["--help"], { cwd: tempDir(), env: fakeMachine([]) });
    expect(h.stdout.replace(/\s+/g, " ")).toContain("[fastapi: 3.11, 3.12, 3.13 (default), 3.14; the default is the newest found here]");
  });

  it("says before anything runs when the chosen Python is not installed here, and how to get it", async () => {
    const cwd = tempDir();
    const r = await runCli(["my-api", ...noSteps, "--python", "3.14", "--json"], { cwd, env: fakeMachine([".pyenv/versions/3.11.7", ".pyenv/versions/3.13.0"]) });
    expect(r.exitCode, r.stderr).toBe(0);
    const line = "Python 3.14 is not installed here; get it with `pyenv install 3.14`, or choose --python 3.13, which is here";
    expect(r.stderr.split("\n")).toContain(line);
    expect(JSON.parse(r.stdout).warnings).toEqual([line]);
    const here = await runCli(["my-api", ...noSteps, "--python", "3.13", "--json", "--force"], { cwd, env: fakeMachine([".pyenv/versions/3.13.0"]) });
    expect(here.stderr).not.toContain("not installed");
    expect(JSON.parse(here.stdout).warnings).toEqual([]);
  });

  it("the db user follows --db-name (<db-name>_user), as --help says", async () => {
    const r = await runCli(["my-api", "--yes", "--dry-run", "--json", "--db-name", "orders"], { cwd: tempDir() });
    expect(JSON.parse(r.stdout).answers).toMatchObject({ dbName: "orders", dbUser: "orders_user" });
  });

  it("prints the same next steps as --json lists: the path chosen for this machine first, then the others", async () => {
    const cwd = tempDir();
    // A Postgres that answers; the ports the Compose file publishes are free.
    const pg = await fakePostgres();
    const machine = { ...fakeMachine([]), PGHOST: pg.dir, DB_PORT: String(await freePort()), WEB_PORT: String(await freePort()) };
    const human = await runCli(["my-api", ...noSteps], { cwd, env: machine });
    const json = await runCli(["other-api", ...noSteps, "--json"], { cwd, env: machine }).finally(pg.close);
    const next = JSON.parse(json.stdout).next as { database: string; why: string; paths: { database: string; needs: string; commands: string[] }[] };
    expect(next.database).toBe("local");
    expect(next.why).toBe(`a Postgres answers at ${pg.dir}`);
    expect(next.paths.map((p) => [p.database, p.commands])).toEqual([
      ["local", ["cd other-api", "poetry install", "make db", "make migrate", "make dev"]],
      ["docker", ["cd other-api", "make up"]],
      ["embedded", ["cd other-api", "poetry install", "make embedded", "make dev"]],
    ]);
    expect(human.stdout).toContain([
      `Next, with a local Postgres (a Postgres answers at ${pg.dir}):`,
      ...next.paths[0]!.commands.map((c) => `  ${c.replace("other-api", "my-api")}`),
      "Or, with Docker Compose (needs Docker with the Compose plugin):",
      "  cd my-api",
      "  make up",
    ].join("\n"));
  });

  it("moves a published port that is taken here (a local Postgres on DB_PORT) on the Docker path, and says so", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const web = String(await freePort());
      const r = await runCli(["my-api", ...noSteps, "--json"], { cwd: tempDir(), env: { ...fakeMachine([]), DB_PORT: String(taken), WEB_PORT: web } });
      const docker = JSON.parse(r.stdout).next.paths.find((p: { database: string }) => p.database === "docker");
      const [, to] = /^DB_PORT=(\d+) make up$/.exec(docker.commands[1]) ?? [];
      expect(docker.commands, "the port moves above the taken one").toEqual(["cd my-api", `DB_PORT=${to} make up`]);
      expect(Number(to)).toBeGreaterThan(taken);
      expect(docker.needs).toBe(`Docker with the Compose plugin; 127.0.0.1:${taken} (DB_PORT) is taken here: these commands use DB_PORT=${to} (set it in .env to keep it)`);
    } finally {
      holder.close();
    }
  });

  it("chooses the Docker path where no Postgres answers and a Docker engine does, and says why", async () => {
    const machine = fakeMachine([], ["docker"]);
    const r = await runCli(["my-api", ...noSteps, "--json"], { cwd: tempDir(), env: machine });
    const next = JSON.parse(r.stdout).next;
    expect([next.database, next.why]).toEqual(["docker", `no Postgres answers at ${machine.PGHOST}, and a Docker engine answers docker info`]);
  });

  it("--dry-run into a non-empty directory prints the tree without --force, marks existing files, and writes nothing", async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "my-api"));
    writeFileSync(path.join(cwd, "my-api", "README.md"), "mine");
    const before = snapshotDir(cwd);
    const r = await runCli(["my-api", "--yes", "--dry-run"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^my-api\/\n├── app\//);
    expect(r.stdout).toContain("README.md  (exists, replaced)");
    expect(r.stdout).toMatch(/│   │   └── session\.py\n/);
    expect(r.stdout).toMatch(/dry run: \d+ files would be written to .*my-api \(1 replaced\); nothing was written/);
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it("--force adds the template's files, replaces same-named ones, and leaves everything else alone", async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "my-api", "notes"), { recursive: true });
    writeFileSync(path.join(cwd, "my-api", "notes", "todo.txt"), "mine");
    writeFileSync(path.join(cwd, "my-api", "README.md"), "old readme");
    const r = await runCli(["my-api", ...noSteps, "--force", "--json"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path.join(cwd, "my-api", "notes", "todo.txt"), "utf8")).toBe("mine");
    expect(readFileSync(path.join(cwd, "my-api", "README.md"), "utf8")).not.toBe("old readme");
    const files = JSON.parse(r.stdout).files as { path: string; status: string }[];
    expect(files.find((f) => f.path === "README.md")?.status).toBe("replaced");
    expect(files.filter((f) => f.status === "replaced")).toHaveLength(1);
    expect(listTree(path.join(cwd, "my-api"))).toContain("notes/todo.txt");
  });

  it("'.' generates into the current (empty) directory, named after it, with no cd in the next steps", async () => {
    const cwd = path.join(tempDir(), "orders-api");
    mkdirSync(cwd);
    const r = await runCli([".", ...noSteps, "--json"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answers).toMatchObject({ name: "orders-api", dbName: "orders_api", dbUser: "orders_api_user" });
    expect(out.next.paths[0].commands[0]).toBe("poetry install");
    expect(readFileSync(path.join(cwd, "pyproject.toml"), "utf8")).toContain('name = "orders-api"');
  });

  it("a nested path creates its parents; the project is named by the last segment", async () => {
    const cwd = tempDir();
    const r = await runCli(["services/billing/invoice-api", ...noSteps], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("cd services/billing/invoice-api");
    expect(JSON.parse(readFileSync(path.join(cwd, "services/billing/invoice-api/.svc-app.json"), "utf8")).answers.name).toBe("invoice-api");
  });

  it.each(["077", "000"])("under umask %s every file has the template's mode: the umask neither tightens nor loosens it", async (umask) => {
    const cwd = tempDir();
    const r = await execa("sh", ["-c", `umask ${umask} && exec "$0" "$@"`, process.execPath, cliPath, "my-api", ...noSteps], { cwd, reject: false, env: { CI: "true" } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const modes = Object.fromEntries(listTree(path.join(cwd, "my-api")).map((f) => [f, (statSync(path.join(cwd, "my-api", f)).mode & 0o777).toString(8)]));
    expect(modes).toMatchObject({ ".env": "600", "README.md": "644", "pyproject.toml": "644", "app/main.py": "644" });
    expect(new Set(Object.values(modes))).toEqual(new Set(["600", "644"]));
  });
});
