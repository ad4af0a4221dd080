import { HELPERS, layOutFiles, runtimeProblem, templateContext, type FileMap, type HbsRenderer, type RenderInput } from "./files.js";
import { runProgram, type Program } from "./program.js";

/**
 * Renders a template from the templates pack: each `.hbs` file that came as a program runs in
 * render/program.ts; the others (features the interpreter leaves to Handlebars) run their
 * precompiled spec on Handlebars' runtime, loaded only when there is such a file. Same output as
 * renderTemplate, byte for byte.
 */
export async function renderPacked(input: RenderInput): Promise<FileMap> {
  const { template } = input;
  const context = templateContext(input);
  const specs = template.layers.some((l) => l.files.some((f) => f.path.endsWith(".hbs") && !f.program));
  const precompiled: HbsRenderer | undefined = specs ? (await import("./precompiled.js")).precompiledRenderer(template, context) : undefined;
  const partials: Record<string, Program> = {};
  for (const [name, partial] of Object.entries(template.partials)) if (partial.program) partials[name] = partial.program;
  return layOutFiles(input, (source, sourceName) => {
    if (!source.program) return precompiled!(source, sourceName);
    try {
      return runProgram(source.program, context, partials, HELPERS);
    } catch (error) {
      throw runtimeProblem(error, sourceName);
    }
  });
}
