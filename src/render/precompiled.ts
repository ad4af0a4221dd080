import Handlebars from "handlebars/runtime";
import type { Template } from "../templates/registry.js";
import { HELPERS, runtimeProblem, type HbsRenderer } from "./files.js";

/**
 * Renders the `.hbs` files of a template from the templates pack that came precompiled (those
 * render/program.ts does not run), whose Handlebars was checked and precompiled when the pack was
 * built: only Handlebars' runtime is loaded (no parser, no compiler), and no file is parsed here.
 * Same output as renderTemplate, byte for byte.
 */
export function precompiledRenderer(template: Template, context: object): HbsRenderer {
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS as Record<string, Handlebars.HelperDelegate>);
  for (const [name, partial] of Object.entries(template.partials)) hbs.registerPartial(name, hbs.template(specOf(partial.compiled, partial.file)));
  return (source, sourceName) => {
    const run = hbs.template(specOf(source.compiled, sourceName));
    try {
      return run(context);
    } catch (error) {
      throw runtimeProblem(error, sourceName);
    }
  };
}

/** Runs a precompiled manifest text (an install command's argument, an explanation). */
export function runPrecompiled(spec: string, context: object): string {
  return Handlebars.template(specOf(spec, "template.json"))(context);
}

/** A precompiled template spec (JavaScript source of an object literal, as Handlebars.precompile writes it) as the object. */
function specOf(spec: string | undefined, file: string): TemplateSpecification {
  if (spec === undefined) throw new Error(`internal: ${file} is not precompiled`);
  // The pack's own text, written by our build from Handlebars.precompile: what Handlebars.compile would eval itself.
  return new Function(`return ${spec};`)() as TemplateSpecification;
}
