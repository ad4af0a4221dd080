import { symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/errors.js";
import { whenMatches, parseManifest } from "../../src/templates/manifest.js";
import { loadManifests, loadTemplate } from "../../src/templates/registry.js";
import { demoManifest, templatesOnDisk } from "../helpers/template.js";

const parse = (raw: unknown) => parseManifest(raw, "templates/demo/template.json", "demo");

describe("manifest validation", () => {
  it("accepts the demo manifest and types it", () => {
    const m = parse(demoManifest());
    expect(m.options[0]!.default).toBe("alpha");
    expect(m.layers[1]!.when).toEqual({ orm: ["beta"] });
  });

  it.each([
    [{ name: "other" }, "name must equal the folder name"],
    [{ title: "" }, "title must be a non-empty string"],
    [{ colour: "red" }, "colour is not a known field"],
    [{ options: [{ name: "orm", message: "?", default: "gamma", choices: [{ value: "alpha" }] }] }, 'options[0].default "gamma" is not one of its choices'],
    [{ options: [{ name: "orm", message: "?", default: "a", choices: [] }] }, "options[0].choices must offer at least one choice"],
    [{ options: [{ name: "stack", message: "?", default: "a", choices: [{ value: "a" }] }] }, 'options[0].name "stack" is a flag of the CLI itself'],
    [{ options: [{ name: "orm", message: "?", default: "a", choices: [{ value: "a" }, { value: "a" }] }] }, 'options[0].choices offers "a" twice'],
    [{ layers: [{ source: "../outside" }] }, "layers[0].source must be a relative path inside the folder"],
    [{ layers: [{ source: "/etc" }] }, "layers[0].source must be a relative path"],
    [{ layers: [{ source: "base", shared: "sql" }] }, 'layers[0] must have exactly one of "source" or "shared"'],
    [{ layers: [{ source: "base", target: "../x" }] }, "layers[0].target must be a relative path"],
    [{ layers: [{ source: "b", when: { colour: "red" } }] }, "layers[0].when.colour is not a declared option"],
    [{ layers: [{ source: "b", when: { orm: "gamma" } }] }, 'layers[0].when.orm "gamma" is not a choice of option orm'],
    [{ install: [[]] }, "install[0] must name a program"],
    [{ install: [{ run: ["x"], explain: [{ output: "(", say: "?" }] }] }, "install[0].explain[0].output is not a regular expression"],
    [{ install: [{ run: ["x"], hint: "?" }] }, "install[0].hint is not a known field"],
    [{ next: [{ database: "cloud", needs: "?", run: ["make"] }] }, 'next[0].database must be one of local, docker, embedded (got "cloud")'],
    [{ next: [{ database: "local", needs: "?", run: [] }, { database: "local", needs: "?", run: [] }] }, 'next lists the database path "local" twice'],
    [{ next: [{ database: "local", needs: "?", install: "yes", run: [] }] }, "next[0].install must be true or false"],
    [{ options: [{ name: "orm", message: "?", default: "a", detect: "ruby", choices: [{ value: "a" }] }] }, 'options[0].detect can only be "package-manager", "python", "node"'],
    [{ health: undefined }, "health must be an object"],
    [{ keep: ".env" }, "keep must be an array"],
    [{ keep: ["../.env"] }, "keep[0] must be a relative path inside the folder"],
  ])("rejects %j naming the file and field", (override, message) => {
    expect(() => parse(demoManifest(override))).toThrowError(TemplateError);
    expect(() => parse(demoManifest(override))).toThrowError(`templates/demo/template.json: ${message}`);
  });

  it("reads next as database paths; a plain list of commands is one local path", () => {
    const paths = parse(demoManifest({ next: [{ database: "local", needs: "psql", install: true, run: ["make db"] }, { database: "docker", needs: "Docker", run: ["make up"] }] })).next;
    expect(paths).toEqual([{ database: "local", needs: "psql", install: true, run: ["make db"] }, { database: "docker", needs: "Docker", install: false, run: ["make up"] }]);
    expect(parse(demoManifest({ next: ["make dev"] })).next).toEqual([{ database: "local", needs: "a Postgres", install: true, run: ["make dev"] }]);
  });

  it("matches layers on every `when` entry", () => {
    const m = parse(demoManifest());
    expect(whenMatches(m.layers[1]!, { orm: "beta" })).toBe(true);
    expect(whenMatches(m.layers[1]!, { orm: "alpha" })).toBe(false);
    expect(whenMatches(m.layers[0]!, {})).toBe(true);
  });
});

describe("loading templates from disk", () => {
  it("skips _shared and folders without a manifest, orders by `order`", async () => {
    const root = templatesOnDisk({
      "b/template.json": JSON.stringify({ ...demoManifest({ name: "b", order: 2 }), layers: [{ source: "base" }] }),
      "a/template.json": JSON.stringify({ ...demoManifest({ name: "a", order: 1 }), layers: [{ source: "base" }] }),
      "_shared/partials/x.hbs": "shared",
      "wip/notes.txt": "not a template",
    });
    expect((await loadManifests(root)).map((m) => m.name)).toEqual(["a", "b"]);
  });

  it("reports invalid JSON with the file name", async () => {
    const root = templatesOnDisk({ "demo/template.json": "{ nope" });
    await expect(loadManifests(root)).rejects.toThrowError(/demo\/template\.json: not valid JSON/);
  });

  it("reads layers, shared layers and partials; a missing layer folder is an error", async () => {
    const root = templatesOnDisk({
      "demo/template.json": "{}",
      "demo/base/a.txt": "A",
      "demo/partials/p.hbs": "local",
      "_shared/sql/init.sql.hbs": "shared sql",
      "_shared/partials/p.hbs": "shared",
      "_shared/partials/q/r.hbs": "nested",
    });
    const manifest = parseManifest(demoManifest({ layers: [{ source: "base" }, { shared: "sql", target: "sql" }] }), "t", "demo");
    const t = await loadTemplate(root, manifest);
    expect(t.layers.map((l) => l.files.map((f) => f.path))).toEqual([["a.txt"], ["init.sql.hbs"]]);
    expect(t.partials).toEqual({ p: "local", "q/r": "nested" });

    const broken = parseManifest(demoManifest({ layers: [{ source: "nowhere" }] }), "t", "demo");
    await expect(loadTemplate(root, broken)).rejects.toThrowError(/layer folder .*nowhere does not exist/);
  });

  it("refuses symbolic links inside a layer", async () => {
    const root = templatesOnDisk({ "demo/base/a.txt": "A" });
    symlinkSync("/etc/passwd", path.join(root, "demo/base/link"));
    const manifest = parseManifest(demoManifest({ layers: [{ source: "base" }] }), "t", "demo");
    await expect(loadTemplate(root, manifest)).rejects.toThrowError(/symbolic links are not allowed/);
  });
});
