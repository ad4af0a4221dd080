import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createServer } from "node:http";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cliPath, runCli, tempDir } from "../helpers/cli.js";
import { freePort, standinBin } from "../helpers/standins.js";
import { fakeMachine } from "../helpers/machine.js";

const base = ["my-api", "--stack", "fastapi", "--orm", "sqlalchemy", "--python", "3.13"];
const gitConfig = (extra = "") => {
  const file = path.join(tempDir("svc-gitcfg-"), "gitconfig");
  writeFileSync(file, `[user]\n\tname = Test User\n\temail = test@example.invalid\n${extra}`);
  return { GIT_CONFIG_GLOBAL: file, GIT_CONFIG_NOSYSTEM: "1" };
};
const git = (cwd: string, args: string[]) => execa("git", args, { cwd, reject: false }).then((r) => String(r.stdout).trim());
const json = (stdout: string) => JSON.parse(stdout) as { ok: boolean; steps: { name: string; status: string; commands: string[]; message: string; output?: string }[]; next: { database: string; paths: { database: string; commands: string[] }[] } };

describe("post steps: install and git", () => {
  it("installs with poetry in the project, then git init on the configured default branch with one commit that excludes .env", async () => {
    const cwd = tempDir();
    const s = standinBin(["poetry"], ["git"]);
    const r = await runCli([...base, "--yes", "--json"], { cwd, env: { ...s.env, ...gitConfig("[init]\n\tdefaultBranch = trunk\n") } });
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = path.join(cwd, "my-api");
    expect(s.calls().map((c) => [c.name, c.argv.join(" "), c.cwd])).toEqual([["poetry", "install", dir]]);
    const out = json(r.stdout);
    expect(out.steps.map((x) => [x.name, x.status])).toEqual([["install", "ok"], ["git", "ok"]]);
    expect(out.steps[1]!.commands).toContain("git init --quiet --initial-branch trunk");
    expect(await git(dir, ["branch", "--show-current"])).toBe("trunk");
    expect(await git(dir, ["rev-list", "--count", "HEAD"])).toBe("1");
    const committed = (await git(dir, ["ls-files"])).split("\n");
    expect(committed).toContain(".env.example");
    expect(committed).not.toContain(".env");
    expect(await git(dir, ["log", "-1", "--format=%an"])).toBe("Test User");
    expect(out.next.paths[0]).toMatchObject({ database: "local", commands: ["cd my-api", "make db", "make migrate", "make dev"] });
  });

  it("a failed install prints the command and the tail of its output, exits 1 and keeps the project", async () => {
    const cwd = tempDir();
    const s = standinBin(["poetry"], ["git"]);
    const r = await runCli([...base, "--yes", "--no-git"], { cwd, env: { ...s.env, STANDIN_POETRY: "fail" } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("install: poetry install exited with code 1");
    expect(r.stderr).toContain("poetry: something went wrong (stand-in told to fail)");
    expect(r.stderr).toContain("install failed; the project is complete and kept in");
    // Nothing answers on this machine (no Postgres at PGHOST, no docker): the embedded path comes first.
    expect(r.stdout).toMatch(/Next, with the embedded Postgres \(neither a Postgres .*\):\n  cd my-api\n  poetry install\n  make embedded\n  make dev\n/);
    expect(r.stdout).toMatch(/Or, with a local Postgres \(.*\):\n  cd my-api\n  poetry install\n  make db\n  make migrate/);
    expect(existsSync(path.join(cwd, "my-api", "app", "main.py"))).toBe(true);
  });

  it("a missing package manager is a failed step with the command to run later", async () => {
    const cwd = tempDir();
    const s = standinBin([], []);
    const r = await runCli([...base, "--yes", "--no-git", "--json"], { cwd, env: s.env });
    expect(r.exitCode).toBe(1);
    expect(json(r.stdout).steps[0]).toMatchObject({ name: "install", status: "failed", message: "poetry is not installed; get it with pipx install poetry (Poetry 2), then run: cd my-api && poetry install" });
    const pnpm = await runCli(["ts-api", "--stack", "fastify", "--pm", "pnpm", "--yes", "--no-git", "--json"], { cwd, env: s.env });
    expect(json(pnpm.stdout).steps[0]!.message).toBe("pnpm is not installed; get it with npm install --global pnpm@10 (or corepack enable pnpm), then run: cd ts-api && pnpm install --frozen-lockfile");
  });

  it("pyenv's poetry shim, installed for another Python than the project pins, is explained in one line", async () => {
    const cwd = tempDir();
    const s = standinBin(["poetry"], ["git"]);
    const shim = "pyenv: poetry: command not found\n\nThe `poetry' command exists in these Python versions:\n  3.11.7\n\nNote: See 'pyenv help global' for tips";
    const r = await runCli(["my-api", "--python", "3.12", "--yes", "--no-git", "--json"], { cwd, env: { ...fakeMachine([".pyenv/versions/3.12.1"]), ...s.env, STANDIN_POETRY: "fail", STANDIN_FAIL_OUTPUT: shim } });
    expect(r.exitCode).toBe(1);
    const step = json(r.stdout).steps[0]!;
    expect(step.message).toBe("poetry install failed: pyenv's poetry is installed for Python 3.11.7 only, and this project pins Python 3.12 (.python-version); install Poetry for every Python with `pipx install poetry`; then run: cd my-api && poetry install");
    expect(step.output).toBeUndefined();
  });

  it("an install that fails for a Python this machine lacks says so in one line, with how to get it, instead of the traceback", async () => {
    const cwd = tempDir();
    const s = standinBin(["poetry"], ["git"]);
    const machine = fakeMachine([".pyenv/versions/3.11.7", ".pyenv/versions/3.12.1"]);
    const r = await runCli(["my-api", "--python", "3.13", "--yes", "--no-git"], { cwd, env: { ...machine, ...s.env, STANDIN_POETRY: "fail" } });
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe("Python 3.13 is not installed here; get it with `pyenv install 3.13`, or choose --python 3.12, which is here");
    expect(lines[1]).toMatch(/^install: poetry install failed: Python 3\.13 is not installed here; get it with `pyenv install 3\.13`, then run: cd my-api && poetry install \(or create the project again with --python 3\.12, which is here\) \(\d+\.\ds\)$/);
    expect(lines[2]).toBe(`install failed; the project is complete and kept in ${path.join(cwd, "my-api")}`);
    expect(lines, "no traceback or output tail").toHaveLength(3);
  });

  it("--pm uv: the install step runs uv sync --locked, and a Python this machine lacks is one line, as with Poetry", async () => {
    const cwd = tempDir();
    const s = standinBin(["uv"], ["git"]);
    const machine = fakeMachine([".pyenv/versions/3.12.1"]);
    const ok = await runCli(["uv-api", "--pm", "uv", "--python", "3.12", "--yes", "--no-git", "--json"], { cwd, env: { ...machine, ...s.env } });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(json(ok.stdout).steps[0]).toMatchObject({ name: "install", status: "ok", commands: ["uv sync --locked"] });
    expect(s.calls().filter((c) => c.argv[0] === "sync").map((c) => [c.argv.join(" "), c.cwd])).toEqual([["sync --locked", path.join(cwd, "uv-api")]]);
    expect(json(ok.stdout).next.paths.find((p) => p.database === "embedded")!.commands).toEqual(["cd uv-api", "make embedded", "make dev"]);

    const missing = await runCli(["uv-missing", "--pm", "uv", "--python", "3.13", "--yes", "--no-git"], { cwd, env: { ...machine, ...s.env, STANDIN_UV: "fail" } });
    expect(missing.exitCode).toBe(1);
    const lines = missing.stderr.trim().split("\n");
    expect(lines[1]).toMatch(/^install: uv sync --locked failed: Python 3\.13 is not installed here; get it with `pyenv install 3\.13`, then run: cd uv-missing && uv sync --locked \(or create the project again with --python 3\.12, which is here\) \(\d+\.\ds\)$/);
    expect(lines, "no output tail").toHaveLength(3);
    expect(missing.stdout).toMatch(/Next, with the embedded Postgres \(.*\):\n  cd uv-missing\n  uv sync --locked\n  make embedded\n  make dev\n/);
  });

  it("without git, or inside a work tree, the git step is skipped with a notice and the run succeeds", async () => {
    const cwd = tempDir();
    const s = standinBin([], []);
    const missing = await runCli([...base, "--yes", "--no-install", "--json"], { cwd, env: s.env });
    expect(missing.exitCode).toBe(0);
    expect(json(missing.stdout).steps[0]).toMatchObject({ name: "git", status: "skipped", message: "git was not found; no repository was created" });

    const repo = tempDir();
    await execa("git", ["init", "-q", repo]);
    const inside = await runCli([...base, "--yes", "--no-install", "--json"], { cwd: repo, env: gitConfig() });
    expect(inside.exitCode).toBe(0);
    expect(json(inside.stdout).steps[0]).toMatchObject({ status: "skipped", message: "the project is already inside a git work tree; nothing was initialised" });
    expect(existsSync(path.join(repo, "my-api", ".git"))).toBe(false);
  });

  it("without a git identity the first commit uses a project-local one, never failing the run", async () => {
    const cwd = tempDir();
    const empty = path.join(tempDir(), "empty-gitconfig");
    writeFileSync(empty, "");
    const r = await runCli([...base, "--yes", "--no-install", "--json"], { cwd, env: { GIT_CONFIG_GLOBAL: empty, GIT_CONFIG_NOSYSTEM: "1" } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r.stdout).steps[0]!.message).toMatch(/no git identity is configured, so the first commit is by "create-svc-app"/);
    expect(await git(path.join(cwd, "my-api"), ["log", "-1", "--format=%an <%ae>"])).toBe("create-svc-app <create-svc-app@localhost.invalid>");
  });

  it.each(["SIGINT", "SIGTERM", "SIGHUP"] as const)("%s during install stops the child, names the step, keeps the project and exits 130", async (signal) => {
    const cwd = tempDir();
    const s = standinBin(["poetry"]);
    const child = execa(process.execPath, [cliPath, ...base, "--yes", "--no-git"], { cwd, reject: false, env: { ...s.env, CI: "true", STANDIN_POETRY: "hang" } });
    for (let i = 0; i < 100 && s.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const poetry = s.calls()[0]!;
    child.kill(signal);
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toContain("Interrupted during install; the project is complete and kept in");
    expect(() => process.kill(poetry.pid, 0)).toThrow(); // the stand-in poetry is gone
    expect(existsSync(path.join(cwd, "my-api", "pyproject.toml"))).toBe(true);
  });
});

describe("post steps: boot with Docker Compose", () => {
  const boot = async (mode: string, extra: string[] = [], env: Record<string, string> = {}) => {
    const cwd = tempDir();
    const s = standinBin(["docker"]);
    const port = await freePort();
    // The machine's own Postgres may hold .env's DB_PORT (5432): the environment moves it, as a user would.
    const r = await runCli([...base, "--yes", "--no-install", "--no-git", "--boot", "--json", ...extra], {
      cwd, env: { ...s.env, STANDIN_DOCKER: mode, WEB_PORT: String(port), DB_PORT: String(await freePort()), ...env }, timeout: 60_000,
    });
    const dir = path.join(cwd, "my-api");
    // Stop whatever the stand-in started, like a user would.
    await execa(path.join(s.bin, "docker"), ["compose", "down"], { cwd: dir, reject: false, env: { STANDIN_LOG: "" } });
    return { r, calls: s.calls().map((c) => c.argv.join(" ")), port, dir };
  };

  it("checks Compose and the daemon, runs up --build, waits for /health and prints the URLs", async () => {
    const { r, calls, port } = await boot("ok", [], { STANDIN_HEALTHY_AFTER_MS: "1500" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls).toEqual(["compose version", "info --format {{.ServerVersion}}", "compose up --build --detach"]);
    const step = json(r.stdout).steps[0]!;
    expect(step).toMatchObject({ name: "boot", status: "ok" });
    expect(step.message).toContain(`API:  http://127.0.0.1:${port}`);
    expect(step.message).toContain(`Docs: http://127.0.0.1:${port}/docs`);
    expect(step.message).toContain("Stop: cd my-api && docker compose down");
  });

  it.each([
    ["no-compose", /Docker Compose is not available \(docker compose version failed\); install Docker with the Compose plugin, then run: cd my-api && docker compose up --build -d/],
    ["daemon-down", /the Docker daemon is not running \(docker info failed\); start Docker, then run: cd my-api && docker compose up --build -d/],
  ])("%s: one clear message, the command to run later, exit 1, project kept", async (mode, message) => {
    const { r, dir } = await boot(mode);
    expect(r.exitCode).toBe(1);
    expect(json(r.stdout).steps[0]!.message).toMatch(message);
    expect(existsSync(path.join(dir, "docker-compose.yml"))).toBe(true);
  });

  it("docker missing altogether is the same clear failure", async () => {
    const cwd = tempDir();
    const s = standinBin([]);
    const r = await runCli([...base, "--yes", "--no-install", "--no-git", "--boot"], { cwd, env: s.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Docker Compose is not available (docker was not found)");
  });

  it("a failed `up` shows its output and the last compose logs", async () => {
    const { r, calls } = await boot("up-fails");
    expect(r.exitCode).toBe(1);
    expect(calls.at(-1)).toBe("compose logs --no-color --tail 50");
    const step = json(r.stdout).steps[0]!;
    expect(step.message).toBe("docker compose up exited with code 1");
    expect(step.output).toContain("did not complete successfully");
    expect(step.output).toContain("stand-in log line");
  });

  it("a published port that another program holds is named before anything starts, not waited on", async () => {
    // A server that would even answer /health: without the check, the boot would call it healthy.
    const holder = createServer((_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const held = (holder.address() as { port: number }).port;
    try {
      const { r, calls } = await boot("ok", [], { WEB_PORT: String(held) });
      expect(r.exitCode).toBe(1);
      expect(json(r.stdout).steps[0]!.message).toBe(
        `port 127.0.0.1:${held} (WEB_PORT) is already in use by another program; set WEB_PORT in .env to a free port, then run: cd my-api && docker compose up --build -d`,
      );
      expect(calls).toEqual(["compose version", "info --format {{.ServerVersion}}"]);
    } finally {
      holder.close();
    }
  });

  it("a service that never turns healthy times out with the last status and the logs", async () => {
    const { r, calls, port } = await boot("unhealthy", ["--boot-timeout", "2"]);
    expect(r.exitCode).toBe(1);
    const step = json(r.stdout).steps[0]!;
    expect(step.message).toContain(`http://127.0.0.1:${port}/health did not answer 200 within 2s (last: HTTP 503)`);
    expect(step.output).toContain("stand-in log line");
    expect(calls.at(-1)).toBe("compose logs --no-color --tail 50");
  });
});
