import type { Manifest } from "../templates/manifest.js";
import { COMPILE_OPTIONS } from "./files.js";

/**
 * A manifest's Handlebars text (an install command's argument, an explanation) rendered with
 * `context`: precompiled when the manifest comes from the templates pack, else compiled here.
 * Each way loads only the part of Handlebars it needs, and only when a text is rendered.
 */
export async function fillText(manifest: Manifest, text: string, context: object): Promise<string> {
  const spec = manifest.precompiled?.[text];
  if (spec !== undefined) return (await import("./precompiled.js")).runPrecompiled(spec, context);
  const { default: Handlebars } = await import("handlebars");
  return Handlebars.compile(text, COMPILE_OPTIONS)(context);
}
