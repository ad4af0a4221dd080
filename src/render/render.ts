import Handlebars from "handlebars";
import { TemplateError, type TemplateProblem } from "../errors.js";
import type { Template } from "../templates/registry.js";
import { COMPILE_OPTIONS, HELPERS, layOutFiles, runtimeProblem, templateContext, type FileMap, type RenderInput } from "./files.js";
import { BUILTIN_HELPERS, lintTemplate, parseTemplate, partialScope, type PartialCalls, type Scope } from "./lint.js";

export { assertInside, GENERATOR_NAME, SAFE_NAMES, templateContext, type FileMap, type RenderedFile, type RenderInput } from "./files.js";

/**
 * Renders a template read from a folder: each `.hbs` file is parsed, checked (names, helpers,
 * partials, choices) and compiled here. Pure: no IO, no clock, no randomness (the secrets come
 * in resolved), so the same input gives byte-identical output.
 */
export function renderTemplate(input: RenderInput): FileMap {
  const { template } = input;
  const context = templateContext(input);
  // What a file may name does not depend on the answers (the context has the same keys for
  // every combination), so each file is checked and compiled once for templates alike in their
  // options and partials: `templates check`, `templates:lock` and the tests render the same
  // files hundreds of times, each from a template loaded for its combination.
  const key = JSON.stringify([template.manifest.name, template.manifest.options, Object.entries(template.partials).map(([n, p]) => [n, p.file, p.source])]);
  let compiled = COMPILED.get(key);
  if (!compiled) {
    compiled = { hbs: createHandlebars(template.partials), check: templateChecker(template, templateScope(template, context)), files: new Map() };
    COMPILED.set(key, compiled);
  }
  const { hbs, check, files } = compiled;
  return layOutFiles(input, (source, sourceName) => {
    const text = source.content.toString("utf8");
    const fileKey = `${sourceName}\0${text}`;
    let run = files.get(fileKey);
    if (!run) {
      run = hbs.compile(check(text, sourceName), COMPILE_OPTIONS);
      files.set(fileKey, run);
    }
    return renderText(run, context, sourceName);
  });
}

/** Per options and partials, a Handlebars (its partials compiled once) and the files, by name and text, checked and compiled. */
const COMPILED = new Map<string, { hbs: typeof Handlebars; check: ReturnType<typeof templateChecker>; files: Map<string, HandlebarsTemplateDelegate> }>();

/**
 * Parses and checks a file of the template (and, once, each partial it uses), throwing the first
 * problem; returns the file's syntax tree. Used by the render above and by the templates pack,
 * which checks at build time what it precompiles.
 */
export function templateChecker(template: Template, scope: Scope): (source: string, file: string) => hbs.AST.Program {
  const checkedPartials = new Set<string>();
  return (source, file) => {
    const { ast, problems, partials } = checkTemplate(source, file, scope);
    for (const [name, keys] of partials) {
      const partial = template.partials[name];
      if (!partial || checkedPartials.has(name)) continue;
      checkedPartials.add(name);
      problems.push(...checkTemplate(partial.source, partial.file, partialScope(scope, keys)).problems);
    }
    if (problems[0]) throw new TemplateError(problems[0]);
    return ast!;
  };
}

/** What a file of this template may name, given the context render() builds. */
export function templateScope(template: Template, context: object): Scope {
  return {
    context,
    stack: template.manifest.name,
    options: template.manifest.options,
    helpers: new Set([...BUILTIN_HELPERS, ...Object.keys(HELPERS)]),
    partials: new Set(Object.keys(template.partials)),
  };
}

/** Every problem of one template file: a syntax error, or the unknown names, helpers, partials and choices in it. */
export function checkTemplate(source: string, file: string, scope: Scope): { ast?: hbs.AST.Program; problems: TemplateProblem[]; partials: PartialCalls } {
  const parsed = parseTemplate(source, file);
  if ("problem" in parsed) return { problems: [parsed.problem], partials: new Map() };
  return { ast: parsed.ast, ...lintTemplate(parsed.ast, file, scope) };
}

function createHandlebars(partials: Template["partials"]): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS as Record<string, Handlebars.HelperDelegate>);
  for (const [name, partial] of Object.entries(partials)) hbs.registerPartial(name, partial.source);
  return hbs;
}

/** Runs a checked template; what strict mode still finds at run time is reported at its line and column. */
function renderText(run: HandlebarsTemplateDelegate, context: object, file: string): string {
  try {
    return run(context);
  } catch (error) {
    throw runtimeProblem(error, file);
  }
}
