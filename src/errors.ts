/**
 * The error types the CLI knows how to report. Everything below `src/index.ts` throws one of
 * these; the single handler in `run()` prints it and turns it into an exit code.
 */

/** Bad input from the user: a flag, a name, a target. Exit code 2, one line. */
export class UserError extends Error {
  override readonly name = "UserError";
  readonly exitCode = 2;
}

/** The user pressed Esc/Ctrl-C or the process got a signal. Exit code 130. */
export class CancelledError extends Error {
  override readonly name = "CancelledError";
  readonly exitCode = 130;
  constructor(message = "Cancelled") {
    super(message);
  }
}

/** Where a template problem is: the real file, and the line and column when known (1-based). */
export interface TemplateProblem {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  /** What is wrong and, when there is one, the fix. */
  readonly message: string;
}

/** `file:line:col: message`, the form editors and terminals make clickable. */
export function formatProblem(p: TemplateProblem): string {
  return `${p.file}${p.line ? `:${p.line}${p.col ? `:${p.col}` : ""}` : ""}: ${p.message}`;
}

/** A template on disk is broken (manifest, layer, Handlebars). A defect of the template, not of the input. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly exitCode = 1;
  /** Set when the problem has a place in a file (`templates check` reports it as data). */
  readonly problem?: TemplateProblem;
  constructor(message: string | TemplateProblem) {
    super(typeof message === "string" ? message : formatProblem(message));
    if (typeof message !== "string") this.problem = message;
  }
}

/** A post-generation step (install, git, boot) failed. The project is kept. */
export class StepError extends Error {
  override readonly name = "StepError";
  readonly exitCode = 1;
}

export type KnownError = UserError | CancelledError | TemplateError | StepError;

export function isKnownError(error: unknown): error is KnownError {
  return (
    error instanceof UserError ||
    error instanceof CancelledError ||
    error instanceof TemplateError ||
    error instanceof StepError
  );
}
