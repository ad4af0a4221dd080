import { readFile, readdir, lstat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TemplateError, UserError } from "../errors.js";
import { whenMatches, parseManifest, type Layer, type Manifest } from "./manifest.js";

/** A file of a layer or a partial, read once from disk. */
export interface SourceFile {
  /** Path relative to the layer folder, with forward slashes. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** A manifest with everything render() needs, so that rendering itself does no IO. */
export interface Template {
  readonly manifest: Manifest;
  /** Display path of the template folder, for error messages. */
  readonly dir: string;
  readonly layers: readonly { readonly layer: Layer; readonly files: readonly SourceFile[] }[];
  /** Partial name (relative path without .hbs) -> source. Template partials win over shared ones. */
  readonly partials: Readonly<Record<string, string>>;
}

/** The templates folder shipped with the package (`dist/../templates`). */
export function defaultTemplatesRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "templates");
}

/** Reads every `<root>/<stack>/template.json` (folders starting with `_` are not stacks). */
export async function loadManifests(root: string): Promise<Manifest[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new UserError(`templates folder not found: ${root}`);
  }
  const manifests: Manifest[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const file = path.join(root, entry.name, "template.json");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue; // a folder without a manifest is not a template (e.g. a work in progress)
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new TemplateError(`${displayPath(file)}: not valid JSON (${(error as Error).message})`);
    }
    manifests.push(parseManifest(raw, displayPath(file), entry.name));
  }
  if (manifests.length === 0) throw new TemplateError(`no template found in ${root}`);
  return manifests.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/**
 * Loads the files of the template's layers and the partials it may use. Given the answers'
 * options, only the layers that apply are read (a Fastify project needs one of six lock files).
 */
export async function loadTemplate(root: string, manifest: Manifest, options?: Readonly<Record<string, string>>): Promise<Template> {
  const dir = path.join(root, manifest.name);
  const layers = [];
  for (const layer of manifest.layers) {
    if (options && !whenMatches(layer, options)) continue;
    const base = layer.from.kind === "template" ? dir : path.join(root, "_shared");
    const folder = path.join(base, layer.from.dir);
    layers.push({ layer, files: await readTree(folder, `${displayPath(dir)}/template.json`) });
  }
  const partials: Record<string, string> = {};
  for (const folder of [path.join(root, "_shared", "partials"), path.join(dir, "partials")]) {
    for (const file of await readTree(folder, null)) {
      if (file.path.endsWith(".hbs")) partials[file.path.slice(0, -4)] = file.content.toString("utf8");
    }
  }
  return { manifest, dir: displayPath(dir), layers, partials };
}

/**
 * Reads a folder recursively. `requiredBy` names the manifest that references it: a missing
 * folder is then an error; without it (partials) a missing folder is simply empty.
 */
async function readTree(folder: string, requiredBy: string | null): Promise<SourceFile[]> {
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

function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") ? rel : p;
}
