import type { FileMap, RenderInput } from "./files.js";

/**
 * Renders a template, loading only the Handlebars it needs: none, or the runtime, for one from the
 * templates pack (see packed.ts), the parser and compiler for one read from a folder.
 */
export async function render(input: RenderInput): Promise<FileMap> {
  if (input.template.precompiled) return (await import("./packed.js")).renderPacked(input);
  return (await import("./render.js")).renderTemplate(input);
}
