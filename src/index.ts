import type { Writable } from "node:stream";
import { CancelledError, isKnownError } from "./errors.js";
import { createReporter, type Reporter } from "./cli/reporter.js";
import { defaultTemplatesRoot } from "./templates/registry.js";
import { realFs } from "./write/fs.js";
import { printJson, type CommandContext, type Io } from "./commands/context.js";
import { createCommand } from "./commands/create.js";

export type { Io } from "./commands/context.js";

type Command = (argv: readonly string[], ctx: CommandContext) => Promise<number>;

/** Subcommands by their first word; any other first word is create's directory. */
const SUBCOMMANDS = new Map<string, Command>([
  // Loaded on use: a scaffold never pays for the merge and git code of an update, or the template checks.
  ["update", async (argv, ctx) => (await import("./commands/update.js")).updateCommand(argv, ctx)],
  ["templates", async (argv, ctx) => (await import("./commands/templates.js")).templatesCommand(argv, ctx)],
]);

const defaultIo = (): Io => ({
  // On first use: making process.stdin (a stream over whatever fd 0 is) costs some 11M
  // instructions, and a run with CI set or every answer given never reads it.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  fs: realFs,
  templatesRoot: defaultTemplatesRoot(),
});

/**
 * The whole CLI: picks the command, runs it, and is the one place where errors become messages
 * and exit codes. Returns the exit code; never calls process.exit.
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
  const noPrompts = json ? "--json is set" : ciEnv ? "CI is set" : !io.stdin.isTTY ? "stdin is not a terminal" : "stdout is not a terminal";
  // In --json mode stdout carries only the result object; people read stderr.
  const human = json ? io.stderr : io.stdout;
  const reporter = await createReporter(human, io.stderr, interactive);
  const ctx: CommandContext = { io, signal: abort.signal, json, interactive, noPrompts, human, reporter };
  try {
    const sub = SUBCOMMANDS.get(argv[0] ?? "");
    return await (sub ? sub(argv.slice(1), ctx) : createCommand(argv, ctx));
  } catch (error) {
    return report(error, reporter, json ? io.stdout : undefined);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
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
