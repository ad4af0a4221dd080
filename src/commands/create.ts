import path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import type { Writable } from "node:stream";
import { CancelledError } from "../errors.js";
import { parseArgs } from "../cli/program.js";
import { clackPrompter } from "../cli/prompts.js";
import type { Reporter } from "../cli/reporter.js";
import { formatTree } from "../cli/tree.js";
import { formatNext, lookAround, planNext, type Chosen, type NextPlan } from "../cli/next.js";
import { applyDetection, isMissingRuntime } from "../options/detect.js";
import { notInstalledLine } from "../options/runtimes.js";
import { resolveAnswers } from "../options/resolve.js";
import type { Answers, Secrets } from "../options/types.js";
import { render } from "../render/index.js";
import type { FileMap } from "../render/files.js";
import { templatesAt, type Templates } from "../templates/pack.js";
import { flagValue, type Manifest } from "../templates/manifest.js";
import type { FsLike } from "../write/fs.js";
import { writeProject } from "../write/writer.js";
import type { StepHooks, StepReport } from "../steps/steps.js";
import { printJson, templatesFlag, type CommandContext, type Io } from "./context.js";
import { randomBytes } from "../random.js";

/** `create-svc-app [directory]`: parse -> resolve -> render -> write -> steps. Returns the exit code. */
export async function createCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { io, json, interactive, noPrompts, human, reporter, signal } = ctx;
  const templates = templatesAt(templatesFlag(argv, io.cwd) ?? io.templatesRoot);
  const manifests = await applyDetection(await templates.loadManifests(), io.env);
  const parsed = parseArgs(argv, manifests, pkg.version, (text) => io.stdout.write(text));
  if (parsed.exitEarly) return 0;
  const { flags } = parsed;

  if (interactive && !flags.yes) reporter.intro(`${pkg.name} ${pkg.version}`);
  const answers = await resolveAnswers(flags, {
    manifests,
    cwd: io.cwd,
    fs: io.fs,
    interactive,
    noPrompts,
    prompter: clackPrompter({ get input() { return io.stdin; }, output: human, signal }),
  });
  const manifest = manifests.find((m) => m.name === answers.stack)!;
  // Which database path the summary leads with depends on what answers here (a Postgres, docker
  // info). A run with no install or boot step looks while it renders and writes the files; after
  // those steps (minutes, and boot may start a database) the look comes at the end, as it must.
  const lookout = new AbortController();
  const looked = (answers.steps.boot || answers.steps.install) && !flags.dryRun ? undefined : lookAround(manifest, io.env, lookout.signal);
  try {
    return await generate({ ctx, manifest, answers, templates, dryRun: flags.dryRun, looked });
  } finally {
    lookout.abort(); // the run ended without needing the answer (an error, Ctrl-C): stop looking
  }
}

async function generate({ ctx, manifest, answers, templates, dryRun, looked }: { ctx: CommandContext; manifest: Manifest; answers: Answers; templates: Templates; dryRun: boolean; looked: Promise<Chosen> | undefined }): Promise<number> {
  const { io, json, human, reporter, signal } = ctx;
  const template = await templates.loadTemplate(manifest, answers.options);
  if (signal.aborted) throw new CancelledError();
  const [db, superuser] = await Promise.all([randomBytes(24), randomBytes(24)]);
  const secrets: Secrets = { dbPassword: db.toString("base64url"), postgresPassword: superuser.toString("base64url") };
  const files = await render({ template, answers, secrets, generatorVersion: pkg.version });
  const warnings = runtimeWarnings(manifest, answers);

  if (dryRun) {
    for (const w of warnings) reporter.warn(w);
    await printDryRun(io, { manifest, answers, files, json, human, reporter, warnings, looked });
    return 0;
  }

  const written = await writeProject(io.fs, {
    targetDir: answers.targetDir,
    target: answers.target,
    files,
    force: answers.force,
    signal,
  });
  const replaced = new Set(written.replaced);
  const kept = new Set(written.kept.map((k) => k.path));
  reporter.success(`Created ${answers.projectName} (${describeVariant(manifest.title, answers)}) in ${answers.targetDir}: ${written.written.length} files${replaced.size ? `, ${replaced.size} replaced` : ""}`);
  for (const k of written.kept) {
    reporter.info(k.appended.length === 0
      ? `Kept your ${k.path} as it was`
      : `Kept your ${k.path} as it was, appending the settings it lacked: ${k.appended.join(", ")}`);
  }
  for (const w of warnings) reporter.warn(w);

  // The step runner (and git's, execa's code) is loaded only when a step was asked for.
  const asked = answers.steps.install || answers.steps.git || answers.steps.boot;
  const steps: StepReport[] = asked ? await (await import("../steps/steps.js")).runSteps({ answers, manifest, env: io.env, signal }, stepHooks(reporter)) : [];
  // The project as generated is the base of a later `create-svc-app update` (kept under a private git ref).
  const gitStep = steps.find((s) => s.name === "git");
  if (gitStep?.status === "ok" || gitStep?.status === "skipped") {
    const { keepFirstBase } = await import("../update/base.js");
    await keepFirstBase(answers.targetDir, files, answers, pkg.version).catch((error: Error) =>
      reporter.warn(`the base for a later update was not recorded (${error.message.split("\n")[0]}); update will need --base-templates`));
  }
  const installed = steps.some((s) => s.name === "install" && s.status === "ok");
  const boot = steps.find((s) => s.name === "boot");
  const next = await planNext(manifest, answers, { installed, env: io.env, looked, ...(boot ? { boot: boot.status === "ok" ? "ok" : "failed" } : {}) });
  const interrupted = steps.find((s) => s.status === "interrupted");
  const failed = steps.filter((s) => s.status === "failed");
  const exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;

  if (json) {
    printJson(io.stdout, { ...result(answers, files, (p) => (kept.has(p) ? "kept" : replaced.has(p) ? "replaced" : "created"), next, false, warnings), ok: exitCode === 0, steps });
  }
  if (interrupted) reporter.warn(`Interrupted during ${interrupted.name}; the project is complete and kept in ${answers.targetDir}`);
  else if (failed.length > 0) reporter.warn(`${failed.map((s) => s.name).join(" and ")} failed; the project is complete and kept in ${answers.targetDir}`);
  if (!json) reporter.outro(formatNext(next));
  return exitCode;
}

/** --dry-run: the tree (or the JSON) of what would be written, marking files that exist. */
async function printDryRun(
  io: Io,
  { manifest, answers, files, json, human, reporter, warnings, looked }: { manifest: Manifest; answers: Answers; files: FileMap; json: boolean; human: Writable; reporter: Reporter; warnings: string[]; looked: Promise<Chosen> | undefined },
): Promise<void> {
  const existing = await existingFiles(io.fs, answers, files);
  const next = await planNext(manifest, answers, { installed: false, env: io.env, looked });
  if (json) {
    printJson(io.stdout, result(answers, files, (p) => (!existing.has(p) ? "would-create" : files.get(p)?.keep ? "would-keep" : "would-replace"), next, true, warnings));
    return;
  }
  const kept = [...existing].filter((p) => files.get(p)?.keep);
  human.write(`${formatTree(answers.directory, [...files.keys()], existing, new Set(kept))}\n`);
  const notes = [...(existing.size > kept.length ? [`${existing.size - kept.length} replaced`] : []), ...kept.map((p) => `${p} kept, missing settings appended`)];
  reporter.info(`dry run: ${files.size} files would be written to ${answers.targetDir}${notes.length ? ` (${notes.join("; ")})` : ""}; nothing was written`);
}

/** Each step as a spinner (TTY) or a line, ending with its outcome and, on failure, the output's tail. */
function stepHooks(reporter: Reporter): StepHooks {
  let task: ReturnType<Reporter["task"]> | undefined;
  return {
    start: (label) => {
      task = reporter.task(label);
    },
    end: (step) => {
      const line = `${step.name}: ${step.message} (${(step.durationMs / 1000).toFixed(1)}s)`;
      if (step.status === "ok" || step.status === "skipped") task?.done(line);
      else task?.fail(step.output ? `${line}\n${indent(step.output)}` : line);
    },
  };
}

function result(answers: Answers, files: FileMap, status: (p: string) => string, next: NextPlan, dryRun: boolean, warnings: string[]) {
  return {
    ok: true,
    dryRun,
    directory: answers.directory,
    targetDir: answers.targetDir,
    answers: {
      name: answers.projectName,
      stack: answers.stack,
      options: answers.options,
      dbName: answers.dbName,
      dbUser: answers.dbUser,
      force: answers.force,
    },
    files: [...files.values()].map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}`, status: status(f.path) })),
    steps: [] as unknown[],
    warnings,
    next,
  };
}

/** One line per runtime option whose chosen version is not installed here (the summary says so before anything runs). */
function runtimeWarnings(manifest: Manifest, answers: Answers): string[] {
  return manifest.options
    .filter((o) => isMissingRuntime(o, answers.options[o.name]))
    .map((o) => notInstalledLine(o.runtime!, o.name, String(answers.options[o.name]), o.choices.map((c) => c.value)));
}

function indent(text: string): string {
  return text.split("\n").map((l) => `    ${l}`).join("\n");
}

/** "FastAPI (Python), orm sqlalchemy, python 3.13" */
function describeVariant(title: string, answers: Answers): string {
  return [title, ...Object.entries(answers.options).map(([k, v]) => `${k} ${flagValue(v)}`)].join(", ");
}

async function existingFiles(fs: FsLike, answers: Answers, files: FileMap): Promise<Set<string>> {
  const existing = new Set<string>();
  if (answers.target.kind !== "non-empty") return existing;
  for (const p of files.keys()) {
    try {
      await fs.lstat(path.join(answers.targetDir, p));
      existing.add(p);
    } catch {
      // not there: it would be created
    }
  }
  return existing;
}
