import type { Manifest } from "../templates/manifest.js";
import { COMPILE_OPTIONS, HELPERS } from "./files.js";
import { runProgram } from "./program.js";

/**
 * A manifest's Handlebars text (an install command's argument, an explanation) rendered with
 * `context`: from the templates pack, a program for render/program.ts or else precompiled; from
 * a folder, compiled here.
 * Each way loads only the part of Handlebars it needs, and only when a text is rendered.
 */
export async function fillText(manifest: Manifest, text: string, context: object): Promise<string> {
  const program = manifest.programs?.[text];
  if (program !== undefined) return runProgram(program, context, {}, HELPERS);
  const spec = manifest.precompiled?.[text];
  if (spec !== undefined) return (await import("./precompiled.js")).runPrecompiled(spec, context);
  const { default: Handlebars } = await import("handlebars");
  return Handlebars.compile(text, COMPILE_OPTIONS)(context);
}
