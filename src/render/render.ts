import Handlebars from "handlebars";
import { TemplateError, type TemplateProblem } from "../errors.js";
import type { Answers, Secrets } from "../options/types.js";
import { whenMatches } from "../templates/manifest.js";
import type { Template } from "../templates/registry.js";
import { BUILTIN_HELPERS, lintTemplate, parseTemplate, partialScope, type PartialCalls, type Scope } from "./lint.js";

/** One file of the generated project. */
export interface RenderedFile {
  /** Project-relative path with forward slashes. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  /** Which template file produced it (for error messages and --dry-run). */
  readonly source: string;
  /** It holds the user's state (the manifest's `keep`): an existing copy is kept, see write/keep.ts. */
  readonly keep?: boolean;
}

/** path -> file, sorted by path. */
export type FileMap = ReadonlyMap<string, RenderedFile>;

/** Names stored safely in templates (npm drops or mangles the real ones), renamed on write. */
export const SAFE_NAMES: Readonly<Record<string, string>> = {
  _gitignore: ".gitignore",
  _dockerignore: ".dockerignore",
  _env: ".env",
  "_env.example": ".env.example",
  "_python-version": ".python-version",
  _nvmrc: ".nvmrc",
  _npmrc: ".npmrc",
};

/** Files holding secrets are readable by their owner only. */
const PRIVATE_FILES = new Set([".env"]);

export const GENERATOR_NAME = "create-svc-app";

export interface RenderInput {
  readonly template: Template;
  readonly answers: Answers;
  readonly secrets: Secrets;
  readonly generatorVersion: string;
}

/** The variables a template sees; documented in templates/README.md. */
export function templateContext({ answers, secrets, generatorVersion }: RenderInput) {
  return {
    project: { name: answers.projectName, pyPackage: answers.pyPackage, title: answers.title },
    stack: answers.stack,
    options: { ...answers.options },
    db: { name: answers.dbName, user: answers.dbUser, password: secrets.dbPassword, superuserPassword: secrets.postgresPassword },
    generator: { name: GENERATOR_NAME, version: generatorVersion },
  };
}

/**
 * Renders a template for a set of answers. Pure: no IO, no clock, no randomness (the secrets
 * come in resolved), so the same input gives byte-identical output.
 */
export function renderTemplate(input: RenderInput): FileMap {
  const { template, answers } = input;
  const hbs = createHandlebars(template.partials);
  const context = templateContext(input);
  const scope = templateScope(template, context);
  const checkedPartials = new Set<string>();
  const files = new Map<string, RenderedFile>();
  /** Parses and checks a template file (and, once, each partial it uses), throwing the first problem. */
  const compile = (source: string, file: string) => {
    const { ast, problems, partials } = checkTemplate(source, file, scope);
    for (const [name, keys] of partials) {
      const partial = template.partials[name];
      if (!partial || checkedPartials.has(name)) continue;
      checkedPartials.add(name);
      problems.push(...checkTemplate(partial.source, partial.file, partialScope(scope, keys)).problems);
    }
    if (problems[0]) throw new TemplateError(problems[0]);
    return ast!;
  };

  for (const { layer, dir, files: sources } of template.layers) {
    if (!whenMatches(layer, answers.options)) continue;
    for (const excluded of layer.exclude) {
      for (const p of [...files.keys()]) if (p === excluded || (excluded.endsWith("/") && p.startsWith(excluded))) files.delete(p);
    }
    for (const source of sources) {
      const sourceName = `${dir}/${source.path}`;
      let outPath = source.path;
      let content = source.content;
      if (outPath.endsWith(".hbs")) {
        outPath = outPath.slice(0, -4);
        content = Buffer.from(renderText(hbs, compile(source.content.toString("utf8"), sourceName), context, sourceName), "utf8");
      }
      outPath = joinPath(layer.target, renameSafe(outPath));
      assertInside(outPath, sourceName);
      const mode = PRIVATE_FILES.has(baseName(outPath)) ? 0o600 : normaliseMode(source.mode);
      files.set(outPath, { path: outPath, content, mode, source: sourceName, ...(template.manifest.keep.includes(outPath) ? { keep: true } : {}) });
    }
  }

  const record = recordOfGeneration(input);
  files.set(record.path, record);
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `.svc-app.json`: how the project was made (no secrets), like copier's answers file. */
function recordOfGeneration({ template, answers, generatorVersion }: RenderInput): RenderedFile {
  const body = {
    generator: { name: GENERATOR_NAME, version: generatorVersion },
    template: template.manifest.name,
    answers: {
      name: answers.projectName,
      stack: answers.stack,
      ...answers.options,
      "db-name": answers.dbName,
      "db-user": answers.dbUser,
    },
  };
  return {
    path: ".svc-app.json",
    content: Buffer.from(`${formatJson(body)}\n`, "utf8"),
    mode: 0o644,
    source: "(generated)",
  };
}

/**
 * JSON as the formatters a project runs write it (Biome's `check` fails on anything else): two
 * spaces, and a list of strings on one line when the line fits in 80 columns (`"features": ["ci"]`).
 */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^( *)("(?:[^"\\]|\\.)*": )\[\n((?: *"(?:[^"\\]|\\.)*",?\n)+) *\](,?)$/gm, (whole, indent: string, key: string, items: string, comma: string) => {
    const line = `${indent}${key}[${items.trim().split(/,\n */).join(", ")}]${comma}`;
    return line.length <= 80 ? line : whole;
  });
}

/** Our helpers, documented in templates/README.md. */
const HELPERS: Readonly<Record<string, Handlebars.HelperDelegate>> = {
    eq: (a: unknown, b: unknown) => a === b,
    ne: (a: unknown, b: unknown) => a !== b,
    and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
    or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
    not: (a: unknown) => !a,
    includes: (list: unknown, value: unknown) => Array.isArray(list) && list.includes(value),
    replace: (s: unknown, from: unknown, to: unknown) => String(s).split(String(from)).join(String(to)),
    json: (value: unknown) => JSON.stringify(value),
    upper: (s: unknown) => String(s).toUpperCase(),
    lower: (s: unknown) => String(s).toLowerCase(),
};

/** What a file of this template may name, given the context render() builds. */
export function templateScope(template: Template, context: object): Scope {
  return {
    context,
    stack: template.manifest.name,
    options: template.manifest.options,
    helpers: new Set([...BUILTIN_HELPERS, ...Object.keys(HELPERS)]),
    partials: new Set(Object.keys(template.partials)),
  };
}

/** Every problem of one template file: a syntax error, or the unknown names, helpers, partials and choices in it. */
export function checkTemplate(source: string, file: string, scope: Scope): { ast?: hbs.AST.Program; problems: TemplateProblem[]; partials: PartialCalls } {
  const parsed = parseTemplate(source, file);
  if ("problem" in parsed) return { problems: [parsed.problem], partials: new Map() };
  return { ast: parsed.ast, ...lintTemplate(parsed.ast, file, scope) };
}

function createHandlebars(partials: Template["partials"]): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS);
  for (const [name, partial] of Object.entries(partials)) hbs.registerPartial(name, partial.source);
  return hbs;
}

/** Runs a checked template; what strict mode still finds at run time is reported at its line and column. */
function renderText(hbs: typeof Handlebars, ast: hbs.AST.Program, context: object, file: string): string {
  try {
    return hbs.compile(ast, { noEscape: true, strict: true })(context);
  } catch (error) {
    const e = error as Error & { lineNumber?: number; column?: number };
    const message = e.message.split("\n")[0]!.replace(/ - \d+:\d+$/, "");
    throw new TemplateError({ file, line: e.lineNumber, col: e.column === undefined ? undefined : e.column + 1, message });
  }
}

function renameSafe(p: string): string {
  const slash = p.lastIndexOf("/");
  const name = p.slice(slash + 1);
  return SAFE_NAMES[name] ? `${p.slice(0, slash + 1)}${SAFE_NAMES[name]}` : p;
}

function joinPath(dir: string, file: string): string {
  return dir ? `${dir}/${file}` : file;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** A rendered path must stay inside the project: no absolute paths, no `..`, no empty segments. */
export function assertInside(p: string, source: string): void {
  if (p.startsWith("/") || p.includes("\\") || /^[a-zA-Z]:/.test(p) || p.split("/").some((s) => s === ".." || s === "." || s === "")) {
    throw new TemplateError(`${source}: renders to "${p}", which is outside the project`);
  }
}

/** Keep the executable bits of the template file; everything is readable, writable by the owner. */
function normaliseMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}
