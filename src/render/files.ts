import { TemplateError } from "../errors.js";
import type { Answers, Secrets } from "../options/types.js";
import { whenMatches } from "../templates/manifest.js";
import type { SourceFile, Template } from "../templates/registry.js";

// What a render is, whichever way its Handlebars files are turned into text (compiled from their
// source by render.ts, or precompiled by the templates pack, precompiled.ts). No Handlebars here.

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

/** How Handlebars files are compiled and run, the same on both paths. */
export const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;

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

/** Our helpers, documented in templates/README.md. */
export const HELPERS: Readonly<Record<string, (...args: never[]) => unknown>> = {
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

/** Turns one `.hbs` file of a layer into text, given the display name of its source. */
export type HbsRenderer = (file: SourceFile, sourceName: string) => string;

/**
 * The project's files for a set of answers: the layers that apply, in order (later ones win, an
 * exclude drops earlier files), `.hbs` files rendered by `renderHbs`, safe names renamed, modes
 * normalised, and the record of the generation added. Pure, given a pure `renderHbs`.
 */
export function layOutFiles(input: RenderInput, renderHbs: HbsRenderer): FileMap {
  const { template, answers } = input;
  const files = new Map<string, RenderedFile>();
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
        content = Buffer.from(renderHbs(source, sourceName), "utf8");
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

/** What strict mode finds at run time (a missing name), reported at its line and column. */
export function runtimeProblem(error: unknown, file: string): TemplateError {
  const e = error as Error & { lineNumber?: number; column?: number };
  const message = e.message.split("\n")[0]!.replace(/ - \d+:\d+$/, "");
  return new TemplateError({ file, line: e.lineNumber, col: e.column === undefined ? undefined : e.column + 1, message });
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
