import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliPath, snapshotDir, tempDir } from "../helpers/cli.js";
import { standinBin } from "../helpers/standins.js";
import { TerminalSession } from "../helpers/tmux.js";

let session: TerminalSession | undefined;
afterEach(async () => {
  await session?.stop();
  session = undefined;
});

describe("interactive flow in a real terminal", () => {
  it("asks name, stack, ORM, Python and the three steps, then writes the project and prints the next commands", async () => {
    const cwd = tempDir();
    const gitconfig = path.join(tempDir(), "gitconfig");
    writeFileSync(gitconfig, "[user]\n\tname = Terminal User\n\temail = tty@example.invalid\n");
    session = await TerminalSession.start(`node ${cliPath}`, cwd, { GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: "1" });
    await session.waitFor(/Project name/);
    await session.keys(["Shop API"], true);
    await session.keys(["Enter"]);
    await session.waitFor(/capital letters.*try "shop-api"/); // validated as you type, not accepted
    await session.keys(["C-u"]);
    for (let i = 0; i < 8; i++) await session.keys(["BSpace"]);
    await session.keys(["shop-api"], true);
    await session.keys(["Enter"]);
    await session.waitFor(/Stack/);
    await session.keys(["Enter"]); // FastAPI, the default
    await session.waitFor(/Which ORM\?/);
    await session.keys(["Down"]);
    await session.keys(["Enter"]); // sqlmodel
    await session.waitFor(/Which Python version\?/);
    await session.keys(["Enter"]); // 3.13
    await session.waitFor(/Install dependencies\?/);
    await session.keys(["Right"]);
    await session.keys(["Enter"]); // No
    await session.waitFor(/Initialise a git repository\?/);
    await session.keys(["Enter"]); // Yes, the default
    await session.waitFor(/Boot it with Docker Compose/);
    await session.keys(["Enter"]); // No is the default
    const code = await session.exitCode();
    const screen = await session.screen();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/git: repository initialised on \S+ with one commit/);
    expect(screen).toMatch(/Next:/);
    expect(screen).toMatch(/poetry install/); // install was declined, so it is listed next
    expect(screen).toMatch(/cd shop-api/);
    const record = JSON.parse(readFileSync(path.join(cwd, "shop-api", ".svc-app.json"), "utf8"));
    expect(record.answers).toMatchObject({ name: "shop-api", stack: "fastapi", orm: "sqlmodel", python: "3.13" });
  });

  it.each([["Escape"], ["C-c"]])("%s at a prompt prints Cancelled, exits 130 and writes nothing", async (key) => {
    const cwd = tempDir();
    const before = snapshotDir(cwd);
    session = await TerminalSession.start(`node ${cliPath} cancel-me`, cwd);
    await session.waitFor(/Stack/);
    await session.keys([key]);
    const code = await session.exitCode();
    expect(code).toBe(130);
    expect(await session.screen()).toMatch(/Cancelled/);
    expect(existsSync(path.join(cwd, "cancel-me"))).toBe(false);
    expect(snapshotDir(cwd)).toEqual(before);
  });
});

describe("signals while a prompt waits", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s sent to the process ends the prompt: Cancelled, exit 130, nothing written", async (signal) => {
    const cwd = tempDir();
    const before = snapshotDir(cwd);
    session = await TerminalSession.start(`node ${cliPath} signalled-api`, cwd);
    await session.waitFor(/Stack/);
    await session.signal(signal);
    expect(await session.exitCode()).toBe(130);
    expect(await session.screen()).toMatch(/Cancelled/);
    expect(snapshotDir(cwd)).toEqual(before);
  });
});

describe("Ctrl-C typed in the terminal while a step runs", () => {
  it("stops the step's program, says so, keeps the project and exits 130", async () => {
    const cwd = tempDir();
    const s = standinBin(["poetry"]);
    // The stand-in poetry first on PATH (set in the command: tmux keeps its own PATH for the pane).
    session = await TerminalSession.start(`env PATH=${s.bin}:/usr/bin:/bin ${process.execPath} ${cliPath} busy-api --yes --no-git`, cwd, { STANDIN_LOG: s.log, STANDIN_POETRY: "hang" });
    await session.waitFor(/Installing dependencies/);
    for (let i = 0; i < 100 && s.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const poetry = s.calls()[0]!;
    await session.keys(["C-c"]);
    expect(await session.exitCode(), await session.screen()).toBe(130);
    expect(await session.screen()).toMatch(/Interrupted during install; the project is complete and kept in/);
    expect(() => process.kill(poetry.pid, 0)).toThrow(); // the stand-in poetry is gone
    expect(existsSync(path.join(cwd, "busy-api", "pyproject.toml"))).toBe(true);
  });
});

describe("interactive flow for the Node stack", () => {
  it("asks the ORM, the Node version and the package manager of --stack fastify", async () => {
    const cwd = tempDir();
    session = await TerminalSession.start(`node ${cliPath} ts-api --stack fastify --no-install --no-git --no-boot`, cwd);
    await session.waitFor(/ORM/);
    expect(await session.screen()).toMatch(/Drizzle[\s\S]*TypeORM[\s\S]*Kysely/);
    await session.keys(["Down"]);
    await session.keys(["Down"]);
    await session.keys(["Enter"]); // kysely
    await session.waitFor(/Node\.js version/);
    expect(await session.screen()).toMatch(/Node\.js 22[\s\S]*Node\.js 24[\s\S]*Node\.js 26/);
    await session.keys(["Down"]);
    await session.keys(["Enter"]); // 26 (24 is the default, highlighted first)
    await session.waitFor(/package manager/);
    await session.keys(["Down"]);
    await session.keys(["Enter"]); // pnpm
    const code = await session.exitCode();
    expect(code, await session.screen()).toBe(0);
    const record = JSON.parse(readFileSync(path.join(cwd, "ts-api", ".svc-app.json"), "utf8"));
    expect(record.answers).toMatchObject({ stack: "fastify", orm: "kysely", node: "26", pm: "pnpm" });
    expect(existsSync(path.join(cwd, "ts-api", "pnpm-lock.yaml"))).toBe(true);
    expect(await session.screen()).toMatch(/pnpm install --frozen-lockfile/);
  });
});
