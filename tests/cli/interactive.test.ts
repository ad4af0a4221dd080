import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliPath, snapshotDir, tempDir } from "../helpers/cli.js";
import { standinBin } from "../helpers/standins.js";
import { TerminalSession } from "../helpers/tmux.js";
import { answerOptionPrompts, declaredLocks, installLines, manifestNamed, re } from "../helpers/expected.js";
import { flagValue } from "../../src/templates/manifest.js";
import { fakeMachine } from "../helpers/machine.js";

let session: TerminalSession | undefined;
afterEach(async () => {
  await session?.stop();
  session = undefined;
});

describe("interactive flow in a real terminal", () => {
  it("asks name, stack, ORM, Python, PostgreSQL and the three steps, then writes the project and prints the next commands", async () => {
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
    // The first option takes the choice after its default (sqlmodel), the others the one they start on.
    const fastapi = manifestNamed("fastapi");
    const chosen = await answerOptionPrompts(session, fastapi, (o) => (o === fastapi.options[0] ? o.choices.findIndex((c) => c.value === o.default) + 1 : undefined));
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
    expect(screen).toMatch(/git: repository initialised on \S+ with one commit \(\d+\.\ds\)\n/); // one timer, not "(0.1s) [0s]"
    expect(screen).not.toMatch(/\[\d+s\]/);
    expect(screen).toMatch(/Next, with /);
    for (const line of installLines(fastapi, chosen)) expect(screen).toContain(line); // install was declined, so it is listed next
    expect(screen).toMatch(/cd shop-api/);
    const record = JSON.parse(readFileSync(path.join(cwd, "shop-api", ".svc-app.json"), "utf8"));
    expect(record.answers).toMatchObject({ name: "shop-api", stack: "fastapi", ...chosen });
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

describe("runtime versions found on the machine", () => {
  it("starts the Python question on the newest version found here and marks it", async () => {
    const cwd = tempDir();
    const machine = fakeMachine([".pyenv/versions/3.11.9", ".pyenv/versions/3.12.4"]);
    // PATH in the command itself: tmux's shell puts the machine's own PATH back in front.
    // Every other option given (its default), so that Python is the one question asked.
    const others = manifestNamed("fastapi").options.filter((o) => o.name !== "python").map((o) => `--${o.name} ${flagValue(o.default)}`).join(" ");
    session = await TerminalSession.start(`PATH=${machine.PATH} ${process.execPath} ${cliPath} py-api --stack fastapi ${others} --no-install --no-git --no-boot`, cwd, machine);
    await session.waitFor(/Which Python version\?[\s\S]*Python 3\.12 \(default, found here\)/);
    await session.keys(["Down"]);
    expect(await session.waitFor(/Python 3\.13/)).not.toMatch(/Python 3\.13 \([^)]*found here/);
    await session.keys(["Up"]);
    await session.keys(["Enter"]);
    expect(await session.exitCode(), await session.screen()).toBe(0);
    expect(JSON.parse(readFileSync(path.join(cwd, "py-api", ".svc-app.json"), "utf8")).answers.python).toBe("3.12");
  });
});

describe("on a terminal, but asked for --json", () => {
  it("names --json as the reason it cannot ask, not the terminal", async () => {
    const cwd = tempDir();
    session = await TerminalSession.start(`node ${cliPath} my-api --json`, cwd);
    expect(await session.exitCode()).toBe(2);
    const screen = await session.screen();
    expect(screen).toMatch(/cannot ask questions here \(--json is set\): give --stack/);
    expect(screen).not.toMatch(/not a terminal/);
  });

  it("a non-empty directory is asked about first, before the stack questions", async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "busy-api"));
    writeFileSync(path.join(cwd, "busy-api", "notes.txt"), "mine");
    session = await TerminalSession.start(`node ${cliPath} busy-api`, cwd);
    await session.waitFor(/busy-api is not empty/);
    expect(await session.screen()).not.toMatch(/Stack/);
    await session.keys(["Enter"]); // No, the default: cancelled
    expect(await session.exitCode()).toBe(130);
    expect(readFileSync(path.join(cwd, "busy-api", "notes.txt"), "utf8")).toBe("mine");
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
    // Each prompt lists every choice of the manifest; take the last one (kysely, 26, pnpm).
    const fastify = manifestNamed("fastify");
    const chosen = await answerOptionPrompts({
      waitFor: async (p) => {
        const screen = await session!.waitFor(p);
        const option = fastify.options.find((o) => p.source.startsWith(re(o.message)))!;
        expect(screen).toMatch(new RegExp(option.choices.map((c) => re(c.label)).join("[\\s\\S]*")));
        return screen;
      },
      keys: (k) => session!.keys(k),
    }, fastify, (o) => o.choices.length - 1);
    const code = await session.exitCode();
    expect(code, await session.screen()).toBe(0);
    const record = JSON.parse(readFileSync(path.join(cwd, "ts-api", ".svc-app.json"), "utf8"));
    expect(record.answers).toMatchObject({ stack: "fastify", ...chosen });
    for (const lock of declaredLocks(fastify, chosen)) expect(existsSync(path.join(cwd, "ts-api", lock)), lock).toBe(true);
    for (const line of installLines(fastify, chosen)) expect(await session.screen()).toContain(line);
  });
});
