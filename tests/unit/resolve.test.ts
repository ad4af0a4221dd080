import { describe, expect, it } from "vitest";
import { CancelledError, UserError } from "../../src/errors.js";
import { resolveAnswers, type ResolveContext } from "../../src/options/resolve.js";
import { applyDetection } from "../../src/options/detect.js";
import type { Flags, Prompter } from "../../src/options/types.js";
import { parseManifest } from "../../src/templates/manifest.js";
import { demoManifest } from "../helpers/template.js";
import { memDisk } from "../helpers/memfs.js";

const py = parseManifest(demoManifest({ name: "py", order: 1, options: [
  { name: "orm", message: "ORM?", default: "sqlalchemy", choices: [{ value: "sqlalchemy" }, { value: "sqlmodel" }] },
  { name: "python", message: "Python?", default: "3.13", choices: [{ value: "3.12" }, { value: "3.13" }] },
], layers: [{ source: "base" }] }), "py/template.json", "py");
const ts = parseManifest(demoManifest({ name: "ts", order: 2, options: [
  { name: "orm", message: "ORM?", default: "drizzle", choices: [{ value: "drizzle" }, { value: "kysely" }] },
  { name: "node", message: "Node?", default: "24", choices: [{ value: "22" }, { value: "24" }] },
], layers: [{ source: "base" }] }), "ts/template.json", "ts");

const flags = (f: Partial<Flags> = {}): Flags => ({ options: {}, yes: false, force: false, dryRun: false, json: false, install: false, git: false, boot: false, ...f });

/** A prompter that answers from a script and records what it was asked. */
function scripted(answers: (string | boolean | symbol)[]) {
  const asked: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`unexpected question: ${message}`);
    const a = answers.shift()!;
    if (typeof a === "symbol") throw new CancelledError();
    return a;
  };
  const prompter: Prompter = {
    text: async (q) => String(next(q.message)),
    select: async (q) => String(next(q.message)),
    multiselect: async (q) => String(next(q.message)).split(",").filter(Boolean),
    confirm: async (q) => Boolean(next(q.message)),
  };
  return { prompter, asked };
}

const ctx = (over: Partial<ResolveContext> = {}): ResolveContext => ({
  manifests: [py, ts], cwd: "/work", fs: memDisk({ "/work/.keep": "" }).fs, interactive: false, prompter: scripted([]).prompter, ...over,
});

describe("resolveAnswers", () => {
  it("with --yes takes every default and derives db names", async () => {
    const a = await resolveAnswers(flags({ yes: true, install: undefined, git: undefined, boot: undefined }), ctx());
    expect(a).toMatchObject({ directory: "my-api", projectName: "my-api", stack: "py", options: { orm: "sqlalchemy", python: "3.13" }, dbName: "my_api", dbUser: "my_api_user", targetDir: "/work/my-api" });
    expect(a.steps).toEqual({ install: true, git: true, boot: false, bootTimeoutSeconds: 180 });
    expect(Object.isFrozen(a) && Object.isFrozen(a.options)).toBe(true);
  });

  it("flags win over prompts and defaults; only missing answers are asked", async () => {
    const { prompter, asked } = scripted(["3.12"]);
    const a = await resolveAnswers(flags({ directory: "svc/orders", stack: "py", options: { orm: "sqlmodel" } }), ctx({ interactive: true, prompter }));
    expect(asked).toEqual(["Python?"]);
    expect(a).toMatchObject({ projectName: "orders", targetDir: "/work/svc/orders", options: { orm: "sqlmodel", python: "3.12" } });
  });

  it("asks every question in order when interactive, including the steps", async () => {
    const { prompter, asked } = scripted(["api", "ts", "kysely", "22", true, false, false]);
    const a = await resolveAnswers(flags({ install: undefined, git: undefined, boot: undefined }), ctx({ interactive: true, prompter }));
    expect(asked).toEqual(["Project name", "Stack", "ORM?", "Node?", "Install dependencies?", "Initialise a git repository?", "Boot it with Docker Compose and wait for /health?"]);
    expect(a).toMatchObject({ stack: "ts", options: { orm: "kysely", node: "22" }, steps: { install: true, git: false, boot: false } });
  });

  describe("an option that takes several values, and the rule table", () => {
    const q = parseManifest(demoManifest({ name: "q", options: [
      { name: "queue", message: "Queue?", default: "none", choices: [{ value: "none" }, { value: "redis" }] },
      { name: "features", message: "Features?", multiple: true, default: ["ci"], choices: [{ value: "ci" }, { value: "worker" }] },
    ], layers: [{ source: "base" }], rules: [{ name: "worker-needs-redis", if: { features: "worker" }, requires: { queue: "redis" }, message: "the worker needs Redis" }] }), "q/template.json", "q");
    const only = (over: Partial<ResolveContext> = {}) => ctx({ manifests: [q], ...over });

    it("asks with a checklist starting on the defaults, and keeps the answer in manifest order", async () => {
      const seen: unknown[] = [];
      const { prompter, asked } = scripted(["redis", "worker,ci"]);
      const a = await resolveAnswers(flags({ directory: "api" }), only({ interactive: true, prompter: { ...prompter, multiselect: (question) => (seen.push(question.initialValues), prompter.multiselect(question)) } }));
      expect(asked).toEqual(["Queue?", "Features?"]);
      expect(seen).toEqual([["ci"]]);
      expect(a.options).toEqual({ queue: "redis", features: ["ci", "worker"] });
    });

    it("takes --features a,b (any order, once each) and --features none; --yes takes the default list", async () => {
      const with_ = async (features: string) => (await resolveAnswers(flags({ directory: "api", options: { queue: "redis", features } }), only())).options.features;
      expect(await with_("worker, ci,worker")).toEqual(["ci", "worker"]);
      expect(await with_("none")).toEqual([]);
      expect((await resolveAnswers(flags({ directory: "api", yes: true }), only())).options.features).toEqual(["ci"]);
    });

    it("refuses what a rule refuses, in one line naming the rule, what it requires and what was given", async () => {
      await expect(resolveAnswers(flags({ directory: "api", options: { features: "worker" }, yes: true }), only())).rejects.toThrowError(
        new UserError('rule "worker-needs-redis" of --stack q: the worker needs Redis (--features with worker requires --queue redis; got --queue none)'),
      );
      await expect(resolveAnswers(flags({ directory: "api" }), only())).rejects.toThrowError("give --queue <none|redis>, --features <ci,worker|none>, or --yes");
    });
  });

  it("lists the flags that would answer the missing questions when it cannot ask", async () => {
    await expect(resolveAnswers(flags(), ctx())).rejects.toThrowError(
      "cannot ask questions here (stdin is not a terminal): give <directory>, --stack <py|ts>, --orm <sqlalchemy|sqlmodel>, --python <3.12|3.13>, or --yes to take the defaults",
    );
  });

  it.each([
    [{ stack: "go" }, '--stack "go" is not a stack; choose one of: py, ts'],
    [{ stack: "py", options: { orm: "drizzle" } }, '--orm "drizzle" is not offered by --stack py (it belongs to --stack ts); choose one of: sqlalchemy, sqlmodel'],
    [{ stack: "py", options: { orm: "mongo" } }, '--orm "mongo" is not offered by --stack py; choose one of: sqlalchemy, sqlmodel'],
    [{ stack: "py", options: { node: "24" } }, "--node does not apply to --stack py (it belongs to ts; py takes --orm, --python)"],
    [{ directory: "My API" }, 'invalid project name "My API": it has capital letters (npm names are lowercase); try "my-api"'],
    [{ directory: "" }, 'directory is empty; give a project name such as "my-api"'],
    [{ dbName: "My-DB" }, '--db-name "My-DB" is not valid: use lowercase letters, digits and _, starting with a letter or _'],
    [{ dbUser: "postgres" }, '--db-user "postgres" is not valid: "postgres" is reserved by Postgres'],
  ])("refuses %j: %s", async (f, message) => {
    const err = await resolveAnswers(flags({ yes: true, ...f }), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(message);
  });

  it("refuses a non-empty directory without --force, asks when interactive, cancels on no", async () => {
    const disk = memDisk({ "/work/my-api/notes.txt": "mine" });
    await expect(resolveAnswers(flags({ yes: true }), ctx({ fs: disk.fs }))).rejects.toThrowError(/my-api is not empty \(1 entries\); pass --force/);
    const yes = await resolveAnswers(flags({ yes: true, force: true }), ctx({ fs: disk.fs }));
    expect(yes.force).toBe(true);
    const { prompter } = scripted([false]);
    await expect(resolveAnswers(flags({ directory: "my-api", stack: "py", options: { orm: "sqlalchemy", python: "3.13" } }), ctx({ fs: disk.fs, interactive: true, prompter }))).rejects.toThrowError(CancelledError);
  });

  it("names why it cannot ask, as the CLI found it", async () => {
    await expect(resolveAnswers(flags({ directory: "api" }), ctx({ noPrompts: "--json is set" }))).rejects.toThrowError(/^cannot ask questions here \(--json is set\): give --stack/);
  });

  it("asks about a non-empty directory right after its name, before the stack questions", async () => {
    const disk = memDisk({ "/work/my-api/notes.txt": "mine" });
    const { prompter, asked } = scripted(["my-api", true, "py", "sqlalchemy", "3.13", false, false, false]);
    const a = await resolveAnswers(flags({ install: undefined, git: undefined, boot: undefined }), ctx({ fs: disk.fs, interactive: true, prompter }));
    expect(asked.slice(0, 3)).toEqual(["Project name", expect.stringMatching(/^my-api is not empty\. Add the template's files/), "Stack"]);
    expect(a.force).toBe(true);
  });

  it("a dry run into a non-empty directory needs no --force (it writes nothing)", async () => {
    const disk = memDisk({ "/work/my-api/notes.txt": "mine" });
    const a = await resolveAnswers(flags({ yes: true, dryRun: true }), ctx({ fs: disk.fs }));
    expect(a).toMatchObject({ force: false, target: { kind: "non-empty" } });
  });

  it("derives the db user from the db name, as --help says (<db-name>_user)", async () => {
    const a = await resolveAnswers(flags({ yes: true, dbName: "orders" }), ctx());
    expect([a.dbName, a.dbUser]).toEqual(["orders", "orders_user"]);
  });

  it("a cancelled prompt stops resolution with CancelledError", async () => {
    const { prompter } = scripted([Symbol("cancel")]);
    await expect(resolveAnswers(flags(), ctx({ interactive: true, prompter }))).rejects.toThrowError(CancelledError);
  });

  it("'.' means the current directory", async () => {
    const a = await resolveAnswers(flags({ yes: true, directory: "." }), ctx({ cwd: "/work/orders-api", fs: memDisk({ "/work/orders-api": null }).fs }));
    expect(a).toMatchObject({ projectName: "orders-api", targetDir: "/work/orders-api", target: { kind: "empty" } });
  });
});

describe("package manager detection", () => {
  const withPm = parseManifest(demoManifest({ name: "ts", options: [
    { name: "pm", message: "PM?", default: "npm", detect: "package-manager", choices: [{ value: "npm" }, { value: "pnpm" }] },
  ], layers: [{ source: "base" }] }), "ts/template.json", "ts");
  const resolvePm = async (agent: string | undefined, given?: string) =>
    (await resolveAnswers(flags({ yes: true, options: { pm: given } }), ctx({ manifests: await applyDetection([withPm], { npm_config_user_agent: agent }) }))).options.pm;

  it.each([
    ["pnpm/10.34.9 npm/? node/v20.20.2 linux x64", "pnpm"],
    ["npm/11.19.1 node/v20.20.2 linux x64 workspaces/false", "npm"],
    ["yarn/1.22.22 npm/? node/v20.20.2 linux x64", "npm"], // not offered: the manifest default
    [undefined, "npm"],
  ])("user agent %s -> %s", async (agent, expected) => {
    expect(await resolvePm(agent)).toBe(expected);
  });

  it("a flag wins over the detected one", async () => {
    expect(await resolvePm("pnpm/10.0.0 node/v20", "npm")).toBe("npm");
  });
});
