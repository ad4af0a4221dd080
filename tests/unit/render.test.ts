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

  it("fails on a missing variable, naming the template file", () => {
    const t = demoTemplate({ base: [sourceFile("conf.txt.hbs", "port={{options.port}}\n")] });
    expect(() => render(t)).toThrowError(TemplateError);
    expect(() => render(t)).toThrowError(/templates\/demo\/base\/conf\.txt\.hbs: "port" not defined/);
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
