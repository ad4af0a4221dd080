import Handlebars from "handlebars";
import { TemplateError } from "../errors.js";
import type { Answers, Secrets } from "../options/types.js";
import { whenMatches } from "../templates/manifest.js";
import type { Template } from "../templates/registry.js";

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
  const files = new Map<string, RenderedFile>();

  for (const { layer, files: sources } of template.layers) {
    if (!whenMatches(layer, answers.options)) continue;
    const layerName = layer.from.kind === "shared" ? `_shared/${layer.from.dir}` : `${template.manifest.name}/${layer.from.dir}`;
    for (const source of sources) {
      const sourceName = `templates/${layerName}/${source.path}`;
      let outPath = source.path;
      let content = source.content;
      if (outPath.endsWith(".hbs")) {
        outPath = outPath.slice(0, -4);
        content = Buffer.from(renderText(hbs, source.content.toString("utf8"), context, sourceName), "utf8");
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
    content: Buffer.from(`${JSON.stringify(body, null, 2)}\n`, "utf8"),
    mode: 0o644,
    source: "(generated)",
  };
}

function createHandlebars(partials: Readonly<Record<string, string>>): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper({
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
  });
  for (const [name, source] of Object.entries(partials)) hbs.registerPartial(name, source);
  return hbs;
}

function renderText(hbs: typeof Handlebars, source: string, context: object, file: string): string {
  try {
    return hbs.compile(source, { noEscape: true, strict: true })(context);
  } catch (error) {
    const message = (error as Error).message.split("\n")[0];
    throw new TemplateError(`${file}: ${message}`);
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
