import type { FileMap, RenderInput } from "./files.js";

/**
 * Renders a template, loading only the Handlebars it needs: the runtime for a precompiled one
 * (from the templates pack), the parser and compiler for one read from a folder.
 */
export async function render(input: RenderInput): Promise<FileMap> {
  if (input.template.precompiled) return (await import("./precompiled.js")).renderPrecompiled(input);
  return (await import("./render.js")).renderTemplate(input);
}
