import { readFile, readdir, lstat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TemplateError, UserError } from "../errors.js";
import { parseJsonText } from "./json.js";
import { whenMatches, parseManifest, type Layer, type Manifest, type OptionValues } from "./manifest.js";
import type { Program } from "../render/program.js";

/** A file of a layer or a partial, read once from disk. */
export interface SourceFile {
  /** Path relative to the layer folder, with forward slashes. */
  readonly path: string;
  /** The bytes; empty for a `.hbs` file that comes precompiled (`compiled`). */
  readonly content: Buffer;
  readonly mode: number;
  /** A `.hbs` file from the templates pack: its Handlebars precompiled (a template spec, as JavaScript source). */
  readonly compiled?: string;
  /** A `.hbs` file from the templates pack, as a program for render/program.ts (instead of `compiled`). */
  readonly program?: Program;
}

/** A manifest with everything render() needs, so that rendering itself does no IO. */
export interface Template {
  readonly manifest: Manifest;
  /** Display path of the template folder, for error messages. */
  readonly dir: string;
  readonly layers: readonly LoadedLayer[];
  /** Partial name (relative path without .hbs) -> source. Template partials win over shared ones. */
  readonly partials: Readonly<Record<string, Partial>>;
  /** From the templates pack: every `.hbs` file and partial is precompiled, checked when the pack was built. */
  readonly precompiled?: boolean;
}

export interface LoadedLayer {
  readonly layer: Layer;
  /** Display path of the layer's folder (null for an exclude-only layer): error messages name `<dir>/<file>`. */
  readonly dir: string | null;
  readonly files: readonly SourceFile[];
}

export interface Partial {
  /** The Handlebars source; empty when it comes precompiled (`compiled`). */
  readonly source: string;
  readonly compiled?: string;
  /** From the templates pack, when render/program.ts runs it (templates that call it as a program). */
  readonly program?: Program;
  /** Display path of the partial's file. */
  readonly file: string;
}

/** The templates folder shipped with the package (`dist/../templates`). */
export function defaultTemplatesRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "templates");
}

/** Reads every `<root>/<stack>/template.json` (folders starting with `_` are not stacks); the first broken one is an error. */
export async function loadManifests(root: string): Promise<Manifest[]> {
  const { manifests, broken } = await readManifests(root);
  if (broken[0]) throw broken[0];
  if (manifests.length === 0) throw new TemplateError(`no template found in ${root}`);
  return manifests;
}

/** Every manifest under root, and an error for each one that is broken (`templates check` reports them all). */
export async function readManifests(root: string): Promise<{ manifests: Manifest[]; broken: TemplateError[] }> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new UserError(`templates folder not found: ${root}`);
  }
  const manifests: Manifest[] = [];
  const broken: TemplateError[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory() || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const file = path.join(root, entry.name, "template.json");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue; // a folder without a manifest is not a template (e.g. a work in progress)
    }
    try {
      manifests.push(manifestFromText(text, file, entry.name));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      broken.push(error);
    }
  }
  return { manifests: sortManifests(manifests), broken };
}

/** A `template.json`'s text parsed and checked; a problem is a TemplateError at its line. */
export function manifestFromText(text: string, file: string, folderName: string): Manifest {
  const parsed = parseJsonText(text);
  if ("problem" in parsed) throw new TemplateError({ file: displayPath(file), ...parsed.at, message: parsed.problem });
  return parseManifest(parsed.value, displayPath(file), folderName, text);
}

/** The order stacks are offered in: the manifests' `order`, then by name. */
export function sortManifests(manifests: Manifest[]): Manifest[] {
  return manifests.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/**
 * Loads the files of the template's layers and the partials it may use. Given the answers'
 * options, only the layers that apply are read (a Fastify project needs one of six lock files).
 */
export async function loadTemplate(root: string, manifest: Manifest, options?: OptionValues): Promise<Template> {
  const dir = path.join(root, manifest.name);
  const layers: LoadedLayer[] = [];
  for (const layer of manifest.layers) {
    if (options && !whenMatches(layer, options)) continue;
    const folder = layerFolder(root, manifest, layer);
    if (!folder) {
      layers.push({ layer, dir: null, files: [] });
      continue;
    }
    const files = await readTree(folder, `${displayPath(dir)}/template.json`);
    // `x` and `x.hbs` in one layer would both write `x`: which one wins must not be a guess.
    const names = new Set(files.map((f) => f.path));
    const twin = files.find((f) => f.path.endsWith(".hbs") && names.has(f.path.slice(0, -4)));
    if (twin) throw new TemplateError({ file: displayPath(path.join(folder, twin.path)), message: `both ${twin.path.slice(0, -4)} and ${twin.path} would write ${twin.path.slice(0, -4)}; keep one` });
    layers.push({ layer, dir: displayPath(folder), files });
  }
  const partials: Record<string, Partial> = {};
  for (const folder of [path.join(root, "_shared", "partials"), path.join(dir, "partials")]) {
    for (const file of await readTree(folder, null)) {
      if (file.path.endsWith(".hbs")) partials[file.path.slice(0, -4)] = { source: file.content.toString("utf8"), file: displayPath(path.join(folder, file.path)) };
    }
  }
  return { manifest, dir: displayPath(dir), layers, partials };
}

/** The folder a layer reads its files from, or null for an exclude-only layer. */
export function layerFolder(root: string, manifest: Manifest, layer: Layer): string | null {
  if (!layer.from) return null;
  return path.join(layer.from.kind === "template" ? path.join(root, manifest.name) : path.join(root, "_shared"), layer.from.dir);
}

/**
 * Reads a folder recursively. `requiredBy` names the manifest that references it: a missing
 * folder is then an error; without it (partials) a missing folder is simply empty.
 */
export async function readTree(folder: string, requiredBy: string | null): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(folder, rel);
    for (const entry of await readdir(abs, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(folder, relPath);
      if (entry.isSymbolicLink()) throw new TemplateError(`${displayPath(full)}: symbolic links are not allowed in templates`);
      if (entry.isDirectory()) {
        await walk(relPath);
      } else if (entry.isFile()) {
        const [content, stat] = await Promise.all([readFile(full), lstat(full)]);
        files.push({ path: relPath, content, mode: stat.mode & 0o777 });
      }
    }
  };
  try {
    await walk("");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      if (requiredBy) throw new TemplateError(`${requiredBy}: layer folder ${displayPath(folder)} does not exist`);
      return [];
    }
    throw error;
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A path as the user should see it: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") ? rel : p;
}
