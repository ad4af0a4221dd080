import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/errors.js";
import { renderTemplate } from "../../src/render/render.js";
import { demoAnswers, demoTemplate, sourceFile } from "../helpers/template.js";

const secrets = { dbPassword: "s3cret-password-value-xyz", postgresPassword: "superuser-s3cret-value-abc" };
const render = (template = demoTemplate(), answers = demoAnswers()) =>
  renderTemplate({ template, answers, secrets, generatorVersion: "9.9.9" });
const text = (files: ReturnType<typeof render>, p: string) => files.get(p)?.content.toString("utf8");

describe("renderTemplate", () => {
  it("renders .hbs files, copies others byte for byte and renames safe names", () => {
    const files = render();
    expect([...files.keys()]).toEqual([".env", ".gitignore", ".svc-app.json", "README.md", "app/models.py", "run.sh"]);
    expect(text(files, "README.md")).toBe("# My Api (alpha)\n");
    expect(text(files, "run.sh")).toContain("{{not rendered}}");
  });

  it("applies overlay layers only when their option matches, later layers winning", () => {
    expect(text(render(), "app/models.py")).toBe("MODEL = 'alpha'\n");
    expect(text(render(demoTemplate(), demoAnswers({ options: { orm: "beta" } })), "app/models.py")).toBe("MODEL = 'beta'\n");
  });

  it("is deterministic: the same input gives byte-identical output", () => {
    const a = render();
    const b = render();
    expect([...a.values()].map((f) => [f.path, f.mode, f.content.toString("hex")])).toEqual(
      [...b.values()].map((f) => [f.path, f.mode, f.content.toString("hex")]),
    );
  });

  it("writes .env owner-only and keeps executables executable", () => {
    const files = render();
    expect(files.get(".env")!.mode).toBe(0o600);
    expect(files.get("run.sh")!.mode).toBe(0o755);
    expect(files.get("README.md")!.mode).toBe(0o644);
  });

  it("records how the project was made, without secrets", () => {
    const record = JSON.parse(text(render(), ".svc-app.json")!);
    expect(record).toEqual({
      generator: { name: "create-svc-app", version: "9.9.9" },
      template: "demo",
      answers: { name: "my-api", stack: "demo", orm: "alpha", "db-name": "my_api", "db-user": "my_api_user" },
    });
    expect(text(render(), ".svc-app.json")).not.toContain(secrets.dbPassword);
    expect(text(render(), ".env")).toContain(secrets.dbPassword);
  });

  // Each mistake an author makes, reported at its file, line and column with the way out.
  it.each([
    ["a misspelt name", "# x\n\nTitle: {{project.titel}}\n", '3:10: unknown name "project.titel" (project has name, pyPackage, title); did you mean "project.title"?'],
    ["an undeclared option in #if", "{{#if options.ormm}}x{{/if}}", '1:7: unknown name "options.ormm" (the demo manifest declares options orm); did you mean "options.orm"?'],
    ["an undeclared option as a helper argument", '{{replace options.pyhton "." ""}}', '1:11: unknown name "options.pyhton"'],
    ["eq against a value that is not a choice", '{{#if (eq options.orm "btea")}}x{{/if}}', '1:23: compares options.orm with "btea", which is not one of its choices (alpha, beta), so it is never equal; did you mean "beta"?'],
    ["eq against a number", "{{#if (eq options.orm 3)}}x{{/if}}", '1:23: compares options.orm with the number 3; option values are strings: write "3"'],
    ["a literal GitHub Actions expression", "ref: ${{ github.ref }}\n", '1:10: unknown name "github.ref" (a template sees project, stack, options, db, generator); if this "{{" is meant literally, escape it as \\{{ or drop .hbs from the file name'],
    ["an unclosed block", "a\nb\n{{#if options.orm}}\nc\n", "3:1: {{#if}} is never closed: add {{/if}} where the block ends"],
    ["a block closed by another", "{{#if options.orm}}\n{{/each}}", "1:4: {{#if}} is closed by {{/each}}: close it with {{/if}}"],
    ["a half-written mustache", "a {{ }}", "1:6: Handlebars cannot parse this"],
    ["an unknown helper", "{{frob options.orm}}", '1:3: unknown helper "frob"'],
    ["an unknown partial", "{{> sql/init }}", '1:5: unknown partial "sql/init" (partials: none)'],
  ])("reports %s at its line and column in the real file", (_label, source, message) => {
    const t = demoTemplate({ base: [sourceFile("conf.txt.hbs", source)] });
    expect(() => render(t)).toThrowError(TemplateError);
    expect(() => render(t)).toThrowError(`templates/demo/base/conf.txt.hbs:${message}`);
  });

  it("names the partial's own file for a problem inside a partial", () => {
    const t = demoTemplate({ base: [sourceFile("x.hbs", "{{> greet }}")] }, { greet: "hi\n{{project.nmae}}" });
    expect(() => render(t)).toThrowError('templates/_shared/partials/greet.hbs:2:3: unknown name "project.nmae"');
  });

  it("knows the names a partial call passes", () => {
    const t = demoTemplate({ base: [sourceFile("x.hbs", '{{> greet who="you" }}|{{> greet who=project.name }}')] }, { greet: "hi {{who}}" });
    expect(text(render(t), "x")).toBe("hi you|hi my-api");
    const wrong = demoTemplate({ base: [sourceFile("x.hbs", '{{> greet who="you" }}')] }, { greet: "hi {{whom}}" });
    expect(() => render(wrong)).toThrowError('templates/_shared/partials/greet.hbs:1:6: unknown name "whom"');
  });

  it("accepts escaped braces, and names relative to #with/#each blocks", () => {
    const t = demoTemplate({ base: [sourceFile("x.hbs", "\\{{ github.ref }} {{#with options}}{{orm}}{{/with}}")] });
    expect(text(render(t), "x")).toBe("{{ github.ref }} alpha");
  });

  it("an overlay's exclude removes earlier layers' files, for the variants it applies to", () => {
    const t = demoTemplate();
    const manifest = { ...t.manifest, layers: [t.manifest.layers[0]!, { ...t.manifest.layers[1]!, exclude: ["run.sh", "app/"] }] };
    const excluding = { ...t, manifest, layers: [t.layers[0]!, { ...t.layers[1]!, layer: manifest.layers[1]!, files: [] }] };
    expect([...render(excluding, demoAnswers({ options: { orm: "beta" } })).keys()]).toEqual([".env", ".gitignore", ".svc-app.json", "README.md"]);
    expect([...render(excluding).keys()]).toContain("run.sh");
  });

  it("uses partials and helpers", () => {
    const t = demoTemplate(
      { base: [sourceFile("x.hbs", '{{> greet }}|{{#if (eq options.orm "alpha")}}A{{else}}B{{/if}}|{{replace "3.13" "." ""}}|{{json project.name}}')] },
      { greet: "hi {{project.name}}" },
    );
    expect(text(render(t), "x")).toBe('hi my-api|A|313|"my-api"');
  });

  it("never renders outside the project", () => {
    const t = demoTemplate({ base: [sourceFile("a/../../escape.txt", "x")] });
    expect(() => render(t)).toThrowError(/outside the project/);
  });
});
