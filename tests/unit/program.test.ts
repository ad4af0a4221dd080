import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import { COMPILE_OPTIONS, HELPERS } from "../../src/render/files.js";
import { runProgram, toProgram, type Program } from "../../src/render/program.js";

const helpers = new Set(Object.keys(HELPERS));
const context = {
  project: { name: "my-api", title: "My Api" },
  options: { orm: "sqlalchemy", pm: "poetry", features: ["ci", "worker"], none: [] as string[], zero: 0, empty: "" },
  db: { name: "my_api" },
};
const partials = {
  "readme/ci": "CI installs with {{install}}.\nThen {{checks}}.\n",
  lines: "first {{project.name}}\nsecond\n",
};

/** The snippet as Handlebars renders it (the folder path), and as the interpreter does (the pack's). */
function both(source: string) {
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS as Record<string, Handlebars.HelperDelegate>);
  for (const [name, text] of Object.entries(partials)) hbs.registerPartial(name, text);
  const expected = hbs.compile(source, COMPILE_OPTIONS)(context);
  const programs: Record<string, Program> = Object.fromEntries(Object.entries(partials).map(([name, text]) => [name, toProgram(Handlebars.parse(text), helpers, new Set())!]));
  const program = toProgram(Handlebars.parse(source), helpers, new Set(Object.keys(partials)));
  return { expected, program, actual: program && runProgram(program, context, programs, HELPERS) };
}

describe("template programs (the templates pack's form of a .hbs file)", () => {
  it.each([
    ["text and paths", "name: {{project.name}}, db {{db.name}}\n"],
    ["helpers and subexpressions", '{{replace project.name "-" "_"}} {{upper (lower project.title)}} {{json options.features}}'],
    ["if / else chains, standalone lines dropped as Handlebars drops them", '{{#if (eq options.orm "sqlmodel")}}\nA\n{{else if (eq options.pm "poetry")}}\nB\n{{else}}\nC\n{{/if}}\nend\n'],
    ["falsy values: 0, empty string, empty list", "{{#if options.zero}}z{{/if}}{{#if options.empty}}e{{/if}}{{#if options.none}}n{{else}}none{{/if}}{{#unless options.none}}!{{/unless}}"],
    ["includeZero", "{{#if options.zero includeZero=true}}zero counts{{/if}}"],
    ["each with data and else", "{{#each options.features}}{{@index}}:{{this}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}} {{/each}}{{#each options.none}}x{{else}}no features{{/each}}"],
    ["each over an object, with", "{{#each db}}{{@key}}={{this}}{{/each}} {{#with project}}{{title}}{{/with}}"],
    ["partials with a hash, standalone partials indented", '- {{> readme/ci install="`poetry install`" checks="`make lint`"}}\n  {{> lines}}\nafter\n'],
    ["escaped mustaches and comments", "\\{{ not a tag }} {{! a comment }}{{!-- another --}}kept\n"],
  ])("%s: the same text as Handlebars", (_, source) => {
    const { expected, program, actual } = both(source);
    expect(program, "the interpreter runs it").toBeDefined();
    expect(actual).toBe(expected);
  });

  it("leaves to Handlebars what it does not run: other block helpers, ../ paths, block params, unknown partials", () => {
    for (const source of ["{{#each options.features as |f|}}{{f}}{{/each}}", "{{#with project}}{{../db.name}}{{/with}}", "{{#lookup options 'orm'}}x{{/lookup}}", "{{> missing}}", "{{lookup options 'orm'}}"]) {
      expect(toProgram(Handlebars.parse(source), helpers, new Set(Object.keys(partials))), source).toBeUndefined();
    }
  });

  it("a name strict mode does not find fails at its line and column, as Handlebars' does", () => {
    const program = toProgram(Handlebars.parse("ok\n  {{project.nmae}}"), helpers, new Set())!;
    expect(() => runProgram(program, context, {}, HELPERS)).toThrowError(expect.objectContaining({ message: expect.stringContaining('"nmae" not defined'), lineNumber: 2, column: 2 }));
  });
});
