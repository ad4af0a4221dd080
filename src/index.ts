import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import pkg from "../package.json" with { type: "json" };
import { CancelledError, isKnownError, UserError } from "./errors.js";
import { parseArgs } from "./cli/program.js";
import { clackPrompter } from "./cli/prompts.js";
import { createReporter, type Reporter } from "./cli/reporter.js";
import { formatTree } from "./cli/tree.js";
import { formatNext, planNext, type NextPlan } from "./cli/next.js";
import { applyDetection, isMissingRuntime } from "./options/detect.js";
import { notInstalledLine } from "./options/runtimes.js";
import { resolveAnswers } from "./options/resolve.js";
import type { Answers, Secrets } from "./options/types.js";
import { renderTemplate, type FileMap } from "./render/render.js";
import { defaultTemplatesRoot, loadManifests, loadTemplate } from "./templates/registry.js";
import type { Manifest } from "./templates/manifest.js";
import { realFs, type FsLike } from "./write/fs.js";
import { writeProject } from "./write/writer.js";
import { runSteps, type StepHooks } from "./steps/steps.js";

/** Everything the CLI touches, injectable for tests. */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly fs: FsLike;
  readonly templatesRoot: string;
}

const defaultIo = (): Io => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  fs: realFs,
  templatesRoot: defaultTemplatesRoot(),
});

/**
 * The whole CLI: parse -> resolve -> render -> write -> steps, and the one place where errors
 * become messages and exit codes. Returns the exit code; never calls process.exit.
 */
export async function run(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const json = argv.includes("--json");
  const ciEnv = io.env.CI !== undefined && !["", "0", "false"].includes(io.env.CI.toLowerCase());
  const interactive = !json && !ciEnv && Boolean(io.stdin.isTTY && io.stdout.isTTY);
  const noPrompts = json ? "--json is set" : ciEnv ? "CI is set" : !io.stdin.isTTY ? "stdin is not a terminal" : "stdout is not a terminal";
  // In --json mode stdout carries only the result object; people read stderr.
  const human = json ? io.stderr : io.stdout;
  const reporter = createReporter(human, io.stderr, interactive);
  try {
    const templatesRoot = templatesFlag(argv, io.cwd) ?? io.templatesRoot;
    const manifests = await applyDetection(await loadManifests(templatesRoot), io.env);
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
      prompter: clackPrompter({ input: io.stdin, output: human, signal: abort.signal }),
    });
    const manifest = manifests.find((m) => m.name === answers.stack)!;
    const template = await loadTemplate(templatesRoot, manifest, answers.options);
    if (abort.signal.aborted) throw new CancelledError();
    const secrets: Secrets = { dbPassword: randomBytes(24).toString("base64url"), postgresPassword: randomBytes(24).toString("base64url") };
    const files = renderTemplate({ template, answers, secrets, generatorVersion: pkg.version });
    const warnings = runtimeWarnings(manifest, answers);

    if (flags.dryRun) {
      for (const w of warnings) reporter.warn(w);
      await printDryRun(io, { manifest, answers, files, json, human, reporter, warnings });
      return 0;
    }

    const written = await writeProject(io.fs, {
      targetDir: answers.targetDir,
      target: answers.target,
      files,
      force: answers.force,
      signal: abort.signal,
    });
    const replaced = new Set(written.replaced);
    reporter.success(`Created ${answers.projectName} (${describeVariant(manifest.title, answers)}) in ${answers.targetDir}: ${written.written.length} files${replaced.size ? `, ${replaced.size} replaced` : ""}`);
    for (const w of warnings) reporter.warn(w);

    const steps = await runSteps({ answers, manifest, env: io.env, signal: abort.signal }, stepHooks(reporter));
    const installed = steps.some((s) => s.name === "install" && s.status === "ok");
    const boot = steps.find((s) => s.name === "boot");
    const next = await planNext(manifest, answers, { installed, env: io.env, ...(boot ? { boot: boot.status === "ok" ? "ok" : "failed" } : {}) });
    const interrupted = steps.find((s) => s.status === "interrupted");
    const failed = steps.filter((s) => s.status === "failed");
    const exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;

    if (json) {
      printJson(io.stdout, { ...result(answers, files, (p) => (replaced.has(p) ? "replaced" : "created"), next, false, warnings), ok: exitCode === 0, steps });
    }
    if (interrupted) reporter.warn(`Interrupted during ${interrupted.name}; the project is complete and kept in ${answers.targetDir}`);
    else if (failed.length > 0) reporter.warn(`${failed.map((s) => s.name).join(" and ")} failed; the project is complete and kept in ${answers.targetDir}`);
    if (!json) reporter.outro(formatNext(next));
    return exitCode;
  } catch (error) {
    return report(error, reporter, json ? io.stdout : undefined);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** --dry-run: the tree (or the JSON) of what would be written, marking files that exist. */
async function printDryRun(
  io: Io,
  { manifest, answers, files, json, human, reporter, warnings }: { manifest: Manifest; answers: Answers; files: FileMap; json: boolean; human: Writable; reporter: Reporter; warnings: string[] },
): Promise<void> {
  const existing = await existingFiles(io.fs, answers, files);
  const next = await planNext(manifest, answers, { installed: false, env: io.env });
  if (json) {
    printJson(io.stdout, result(answers, files, (p) => (existing.has(p) ? "would-replace" : "would-create"), next, true, warnings));
    return;
  }
  human.write(`${formatTree(answers.directory, [...files.keys()], existing)}\n`);
  reporter.info(`dry run: ${files.size} files would be written to ${answers.targetDir}${existing.size ? ` (${existing.size} replaced)` : ""}; nothing was written`);
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

/**
 * `--templates <dir>` is read before the parser is built, because the templates found there
 * define the other flags (--orm, --python, ...). The parser declares it too, for --help.
 */
function templatesFlag(argv: readonly string[], cwd: string): string | undefined {
  const i = argv.findIndex((a) => a === "--templates" || a.startsWith("--templates="));
  if (i < 0) return undefined;
  const value = argv[i]!.includes("=") ? argv[i]!.slice(argv[i]!.indexOf("=") + 1) : argv[i + 1];
  if (!value || value.startsWith("-")) throw new UserError("option '--templates <dir>' argument missing (see --help)");
  return path.resolve(cwd, value);
}

function report(error: unknown, reporter: Reporter, jsonOut: Writable | undefined): number {
  const known = isKnownError(error);
  const exitCode = known ? error.exitCode : 1;
  // System errors (ENOSPC, EIO, ...) explain themselves in one line; anything else is a bug: show the stack.
  const systemError = typeof (error as NodeJS.ErrnoException)?.code === "string";
  const message = known || systemError ? (error as Error).message : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
  if (error instanceof CancelledError) reporter.warn(message);
  else reporter.error(message);
  if (jsonOut) printJson(jsonOut, { ok: false, error: { kind: known ? error.name : "Error", message: message.split("\n")[0] }, exitCode });
  return exitCode;
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

function printJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One line per runtime option whose chosen version is not installed here (the summary says so before anything runs). */
function runtimeWarnings(manifest: Manifest, answers: Answers): string[] {
  return manifest.options
    .filter((o) => isMissingRuntime(o, answers.options[o.name]!))
    .map((o) => notInstalledLine(o.runtime!, o.name, answers.options[o.name]!, o.choices.map((c) => c.value)));
}

function indent(text: string): string {
  return text.split("\n").map((l) => `    ${l}`).join("\n");
}

/** "FastAPI (Python), orm sqlalchemy, python 3.13" */
function describeVariant(title: string, answers: Answers): string {
  return [title, ...Object.entries(answers.options).map(([k, v]) => `${k} ${v}`)].join(", ");
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
