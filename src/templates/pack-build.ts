import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import Handlebars from "handlebars";
import type { Answers } from "../options/types.js";
import { COMPILE_OPTIONS } from "../render/files.js";
import { templateChecker, templateContext, templateScope } from "../render/render.js";
import type { Manifest } from "./manifest.js";
import { MAGIC, relative, type PackedFile, type PackIndex } from "./pack.js";
import { layerFolder, loadTemplate, readManifests, readTree, type SourceFile } from "./registry.js";

/**
 * Builds the templates pack (see pack.ts) of the templates folder `root` and writes it to `file`.
 * Every `.hbs` file is checked as a scaffold would check it (names, helpers, partials, choices),
 * for each stack that uses it, and precompiled; the first problem fails the build.
 */
export async function writePack(root: string, file: string): Promise<void> {
  await writeFile(file, await buildPack(root));
}

export async function buildPack(root: string): Promise<Buffer> {
  const { manifests, broken } = await readManifests(root);
  if (broken[0]) throw broken[0];
  const folders: Record<string, { offset: number; files: PackedFile[] }> = {};
  const body: Buffer[] = [];
  let offset = 0;
  const addFolder = (rel: string, files: readonly SourceFile[], compiled: readonly (string | undefined)[]) => {
    if (folders[rel]) return;
    const packed = files.map((f, i) => {
      const bytes = compiled[i] === undefined ? f.content : Buffer.from(compiled[i]!, "utf8");
      body.push(bytes);
      return { path: f.path, mode: f.mode, size: bytes.length };
    });
    folders[rel] = { offset, files: packed };
    offset += packed.reduce((n, f) => n + f.size, 0);
  };

  const packedManifests: PackIndex["manifests"][number][] = [];
  for (const manifest of manifests) {
    const template = await loadTemplate(root, manifest);
    const secrets = { dbPassword: "", postgresPassword: "" };
    const check = templateChecker(template, templateScope(template, templateContext({ template, answers: exampleAnswers(manifest), secrets, generatorVersion: "" })));
    for (const { layer, dir, files } of template.layers) {
      const abs = layerFolder(root, manifest, layer);
      // Checked for every stack (a shared folder sees each stack's options), packed once.
      const compiled = files.map((f) => (f.path.endsWith(".hbs") ? precompile(check(f.content.toString("utf8"), `${dir}/${f.path}`)) : undefined));
      if (abs) addFolder(relative(root, abs), files, compiled);
    }
    for (const rel of ["_shared/partials", `${manifest.name}/partials`]) {
      const partials = (await readTree(path.join(root, rel), null)).filter((f) => f.path.endsWith(".hbs"));
      addFolder(rel, partials, partials.map((f) => precompile(f.content.toString("utf8"))));
    }
    const texts = manifest.install.flatMap((cmd) => [...cmd.run, ...cmd.explain.map((e) => e.say)]);
    packedManifests.push({
      name: manifest.name,
      text: await readFile(path.join(root, manifest.name, "template.json"), "utf8"),
      texts: Object.fromEntries(texts.map((t) => [t, precompile(t)])),
    });
  }
  const index = Buffer.from(JSON.stringify({ manifests: packedManifests, folders } satisfies PackIndex), "utf8");
  return Buffer.concat([Buffer.from(`${MAGIC}${index.length}\n`, "utf8"), index, ...body]);
}

function precompile(input: string | hbs.AST.Program): string {
  return Handlebars.precompile(input, COMPILE_OPTIONS) as unknown as string;
}

/** Answers with every option at its default: render() builds the same context shape for any answers. */
function exampleAnswers(manifest: Manifest): Answers {
  return {
    projectName: "example",
    pyPackage: "example",
    title: "Example",
    stack: manifest.name,
    options: Object.fromEntries(manifest.options.map((o) => [o.name, o.default])),
    dbName: "example",
    dbUser: "example_user",
  } as Partial<Answers> as Answers;
}
