import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { UserError } from "../errors.js";
import type { Reporter } from "../cli/reporter.js";
import type { FsLike } from "../write/fs.js";

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

/** What `run()` sets up once and hands to the command it dispatches to. */
export interface CommandContext {
  readonly io: Io;
  /** Aborted on SIGINT, SIGTERM or SIGHUP. */
  readonly signal: AbortSignal;
  /** --json: stdout carries only the result object. */
  readonly json: boolean;
  /** A person can answer prompts (a TTY, not CI, not --json). */
  readonly interactive: boolean;
  /** Why nobody can be asked, when that is so: "--json is set", "CI is set", "stdin is not a terminal". */
  readonly noPrompts: string;
  /** Where people read: stdout, or stderr in --json mode. */
  readonly human: Writable;
  readonly reporter: Reporter;
}

/**
 * `--templates <dir>` is read before the parser is built, because the templates found there
 * define the other flags (--orm, --python, ...). The parser declares it too, for --help.
 */
export function templatesFlag(argv: readonly string[], cwd: string): string | undefined {
  const i = argv.findIndex((a) => a === "--templates" || a.startsWith("--templates="));
  if (i < 0) return undefined;
  const value = argv[i]!.includes("=") ? argv[i]!.slice(argv[i]!.indexOf("=") + 1) : argv[i + 1];
  if (!value || value.startsWith("-")) throw new UserError("option '--templates <dir>' argument missing (see --help)");
  return path.resolve(cwd, value);
}

export function printJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
