import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import pkg from "../package.json" with { type: "json" };
import { CancelledError, isKnownError, UserError } from "./errors.js";
import { parseArgs } from "./cli/program.js";
import { clackPrompter } from "./cli/prompts.js";
import { createReporter, type Reporter } from "./cli/reporter.js";
import { formatTree } from "./cli/tree.js";
import { resolveAnswers } from "./options/resolve.js";
import type { Answers, Secrets } from "./options/types.js";
import { renderTemplate, type FileMap } from "./render/render.js";
import { defaultTemplatesRoot, loadManifests, loadTemplate } from "./templates/registry.js";
import type { Manifest } from "./templates/manifest.js";
import { realFs, type FsLike } from "./write/fs.js";
import { writeProject } from "./write/writer.js";
import { installCommands, runSteps, type StepHooks } from "./steps/steps.js";
import { quote } from "./steps/runner.js";

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
  // SIGHUP too (the terminal closed): a step's programs run in their own process group, so
  // the terminal's hang-up reaches only us, and we stop them.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, onSignal);
  const json = argv.includes("--json");
  const ciEnv = io.env.CI !== undefined && !["", "0", "false"].includes(io.env.CI.toLowerCase());
  const interactive = !json && !ciEnv && Boolean(io.stdin.isTTY && io.stdout.isTTY);
  // In --json mode stdout carries only the result object; people read stderr.
  const human = json ? io.stderr : io.stdout;
  const reporter = createReporter(human, io.stderr, interactive);
  try {
    const templatesRoot = templatesFlag(argv, io.cwd) ?? io.templatesRoot;
    const manifests = await loadManifests(templatesRoot);
    const parsed = parseArgs(argv, manifests, pkg.version, (text) => io.stdout.write(text));
    if (parsed.exitEarly) return 0;
    const { flags } = parsed;

    if (interactive && !flags.yes) reporter.intro(`${pkg.name} ${pkg.version}`);
    const answers = await resolveAnswers(flags, {
      manifests,
      cwd: io.cwd,
      fs: io.fs,
      interactive,
      env: io.env,
      prompter: clackPrompter({ input: io.stdin, output: human, signal: abort.signal }),
    });
    const manifest = manifests.find((m) => m.name === answers.stack)!;
    const template = await loadTemplate(templatesRoot, manifest, answers.options);
    if (abort.signal.aborted) throw new CancelledError();
    const secrets: Secrets = { dbPassword: randomBytes(24).toString("base64url"), postgresPassword: randomBytes(24).toString("base64url") };
    const files = renderTemplate({ template, answers, secrets, generatorVersion: pkg.version });

    if (flags.dryRun) {
      await printDryRun(io, { manifest, answers, files, json, human, reporter });
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
    const kept = new Set(written.kept.map((k) => k.path));
    reporter.success(`Created ${answers.projectName} (${describeVariant(manifest.title, answers)}) in ${answers.targetDir}: ${written.written.length} files${replaced.size ? `, ${replaced.size} replaced` : ""}`);
    for (const k of written.kept) {
      reporter.info(k.appended.length === 0
        ? `Kept your ${k.path} as it was`
        : `Kept your ${k.path} as it was, appending the settings it lacked: ${k.appended.join(", ")}`);
    }

    const steps = await runSteps({ answers, manifest, env: io.env, signal: abort.signal }, stepHooks(reporter));
    const installed = steps.some((s) => s.name === "install" && s.status === "ok");
    const next = nextCommands(manifest, answers, installed);
    const interrupted = steps.find((s) => s.status === "interrupted");
    const failed = steps.filter((s) => s.status === "failed");
    const exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;

    if (json) {
      printJson(io.stdout, { ...result(answers, files, (p) => (kept.has(p) ? "kept" : replaced.has(p) ? "replaced" : "created"), next, false), ok: exitCode === 0, steps });
    }
    if (interrupted) reporter.warn(`Interrupted during ${interrupted.name}; the project is complete and kept in ${answers.targetDir}`);
    else if (failed.length > 0) reporter.warn(`${failed.map((s) => s.name).join(" and ")} failed; the project is complete and kept in ${answers.targetDir}`);
    if (!json) reporter.outro(`Next:\n${next.map((c) => `  ${c}`).join("\n")}`);
    return exitCode;
  } catch (error) {
    return report(error, reporter, json ? io.stdout : undefined);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** --dry-run: the tree (or the JSON) of what would be written, marking files that exist. */
async function printDryRun(
  io: Io,
  { manifest, answers, files, json, human, reporter }: { manifest: Manifest; answers: Answers; files: FileMap; json: boolean; human: Writable; reporter: Reporter },
): Promise<void> {
  const existing = await existingFiles(io.fs, answers, files);
  const next = nextCommands(manifest, answers, false);
  if (json) {
    printJson(io.stdout, result(answers, files, (p) => (!existing.has(p) ? "would-create" : files.get(p)?.keep ? "would-keep" : "would-replace"), next, true));
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

function result(answers: Answers, files: FileMap, status: (p: string) => string, next: string[], dryRun: boolean) {
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
    next,
  };
}

function printJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** What to run next: cd into the project, install if that did not happen, then the manifest's `next`. */
function nextCommands(manifest: Manifest, answers: Answers, installed: boolean): string[] {
  return [
    ...(answers.directory === "." ? [] : [`cd ${quote(answers.directory)}`]),
    ...(installed ? [] : installCommands(manifest, answers).map((argv) => argv.map(quote).join(" "))),
    ...manifest.next,
  ];
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
