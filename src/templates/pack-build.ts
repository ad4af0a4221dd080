import { writeFile } from "node:fs/promises";
import path from "node:path";
import Handlebars from "handlebars";
import type { Answers } from "../options/types.js";
import { COMPILE_OPTIONS, HELPERS } from "../render/files.js";
import { toProgram, type Program } from "../render/program.js";
import { templateChecker, templateContext, templateScope } from "../render/render.js";
import type { Manifest } from "./manifest.js";
import { MAGIC, REGEXP, relative, type PackedFile, type PackIndex } from "./pack.js";
import { layerFolder, loadTemplate, readManifests, readTree, type SourceFile } from "./registry.js";

/**
 * Builds the templates pack (see pack.ts) of the templates folder `root` and writes it to `file`.
 * Every `.hbs` file is checked as a scaffold would check it (names, helpers, partials, choices),
 * for each stack that uses it, and stored as a program for render/program.ts, or precompiled
 * where the interpreter does not run it; the first problem fails the build.
 */
export async function writePack(root: string, file: string): Promise<void> {
  await writeFile(file, await buildPack(root));
}

export async function buildPack(root: string): Promise<Buffer> {
  const { manifests, broken } = await readManifests(root);
  if (broken[0]) throw broken[0];
  const folders: Record<string, { offset: number; files: PackedFile[] }> = {};
  const partialPrograms: Record<string, Record<string, Program>> = {};
  const body: Buffer[] = [];
  let offset = 0;
  /** A folder's files once: a `.hbs` file as its program (JSON) where the interpreter runs it, else its precompiled spec. */
  const addFolder = (rel: string, files: readonly SourceFile[], forms: readonly ({ program?: Program; spec: string } | undefined)[]) => {
    if (folders[rel]) return;
    const packed = files.map((f, i) => {
      const form = forms[i];
      const bytes = form === undefined ? f.content : Buffer.from(form.program ? JSON.stringify(form.program) : form.spec, "utf8");
      body.push(bytes);
      return { path: f.path, mode: f.mode, size: bytes.length, ...(form?.program ? { program: true as const } : {}) };
    });
    folders[rel] = { offset, files: packed };
    offset += packed.reduce((n, f) => n + f.size, 0);
  };
  const helpers = new Set(Object.keys(HELPERS));

  const packedManifests: PackIndex["manifests"][number][] = [];
  for (const manifest of manifests) {
    const template = await loadTemplate(root, manifest);
    // Partials first: a file's program may call only partials that have one (and a partial's
    // program calls none). Each keeps its precompiled spec too, for the files Handlebars runs.
    const programs = new Map<string, Program>();
    for (const rel of ["_shared/partials", `${manifest.name}/partials`]) {
      const partials = (await readTree(path.join(root, rel), null)).filter((f) => f.path.endsWith(".hbs"));
      const asts = partials.map((f) => Handlebars.parse(f.content.toString("utf8")));
      addFolder(rel, partials, asts.map((ast) => ({ spec: precompile(ast) })));
      partialPrograms[rel] ??= {};
      asts.forEach((ast, i) => {
        const name = partials[i]!.path.slice(0, -4);
        const program = toProgram(ast, helpers, new Set());
        if (program) partialPrograms[rel]![name] = program;
        // The template's own partial wins over a shared one of the same name, as in loadTemplate.
        if (program) programs.set(name, program);
        else programs.delete(name);
      });
    }
    const callable = new Set(programs.keys());
    const form = (ast: hbs.AST.Program) => {
      const program = toProgram(ast, helpers, callable);
      return program ? { program, spec: "" } : { spec: precompile(ast) };
    };
    const secrets = { dbPassword: "", postgresPassword: "" };
    const check = templateChecker(template, templateScope(template, templateContext({ template, answers: exampleAnswers(manifest), secrets, generatorVersion: "" })));
    for (const { layer, dir, files } of template.layers) {
      const abs = layerFolder(root, manifest, layer);
      // Checked for every stack (a shared folder sees each stack's options), packed once.
      const forms = files.map((f) => (f.path.endsWith(".hbs") ? form(check(f.content.toString("utf8"), `${dir}/${f.path}`)) : undefined));
      if (abs) addFolder(relative(root, abs), files, forms);
    }
    const texts = manifest.install.flatMap((cmd) => [...cmd.run, ...cmd.explain.map((e) => e.say)]);
    const textPrograms = Object.fromEntries(texts.flatMap((t) => {
      const program = toProgram(Handlebars.parse(t), helpers, new Set());
      return program ? [[t, program]] : [];
    }));
    packedManifests.push({
      name: manifest.name,
      manifest: JSON.parse(JSON.stringify(manifest, (_, value: unknown) => (value instanceof RegExp ? { [REGEXP]: value.source, flags: value.flags } : value))),
      texts: Object.fromEntries(texts.filter((t) => !textPrograms[t]).map((t) => [t, precompile(t)])),
      programs: textPrograms,
    });
  }
  const index = Buffer.from(JSON.stringify({ manifests: packedManifests, folders, partials: partialPrograms } satisfies PackIndex), "utf8");
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
