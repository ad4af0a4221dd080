import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TemplateError } from "../errors.js";
import type { Program } from "../render/program.js";
import { whenMatches, type Manifest, type OptionValues } from "./manifest.js";
import { defaultTemplatesRoot, displayPath, layerFolder, loadManifests, loadTemplate, sortManifests, type LoadedLayer, type Partial, type SourceFile, type Template } from "./registry.js";

/**
 * The templates pack: the package's templates folder in one file, built with the CLI (`tsup`,
 * see src/templates/pack-build.ts), its Handlebars checked and precompiled. A scaffold then reads
 * one index and the few byte ranges its layers need, instead of walking folders file by file,
 * and renders with Handlebars' runtime only. `--templates <dir>` (authors) still reads a folder.
 *
 * Layout: MAGIC, the index's length in bytes and a newline, the index (JSON, PackIndex), then
 * the files' bytes, each folder's files one after the other (a `.hbs` file's bytes are its
 * program for render/program.ts, as JSON, or else its precompiled template spec).
 */
export const MAGIC = "create-svc-app templates pack 2\n";

/** The key that marks a regular expression in the pack's manifests. */
export const REGEXP = "$regexp";

export interface PackIndex {
  /**
   * Each stack: its folder name, its manifest as parseManifest made it from template.json (checked
   * at build: a scaffold does not check it again; regular expressions as `{ [REGEXP]: source,
   * flags }`), and its Handlebars texts as programs, or else precompiled.
   */
  readonly manifests: readonly { readonly name: string; readonly manifest: unknown; readonly texts: Readonly<Record<string, string>>; readonly programs: Readonly<Record<string, Program>> }[];
  /** Folders by their path under the templates root ("fastapi/base", "_shared/partials"). */
  readonly folders: Readonly<Record<string, { readonly offset: number; readonly files: readonly PackedFile[] }>>;
  /** The partials' programs (those the interpreter runs), by partials folder and name. */
  readonly partials: Readonly<Record<string, Readonly<Record<string, Program>>>>;
}

export interface PackedFile {
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  /** A `.hbs` file stored as its program (JSON), not as a precompiled spec. */
  readonly program?: true;
}

/** The pack beside the built CLI (dist/templates.pack). */
export function defaultPackFile(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "templates.pack");
}

/** How a command reads the templates at a root. */
export interface Templates {
  loadManifests(): Promise<Manifest[]>;
  loadTemplate(manifest: Manifest, options: OptionValues): Promise<Template>;
}

/**
 * The templates at `root`: from the pack when root is the package's own templates folder and the
 * pack was built beside the CLI, else read from the folder.
 */
export function templatesAt(root: string, packFile = root === defaultTemplatesRoot() ? defaultPackFile() : undefined): Templates {
  const pack = packFile ? openPack(packFile, root) : undefined;
  if (pack) return pack;
  return { loadManifests: () => loadManifests(root), loadTemplate: (manifest, options) => loadTemplate(root, manifest, options) };
}

/** Opens a pack for the templates folder `root` (names in messages point there); undefined when there is none. */
export function openPack(file: string, root: string): Templates | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    // The head and the index in one read (the index is some tens of KiB), more only if it is longer.
    const first = readBytes(fd, 0, 64 * 1024);
    const newline = first.indexOf(10, MAGIC.length);
    if (first.subarray(0, MAGIC.length).toString() !== MAGIC || newline < 0) throw new TemplateError(`${file}: not a templates pack of this version; rebuild with \`pnpm build\``);
    const indexLength = Number(first.subarray(MAGIC.length, newline).toString());
    const body = newline + 1 + indexLength;
    const indexBytes = body <= first.length ? first.subarray(newline + 1, body) : readBytes(fd, newline + 1, indexLength);
    const index = JSON.parse(indexBytes.toString("utf8")) as PackIndex;
    return packedTemplates(index, root, (ranges) => withFile(file, (again) => ranges.map(([offset, size]) => readBytes(again, body + offset, size))));
  } finally {
    closeSync(fd);
  }
}

function withFile<T>(file: string, use: (fd: number) => T): T {
  const fd = openSync(file, "r");
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads exactly `size` bytes at `position`. */
function readBytes(fd: number, position: number, size: number): Buffer {
  const buffer = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buffer, done, size - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** The Templates of a pack; `read` reads byte ranges of its body, all in one opening of the file. */
function packedTemplates(index: PackIndex, root: string, read: (ranges: [number, number][]) => Buffer[]): Templates {
  /** The files of the folders (paths under root), read in one go; a missing one is empty. */
  const folders = (rels: readonly string[]): SourceFile[][] => {
    const entries = rels.map((rel) => index.folders[rel]);
    const bytes = read(entries.filter((e) => e !== undefined).map((e) => [e.offset, e.files.reduce((n, f) => n + f.size, 0)]));
    return entries.map((entry) => {
      if (!entry) return [];
      const data = bytes.shift()!;
      let at = 0;
      return entry.files.map((f) => {
        const content = data.subarray(at, (at += f.size));
        if (!f.path.endsWith(".hbs")) return { path: f.path, content, mode: f.mode };
        const text = content.toString("utf8");
        return f.program ? { path: f.path, content: Buffer.alloc(0), mode: f.mode, program: JSON.parse(text) as Program } : { path: f.path, content: Buffer.alloc(0), mode: f.mode, compiled: text };
      });
    });
  };
  const manifests = sortManifests(index.manifests.map((m) => Object.freeze({ ...(revive(m.manifest) as Manifest), precompiled: m.texts, programs: m.programs })));
  return {
    loadManifests: async () => {
      if (manifests.length === 0) throw new TemplateError(`no template found in ${root}`);
      return manifests;
    },
    loadTemplate: async (manifest, options) => {
      const dir = path.join(root, manifest.name);
      const applying = manifest.layers.filter((layer) => whenMatches(layer, options)).map((layer) => ({ layer, abs: layerFolder(root, manifest, layer) }));
      const partialDirs = ["_shared/partials", `${manifest.name}/partials`];
      const layerDirs = applying.flatMap(({ abs }) => (abs ? [relative(root, abs)] : []));
      const missing = layerDirs.find((rel) => !index.folders[rel]);
      if (missing) throw new TemplateError(`${displayPath(dir)}/template.json: layer folder ${displayPath(path.join(root, missing))} is not in the templates pack; rebuild it with \`pnpm build\``);
      const read = folders([...layerDirs, ...partialDirs]);
      const layers: LoadedLayer[] = applying.map(({ layer, abs }) => (abs ? { layer, dir: displayPath(abs), files: read.shift()! } : { layer, dir: null, files: [] }));
      const partials: Record<string, Partial> = {};
      for (const rel of partialDirs) {
        for (const file of read.shift()!) {
          if (!file.path.endsWith(".hbs")) continue;
          const name = file.path.slice(0, -4);
          const program = index.partials[rel]?.[name];
          partials[name] = { source: "", compiled: file.compiled!, ...(program ? { program } : {}), file: displayPath(path.join(root, rel, file.path)) };
        }
      }
      return { manifest, dir: displayPath(dir), layers, partials, precompiled: true };
    },
  };
}

/** A manifest from the pack's JSON: its regular expressions made again. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  if (typeof object[REGEXP] === "string") return new RegExp(object[REGEXP], object.flags as string);
  for (const key of Object.keys(object)) object[key] = revive(object[key]);
  return object;
}

/** A path under root with forward slashes, as the pack names folders. */
export function relative(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join("/");
}
