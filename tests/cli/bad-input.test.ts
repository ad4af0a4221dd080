import { mkdirSync, writeFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, snapshotDir, tempDir } from "../helpers/cli.js";
import { choiceList, manifestNamed, manifests, re } from "../helpers/expected.js";

// The allowed values come from the manifests under test, so a new choice needs no edit here.
const STACKS = re(manifests.map((m) => m.name).join(", "));
const ORMS = re(choiceList("fastapi", "orm"));
const PYTHONS = re(choiceList("fastapi", "python"));

/** Each bad input: the args, the one line it must print, exit code 2, and nothing written. */
const cases: [string, string[], RegExp][] = [
  ["unknown flag", ["my-api", "--yes", "--colour", "red"], /^error: unknown option '--colour' \(see --help\)$/],
  ["misspelt flag", ["my-api", "--yes", "--stak", "fastapi"], /unknown option '--stak'.*Did you mean --stack\?/],
  ["unknown stack", ["my-api", "--yes", "--stack", "django"], new RegExp(`--stack "django" is not a stack; choose one of: ${STACKS}$`)],
  ["unknown ORM", ["my-api", "--yes", "--orm", "mongo"], new RegExp(`--orm "mongo" is not offered by --stack fastapi; choose one of: ${ORMS}`)],
  ["ORM of another stack", ["my-api", "--yes", "--orm", "drizzle"], new RegExp(`--orm "drizzle" is not offered by --stack fastapi \\(it belongs to --stack fastify\\); choose one of: ${ORMS}`)],
  ["Node version for the Python stack", ["my-api", "--yes", "--node", "24"], new RegExp(`--node does not apply to --stack fastapi \\(it belongs to fastify; fastapi takes ${re(manifestNamed("fastapi").options.map((o) => `--${o.name}`).join(", "))}\\)`)],
  ["Python version for the Node stack", ["my-api", "--yes", "--stack", "fastify", "--python", "3.13"], /--python does not apply to --stack fastify/],
  ["unmaintained Node version", ["my-api", "--yes", "--stack", "fastify", "--node", "20"], new RegExp(`--node "20" is not offered by --stack fastify; choose one of: ${re(choiceList("fastify", "node"))}`)],
  ["unsupported package manager", ["my-api", "--yes", "--stack", "fastify", "--pm", "yarn"], new RegExp(`--pm "yarn" is not offered by --stack fastify; choose one of: ${re(choiceList("fastify", "pm"))}`)],
  ["unknown feature", ["my-api", "--yes", "--features", "kafka"], new RegExp(`^error: --features "kafka" is not offered by --stack fastapi; give none, or any of ${re(choiceList("fastapi", "features"))} separated by commas$`)],
  ["an unknown feature among known ones", ["my-api", "--yes", "--features", "ci,kafka"], /^error: --features "kafka" is not offered by --stack fastapi; give none, or any of/],
  ["an empty feature in the list", ["my-api", "--yes", "--features", "ci,"], /^error: --features "ci," has an empty item; give none, or any of/],
  ["none with a feature", ["my-api", "--yes", "--features", "none,ci"], /^error: --features "none" is not offered by --stack fastapi; give none, or any of/],
  ["unsupported Python", ["my-api", "--yes", "--python", "3.9"], new RegExp(`--python "3.9" is not offered by --stack fastapi; choose one of: ${PYTHONS}`)],
  ["flag without its value", ["my-api", "--yes", "--orm"], /option '--orm <value>' argument missing/],
  ["capitals and space in the name", ["My API", "--yes"], /invalid project name "My API": it has capital letters.*; try "my-api"/],
  ["Python keyword as name", ["class", "--yes"], /invalid project name "class": "class" is a Python keyword; try "class-app"/],
  ["reserved npm name", ["node_modules", "--yes"], /invalid project name "node_modules": a package name node_modules is not a valid package name|node_modules is not a valid package name/],
  ["core module name", ["http", "--yes"], /invalid project name "http": http is a core module name/],
  ["name too long", ["a".repeat(215), "--yes"], /it is 215 characters long \(npm allows 214\)/],
  ["unicode name", ["café", "--yes"], /invalid project name "café".*try "cafe"/],
  ["empty name", ["", "--yes"], /directory is empty; give a project name such as "my-api"/],
  ["bad db name", ["my-api", "--yes", "--db-name", "My-DB"], /--db-name "My-DB" is not valid/],
  ["reserved db user", ["my-api", "--yes", "--db-user", "postgres"], /--db-user "postgres" is not valid: "postgres" is reserved by Postgres/],
  ["bad boot timeout", ["my-api", "--yes", "--boot-timeout", "soon"], /^error: --boot-timeout "soon" is not valid: use a whole number of seconds from 1 to 3600 \(see --help\)$/],
  ["two directories", ["one", "two", "--yes"], /too many arguments/],
  ["stack without its value", ["my-api", "--yes", "--stack"], /option '--stack <name>' argument missing/],
  ["stack in capitals", ["my-api", "--yes", "--stack", "FastAPI"], new RegExp(`--stack "FastAPI" is not a stack; choose one of: ${STACKS}$`)],
  ["ORM in capitals", ["my-api", "--yes", "--orm", "SQLAlchemy"], new RegExp(`--orm "SQLAlchemy" is not offered by --stack fastapi; choose one of: ${ORMS}`)],
  ["Python major only", ["my-api", "--yes", "--python", "3"], new RegExp(`--python "3" is not offered by --stack fastapi; choose one of: ${PYTHONS}`)],
  ["Python patch version", ["my-api", "--yes", "--python", "3.13.1"], /--python "3.13.1" is not offered/],
  ["Python 2", ["my-api", "--yes", "--python", "2.7"], /--python "2.7" is not offered/],
  ["empty db name", ["my-api", "--yes", "--db-name", ""], /--db-name "" is not valid: use lowercase letters/],
  ["SQL in the db name", ["my-api", "--yes", "--db-name", "x; DROP DATABASE postgres"], /--db-name "x; DROP DATABASE postgres" is not valid/],
  ["db name over 63 characters", ["my-api", "--yes", "--db-name", "d".repeat(64)], /is not valid: it is 64 characters long \(Postgres allows 63\)/],
  ["db name reserved", ["my-api", "--yes", "--db-name", "template1"], /--db-name "template1" is not valid: "template1" is reserved by Postgres/],
  ["db user with pg_ prefix", ["my-api", "--yes", "--db-user", "pg_admin"], /the "pg_" prefix is reserved by Postgres/],
  ["db user with a quote", ["my-api", "--yes", "--db-user", "o'brien"], /--db-user "o'brien" is not valid/],
  ["boot timeout zero", ["my-api", "--yes", "--boot-timeout", "0"], /use a whole number of seconds from 1 to 3600/],
  ["boot timeout too long", ["my-api", "--yes", "--boot-timeout", "99999"], /use a whole number of seconds from 1 to 3600/],
  ["boot timeout fraction", ["my-api", "--yes", "--boot-timeout", "1.5"], /use a whole number of seconds/],
  ["a flag and its negation", ["my-api", "--yes", "--install", "--no-install"], /--install and --no-install contradict each other; give one/],
  ["dry run with boot", ["my-api", "--yes", "--dry-run", "--boot"], /--dry-run writes nothing, so --boot cannot run; drop one of them/],
  ["value for a switch", ["my-api", "--yes=no"], /unknown option '--yes=no'/],
  ["unknown short flag", ["my-api", "-x"], /unknown option '-x'/],
  ["name with a trailing dot", ["api.", "--yes"], /invalid project name "api.": it ends with "-", "." or "_"/],
  ["name starting with an underscore", ["__pycache__", "--yes"], /invalid project name "__pycache__": use lowercase letters.*starting with a letter/],
  ["npm-reserved name", ["favicon.ico", "--yes"], /invalid project name "favicon.ico": .*favicon.ico is not a valid package name/],
  ["Python keyword import", ["import", "--yes"], /"import" is a Python keyword; try "import-app"/],
  ["name with a slash at the root", ["/", "--yes"], /invalid project name "": it is empty/],
  ["templates folder missing", ["my-api", "--yes", "--templates", "/nonexistent/templates"], /templates folder not found: \/nonexistent\/templates/],
  ["templates without a value", ["my-api", "--yes", "--templates"], /option '--templates <dir>' argument missing/],
  ["unwritable place (procfs)", ["/proc/my-api", "--yes", "--no-git", "--no-install"], /cannot write \/proc\/my-api: cannot create folders there/],
  ["unwritable place (sysfs)", ["/sys/my-api", "--yes", "--no-git", "--no-install"], /cannot write \/sys\/my-api: permission denied/],
  ["the parent directory", ["..", "--yes"], /^error: \.\. is not empty \(\d+ entries\); pass --force/],
  ["no answers and no terminal", ["my-api"], new RegExp(`cannot ask questions here \\(CI is set\\): give --stack <${re(manifests.map((m) => m.name).join("|"))}>, ${manifestNamed("fastapi").options.map((o) => `--${o.name} <${re(o.multiple ? `${choiceList("fastapi", o.name, ",")}|none` : choiceList("fastapi", o.name, "|"))}>`).join(", ")}, or --yes`)],
];

describe("bad input: exit code 2, one line naming the value and what is allowed, nothing written", () => {
  let cwd: string;
  beforeAll(() => {
    cwd = tempDir();
  });

  it.each(cases)("%s", async (_label, args, message) => {
    const before = snapshotDir(cwd);
    const r = await runCli(args, { cwd });
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    // One sentence shape everywhere: after "error: ", no ". lowercase" run-on from a library.
    expect(lines[0]).not.toMatch(/[\w)'"]\.\s+[a-z]/);
    expect(r.stdout).toBe("");
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it("refuses a non-empty directory without --force and leaves it untouched", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "my-api"));
    writeFileSync(path.join(dir, "my-api", "notes.txt"), "mine");
    const before = snapshotDir(dir);
    const r = await runCli(["my-api", "--yes", "--no-install", "--no-git"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe("error: my-api is not empty (1 entries); pass --force to add the template's files to it (nothing else is touched)");
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("refuses a file where the directory should be, and a symlinked target", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "my-api"), "a file");
    mkdirSync(path.join(dir, "real"));
    symlinkSync(path.join(dir, "real"), path.join(dir, "linked"));
    const before = snapshotDir(dir);
    const file = await runCli(["my-api", "--yes"], { cwd: dir });
    expect([file.exitCode, file.stderr.trim()]).toEqual([2, "error: my-api exists and is not a directory"]);
    const link = await runCli(["linked", "--yes"], { cwd: dir });
    expect([link.exitCode, link.stderr.trim()]).toEqual([2, "error: linked is a symbolic link; give the real directory instead"]);
    const under = await runCli(["my-api/inner", "--yes"], { cwd: dir });
    expect(under.exitCode).toBe(2);
    expect(under.stderr).toMatch(/cannot create my-api\/inner: .*my-api is a file/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("never waits for input that cannot come: no flags, no terminal, exit 2", async () => {
    // stdin is an open pipe that never sends anything: a CLI that waited for it would hang until
    // the timeout (far above a normal run, so a loaded machine does not fail it; speed is `pnpm bench`'s).
    const r = await runCli([], { cwd: tempDir(), timeout: 20_000, env: { CI: "" }, stdin: "pipe" });
    expect(r.timedOut, "still waiting for input that cannot come").toBe(false);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cannot ask questions here \(stdin is not a terminal\): give <directory>/);
  });

  it("--json with questions left to ask: exit 2 and a JSON error on stdout", async () => {
    const r = await runCli(["my-api", "--json"], { cwd: tempDir() });
    expect(r.exitCode).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 2, error: { kind: "UserError" } });
    expect(out.error.message).toMatch(/cannot ask questions here/);
  });
});
