import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cliPath, repoRoot, runCli, snapshotDir, tempDir } from "../helpers/cli.js";
import { standinBin } from "../helpers/standins.js";
import { TerminalSession } from "../helpers/tmux.js";

// Two versions of one small template; v2 changes, adds, removes and renames files (see the fixtures).
const v1 = path.join(repoRoot, "tests", "fixtures", "update", "v1");
const v2 = path.join(repoRoot, "tests", "fixtures", "update", "v2");

/** The fixture's lock command, standing in for a package manager: demo.lock lists deps.txt, sorted. */
function lockOf(deps: string): string {
  const lines = deps.split("\n").filter(Boolean).sort().map((d) => `${d} (locked)\n`);
  return `# generated from deps.txt\n${lines.join("")}`;
}
const LOCKER = [
  'const { readFileSync, writeFileSync } = require("node:fs");',
  "if (process.env.DEMO_LOCK_HANG) {",
  '  writeFileSync(process.env.DEMO_LOCK_HANG, "started");',
  "  setInterval(() => {}, 1000);",
  "} else {",
  `  writeFileSync("demo.lock", (${lockOf.toString()})(readFileSync("deps.txt", "utf8")));`,
  "}",
].join("\n");

/** A git identity of its own, and `demo-locker` (the fixture's lock command) on PATH unless told otherwise. */
function environment({ locker = true } = {}): Record<string, string> {
  const dir = tempDir("svc-upd-env-");
  writeFileSync(path.join(dir, "gitconfig"), "[user]\n\tname = Test User\n\temail = test@example.invalid\n");
  const bin = standinBin([], ["git"]).bin;
  if (locker) {
    writeFileSync(path.join(bin, "demo-locker"), `#!${process.execPath}\n${LOCKER}`);
    chmodSync(path.join(bin, "demo-locker"), 0o755);
  }
  return { GIT_CONFIG_GLOBAL: path.join(dir, "gitconfig"), GIT_CONFIG_NOSYSTEM: "1", PATH: bin };
}

const git = async (cwd: string, args: string[], env: Record<string, string>) => String((await execa("git", args, { cwd, env })).stdout);
const read = (dir: string, p: string) => readFileSync(path.join(dir, p), "utf8");
const write = (dir: string, p: string, content: string) => {
  mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
  writeFileSync(path.join(dir, p), content);
};

/** A project generated from v1 with git (so the base is recorded), in a fresh folder. */
async function generate(env: Record<string, string>, extra: string[] = []): Promise<string> {
  const cwd = tempDir("svc-upd-");
  const r = await runCli(["my-api", "--yes", "--no-install", "--templates", v1, ...extra], { cwd, env });
  expect(r.exitCode, r.stderr).toBe(0);
  return path.join(cwd, "my-api");
}

/** The user's edits, one of each kind the update table distinguishes, committed. */
async function editAndCommit(dir: string, env: Record<string, string>): Promise<void> {
  write(dir, "README.md", read(dir, "README.md").replace("Intro.", "Intro, rewritten by me.")); // template changes another line
  write(dir, "app.py", read(dir, "app.py").replace("line 5\n", "line 5 (mine)\n")); // template changes the same line
  write(dir, "notes.txt", "my notes\n"); // template leaves it alone
  write(dir, "legacy.txt", "legacy, changed by me\n"); // template removes it
  write(dir, "mine.txt", "my own mine.txt\n"); // template adds a file with this name
  write(dir, "deps.txt", `aardvark\n${read(dir, "deps.txt")}`); // template appends gamma
  rmSync(path.join(dir, "guide.txt")); // the template changes it
  rmSync(path.join(dir, "stable.txt")); // the template leaves it alone
  write(dir, "src/extra.py", "print('mine')\n"); // not the template's
  write(dir, ".env", read(dir, ".env").replace("PORT=8000", "PORT=9000"));
  await git(dir, ["add", "--all"], env);
  await git(dir, ["commit", "-qm", "my changes"], env);
}

/** v2 plus an option the project was not asked about: `log` (plain by default, or json), written to log.txt. */
function withNewOption(): string {
  const v3 = path.join(tempDir("svc-upd-v3-"), "templates");
  cpSync(v2, v3, { recursive: true });
  const manifestFile = path.join(v3, "demo", "template.json");
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  manifest.options.push({ name: "log", message: "Log format?", default: "plain", choices: [{ value: "plain", label: "plain" }, { value: "json", label: "JSON" }] });
  writeFileSync(manifestFile, JSON.stringify(manifest));
  writeFileSync(path.join(v3, "demo", "base", "log.txt.hbs"), "{{options.log}}\n");
  return v3;
}

type Plan = { ok: boolean; files: { path: string; status: string; note?: string }[]; conflicts: string[]; changedAnswers: Record<string, { from: string; to: string }> };
const statuses = (plan: Plan) => Object.fromEntries(plan.files.filter((f) => f.status !== "unchanged").map((f) => [f.path, f.status]));

describe("create-svc-app update: every row of the update table", () => {
  it("updates, keeps, merges, adds, removes, renames; conflicts are marked, listed, exit 1 and unmerged in git", async () => {
    const env = environment();
    const dir = await generate(env);
    const password = /^DB_PASSWORD=(.+)$/m.exec(read(dir, ".env"))![1]!;
    const baseBefore = await git(dir, ["rev-parse", "refs/svc-app/base"], env);
    await editAndCommit(dir, env);
    const envBefore = read(dir, ".env");

    const r = await runCli(["update", "--json", "--templates", v2], { cwd: dir, env });
    expect(r.exitCode, r.stderr).toBe(1);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(statuses(plan)).toEqual({
      "README.md": "merged", // user and template changed different lines
      "app.py": "conflict", // both changed line 5
      "config.txt": "updated", // only the template changed it
      "run.sh": "updated",
      "notes.txt": "kept", // only the user changed it
      "new.txt": "added",
      "lib/util.txt": "added",
      "mine.txt": "conflict", // added by the template where the user has a file
      "old.txt": "removed", // removed by the template, never changed by the user
      "util.txt": "removed",
      "legacy.txt": "conflict", // removed by the template, changed by the user: kept
      "guide.txt": "conflict", // deleted by the user, changed by the template: the template's is written
      "stable.txt": "kept", // deleted by the user, not changed by the template: stays deleted
      ".env": "updated", // a key appended, nothing replaced
      "deps.txt": "merged",
      "demo.lock": "updated", // regenerated, never merged line by line
    });
    expect(plan.conflicts).toEqual(["app.py", "guide.txt", "legacy.txt", "mine.txt"]);
    const note = (p: string) => plan.files.find((f) => f.path === p)!.note;
    expect(note("util.txt")).toBe("renamed by the template to lib/util.txt (a remove plus an add)");
    expect(note("lib/util.txt")).toBe("renamed by the template from util.txt (a remove plus an add)");
    expect(note("demo.lock")).toBe("regenerated: demo-locker");

    // The files as the user now finds them.
    expect(read(dir, "README.md")).toContain("Intro, rewritten by me.");
    expect(read(dir, "README.md")).toContain("MIT, see LICENSE.");
    expect(read(dir, "app.py")).toContain("<<<<<<< yours\nline 5 (mine)\n=======\nline 5 (template)\n>>>>>>> new template (create-svc-app");
    expect(read(dir, "config.txt")).toBe("timeout = 30\n");
    expect(read(dir, "run.sh")).toBe("#!/bin/sh\necho v2\n");
    expect(statSync(path.join(dir, "run.sh")).mode & 0o777).toBe(0o755);
    expect(read(dir, "notes.txt")).toBe("my notes\n");
    expect(read(dir, "new.txt")).toBe("a file the template added\n");
    expect(read(dir, "lib/util.txt")).toBe("helpers\nmore helpers\n");
    expect(read(dir, "mine.txt")).toBe("<<<<<<< yours\nmy own mine.txt\n=======\nthe template's mine.txt\n>>>>>>> new template (create-svc-app 0.1.0)\n".replace("0.1.0", JSON.parse(read(repoRoot, "package.json")).version));
    expect(existsSync(path.join(dir, "old.txt"))).toBe(false);
    expect(existsSync(path.join(dir, "util.txt"))).toBe(false);
    expect(read(dir, "legacy.txt")).toBe("legacy, changed by me\n");
    expect(read(dir, "guide.txt")).toBe("guide, second edition\n");
    expect(existsSync(path.join(dir, "stable.txt"))).toBe(false);
    expect(read(dir, "src/extra.py")).toBe("print('mine')\n");
    expect(read(dir, "deps.txt")).toBe("aardvark\nalpha\nbeta\ngamma\n");
    expect(read(dir, "demo.lock")).toBe("# generated from deps.txt\naardvark (locked)\nalpha (locked)\nbeta (locked)\ngamma (locked)\n");
    // .env: the user's bytes, then the new key; the password everywhere is still the project's own.
    expect(read(dir, ".env")).toBe(`${envBefore}# Added by create-svc-app update: settings the template has that this file lacked.\nLOG_LEVEL=info\n`);
    expect(statSync(path.join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(read(dir, "sql/init.sql")).toContain(`PASSWORD '${password}'`);

    // git sees real three-way conflicts: stages 1/2/3 (both modified), 2/3 (both added), 1/2 (deleted by them), 1/3 (deleted by us).
    const stages = (await git(dir, ["ls-files", "-u"], env)).split("\n").map((l) => `${l.split("\t")[1]}:${l.split(/\s+/)[2]}`);
    expect(stages).toEqual(["app.py:1", "app.py:2", "app.py:3", "guide.txt:1", "guide.txt:3", "legacy.txt:1", "legacy.txt:2", "mine.txt:2", "mine.txt:3"]);
    expect((await git(dir, ["status", "--porcelain"], env)).split("\n").filter((l) => /^(UU|AA|UD|DU)/.test(l)).sort()).toEqual(["AA mine.txt", "DU guide.txt", "UD legacy.txt", "UU app.py"]);
    expect(await git(dir, ["show", ":1:app.py"], env)).toContain("line 4\nline 5\nline 6");
    expect(await git(dir, ["show", ":2:app.py"], env)).toContain("line 5 (mine)");
    expect(await git(dir, ["show", ":3:app.py"], env)).toContain("line 5 (template)");

    // The new base is recorded, with the old one as its parent, without the secret.
    expect(await git(dir, ["rev-parse", "refs/svc-app/base^"], env)).toBe(baseBefore);
    expect(await git(dir, ["show", "refs/svc-app/base:config.txt"], env)).toBe("timeout = 30");
    expect(await git(dir, ["ls-tree", "-r", "--name-only", "refs/svc-app/base"], env)).not.toContain(".env");
    expect(await git(dir, ["branch", "--list"], env)).not.toContain("svc-app");
  });

  it("prints the plan and the conflicts one per line; --diff3 shows the base in the markers", async () => {
    const env = environment();
    const dir = await generate(env);
    await editAndCommit(dir, env);
    const r = await runCli(["update", "my-api", "--diff3", "--templates", v2], { cwd: path.dirname(dir), env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^ {2}conflict {2}app\.py {2}\(1 conflicting change\)$/m);
    expect(r.stdout).toMatch(/^ {2}merged {4}README\.md$/m);
    expect(r.stdout.trimEnd().split("\n").slice(-4)).toEqual(["app.py", "guide.txt", "legacy.txt", "mine.txt"]);
    expect(r.stderr).toContain("4 files with conflicts to resolve");
    expect(read(dir, "app.py")).toMatch(/<<<<<<< yours\nline 5 \(mine\)\n\|\|\|\|\|\|\| as generated \(create-svc-app [^)]+\)\nline 5\n=======\nline 5 \(template\)\n>>>>>>> /);
  });

  it("a project without edits updates cleanly (exit 0), and a second update finds nothing to do", async () => {
    const env = environment();
    const dir = await generate(env);
    const first = await runCli(["update", "--templates", v2], { cwd: dir, env });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await git(dir, ["ls-files", "-u"], env)).toBe("");
    expect(read(dir, "app.py")).toContain("line 5 (template)");
    await git(dir, ["add", "--all"], env);
    await git(dir, ["commit", "-qm", "update"], env);
    const again = await runCli(["update", "--json", "--templates", v2], { cwd: dir, env });
    expect(again.exitCode).toBe(0);
    expect(statuses(JSON.parse(again.stdout))).toEqual({});
  });

  it("a changed answer (--python 3.11) re-renders with it: its overlay layer is added, the record updated", async () => {
    const env = environment();
    const dir = await generate(env);
    const r = await runCli(["update", "--python", "3.11", "--json", "--templates", v2], { cwd: dir, env });
    expect(r.exitCode, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.changedAnswers).toEqual({ python: { from: "3.12", to: "3.11" } });
    expect(statuses(plan)).toMatchObject({ ".python-version": "updated", "compat.txt": "added" });
    expect(read(dir, ".python-version")).toBe("3.11\n");
    expect(JSON.parse(read(dir, ".svc-app.json")).answers.python).toBe("3.11");

    await git(dir, ["add", "--all"], env);
    await git(dir, ["commit", "-qm", "update"], env);
    const bad = await runCli(["update", "--python", "3.99", "--templates", v2], { cwd: dir, env });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('error: --python "3.99" is not offered by --stack demo; choose one of: 3.11, 3.12');
  });

  it("refuses a dirty work tree (exit 2, nothing changed) unless --force", async () => {
    const env = environment();
    const dir = await generate(env);
    write(dir, "notes.txt", "uncommitted\n");
    const before = snapshotDir(dir);
    const r = await runCli(["update", "--templates", v2], { cwd: dir, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe("error: the current directory has uncommitted changes (1: notes.txt); commit or stash them so the update can be undone, or pass --force");
    expect(snapshotDir(dir)).toEqual(before);
    const forced = await runCli(["update", "--force", "--templates", v2], { cwd: dir, env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(read(dir, "notes.txt")).toBe("uncommitted\n");
  });

  it("--dry-run prints the plan and changes nothing; its exit code says whether conflicts would be left", async () => {
    const env = environment();
    const dir = await generate(env);
    await editAndCommit(dir, env);
    const before = snapshotDir(dir);
    const r = await runCli(["update", "--dry-run", "--templates", v2], { cwd: dir, env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^ {2}updated {3}demo\.lock {2}\(would be regenerated: demo-locker\)$/m);
    expect(r.stdout).toContain("dry run:");
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("Ctrl-C while the lock file is regenerated leaves the project, its index and its refs as they were", async () => {
    const env = environment();
    const dir = await generate(env);
    write(dir, "deps.txt", `aardvark\n${read(dir, "deps.txt")}`);
    await git(dir, ["commit", "-qam", "a dependency"], env);
    const before = snapshotDir(dir);
    const refs = await git(dir, ["for-each-ref"], env);
    const started = path.join(tempDir("svc-upd-hang-"), "started");
    const child = execa(process.execPath, [cliPath, "update", "--templates", v2], { cwd: dir, reject: false, env: { ...env, CI: "true", DEMO_LOCK_HANG: started } });
    for (let i = 0; i < 3000 && !existsSync(started); i++) await new Promise((res) => setTimeout(res, 5));
    if (!existsSync(started)) throw new Error(`the lock command never started: ${(await child).stderr}`);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(snapshotDir(dir)).toEqual(before);
    expect(await git(dir, ["status", "--porcelain"], env)).toBe("");
    expect(await git(dir, ["for-each-ref"], env)).toBe(refs);
  });

  it("flags a lock file whose tool is missing, naming the command to run", async () => {
    const dir = await generate(environment());
    const r = await runCli(["update", "--templates", v2], { cwd: dir, env: environment({ locker: false }) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("demo.lock: demo-locker is not installed, so it was not regenerated; run: demo-locker");
  });

  it("a project made before the base ref updates from the generator's first commit; without git it needs --base-templates", async () => {
    const env = environment();
    const dir = await generate(env);
    await editAndCommit(dir, env);
    await git(dir, ["update-ref", "-d", "refs/svc-app/base"], env);
    const fromFirst = await runCli(["update", "--json", "--dry-run", "--templates", v2], { cwd: dir, env });
    expect(JSON.parse(fromFirst.stdout).base).toMatch(/^the first commit \(/);
    expect(JSON.parse(fromFirst.stdout).conflicts).toEqual(["app.py", "guide.txt", "legacy.txt", "mine.txt"]);

    rmSync(path.join(dir, ".git"), { recursive: true });
    const refused = await runCli(["update", "--templates", v2], { cwd: dir, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^error: the current directory is not in a git work tree, so no base is recorded: give the templates it was made with \(create-svc-app .+\) as --base-templates <dir>$/);
    const given = await runCli(["update", "--json", "--templates", v2, "--base-templates", v1], { cwd: dir, env });
    expect(given.exitCode).toBe(1);
    expect(JSON.parse(given.stdout).conflicts).toEqual(["app.py", "guide.txt", "legacy.txt", "mine.txt"]);
  });

  it("an option the new template added is asked for: without a terminal it needs the flag or --yes", async () => {
    const env = environment();
    const dir = await generate(env);
    const v3 = withNewOption();

    const asked = await runCli(["update", "--templates", v3], { cwd: dir, env });
    expect(asked.exitCode).toBe(2);
    expect(asked.stderr.trim()).toBe("error: cannot ask questions here (CI is set): give --log <plain|json>, or --yes to take the defaults");
    const given = await runCli(["update", "--log", "json", "--json", "--templates", v3], { cwd: dir, env });
    expect(given.exitCode, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout).changedAnswers).toEqual({ log: { from: null, to: "json" } });
    expect(read(dir, "log.txt")).toBe("json\n");
    expect(JSON.parse(read(dir, ".svc-app.json")).answers).toMatchObject({ python: "3.12", log: "json" });
  });

  it("on a terminal, the new option is asked; the plan and the outcome are shown in the frame", async () => {
    const env = environment();
    const dir = await generate(env);
    const session = await TerminalSession.start(`${process.execPath} ${cliPath} update --templates ${withNewOption()}`, dir, env);
    try {
      await session.waitFor(/Log format\?/);
      await session.keys(["Down"]);
      await session.keys(["Enter"]); // JSON
      const screen = await session.waitFor(/EXIT=\d+/);
      expect(screen).toMatch(/Updating my-api \(Demo; log \(new\) -> json\)/);
      expect(screen).toMatch(/added +log\.txt/);
      expect(screen).toContain("EXIT=0");
      expect(read(dir, "log.txt")).toBe("json\n");
    } finally {
      await session.stop();
    }
  });

  it("a project inside a larger repository keeps its own base ref, and its conflicts are unmerged at their full path", async () => {
    const env = environment();
    const repo = tempDir("svc-upd-mono-");
    await git(repo, ["init", "-q"], env);
    mkdirSync(path.join(repo, "services"));
    const r = await runCli(["services/my-api", "--yes", "--no-install", "--templates", v1], { cwd: repo, env });
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = path.join(repo, "services", "my-api");
    const ref = "refs/svc-app/base-of/services/my-api";
    const first = await git(repo, ["rev-parse", ref], env);
    await git(repo, ["add", "--all"], env);
    await git(repo, ["commit", "-qm", "add the service"], env);
    write(dir, "app.py", read(dir, "app.py").replace("line 5\n", "line 5 (mine)\n"));
    await git(repo, ["commit", "-qam", "my change"], env);

    const u = await runCli(["update", "services/my-api", "--templates", v2], { cwd: repo, env });
    expect(u.exitCode, u.stderr).toBe(1);
    expect(u.stdout.trimEnd().split("\n").pop()).toBe("app.py");
    expect((await git(repo, ["ls-files", "-u"], env)).split("\n").map((l) => l.split(/\s+/).slice(2).join(" "))).toEqual(["1 services/my-api/app.py", "2 services/my-api/app.py", "3 services/my-api/app.py"]);
    expect(await git(repo, ["rev-parse", `${ref}^`], env)).toBe(first);
    expect(await git(repo, ["for-each-ref", "--format=%(refname)", "refs/svc-app"], env)).toBe(ref);
  });

  it("bad input is one line and exit 2: no project here, an unknown flag, an option the templates do not declare, a template that is not there", async () => {
    const env = environment();
    const empty = tempDir();
    const none = await runCli(["update", "--templates", v2], { cwd: empty, env });
    expect(none.exitCode).toBe(2);
    expect(none.stderr.trim()).toMatch(/^error: the current directory has no \.svc-app\.json: it was not made by create-svc-app/);
    const unknown = await runCli(["update", "--bogus"], { cwd: empty, env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.trim()).toBe("error: unknown option '--bogus' (see --help)");
    const dir = await generate(env);
    const other = await runCli(["update", "--node", "24", "--templates", v2], { cwd: dir, env });
    expect(other.exitCode).toBe(2);
    expect(other.stderr.trim()).toBe("error: unknown option '--node' (see --help)"); // the demo templates declare no --node
    const bundled = await runCli(["update"], { cwd: dir, env });
    expect(bundled.exitCode).toBe(2);
    expect(bundled.stderr.trim()).toMatch(/^error: the current directory was made with the "demo" template, which .*templates does not have \(it has: .+\)$/);
  });

  it("--help lists the update command, and update --help its flags", async () => {
    const main = await runCli(["--help"], { cwd: tempDir() });
    expect(main.stdout).toMatch(/^ {2}update \[directory\] +bring a project made by create-svc-app to the current template/m);
    expect(main.stdout).toMatch(/^ {2}templates check \[dir\] +for template authors/m);
    const help = await runCli(["update", "--help"], { cwd: tempDir() });
    expect(help.exitCode).toBe(0);
    for (const flag of ["--templates <dir>", "--base-templates <dir>", "--diff3", "--dry-run", "--json", "--yes", "--force", "--python <value>"]) expect(help.stdout).toContain(flag);
  });
});

// Keep the fixture's lock consistent with its lock command, or the rows above test nothing.
it("the fixture lock files are what their lock command writes", () => {
  for (const v of [v1, v2]) expect(read(path.join(v, "demo", "base"), "demo.lock")).toBe(lockOf(read(path.join(v, "demo", "base"), "deps.txt")));
});
