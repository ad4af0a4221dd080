import { symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/errors.js";
import { whenMatches, parseManifest } from "../../src/templates/manifest.js";
import { loadManifests, loadTemplate } from "../../src/templates/registry.js";
import { demoManifest, templatesOnDisk } from "../helpers/template.js";

const parse = (raw: unknown) => parseManifest(raw, "templates/demo/template.json", "demo");
const FEATURES = [
  ...demoManifest().options,
  { name: "features", message: "?", multiple: true, default: [], choices: [{ value: "ci" }, { value: "worker" }] },
];

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
    [{ layers: [{ source: "base", shared: "sql" }] }, 'layers[0] must have one of "source" or "shared", not both'],
    [{ layers: [{ when: { orm: "beta" } }] }, 'layers[0] must have "source", "shared" or "exclude"'],
    [{ layers: [{ source: "base", exclude: ["../x"] }] }, "layers[0].exclude[0] must be a relative path"],
    [{ options: [{ name: "templates", message: "?", default: "a", choices: [{ value: "a" }] }] }, 'options[0].name "templates" is a flag of the CLI itself (--templates)'],
    [{ options: [{ name: "no-install", message: "?", default: "a", choices: [{ value: "a" }] }] }, 'options[0].name "no-install" cannot be a flag: --no-install means "install is false"'],
    [{ options: [{ name: "no-logger", message: "?", default: "a", choices: [{ value: "a" }] }] }, 'options[0].name "no-logger" cannot be a flag'],
    [{ verify: [{ step: "deploy", run: ["make"] }] }, 'verify[0].step must be one of migrate, migrate-down, lint, test (got "deploy")'],
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
    [{ lock: [{ file: "a.lock", run: ["x"], merge: ["orm"], inputs: ["a.toml"] }] }, 'lock[0].merge[0] "orm" takes one value: give each value its own lock layer instead'],
    [{ lock: [{ file: "a.lock", run: ["x"], merge: ["colour"], inputs: ["a.toml"] }] }, 'lock[0].merge[0] "colour" is not a declared option (orm)'],
    [{ options: [...FEATURES], lock: [{ file: "a.lock", run: ["x"], merge: ["features"] }] }, "lock[0].inputs must name the files x reads"],
    [{ options: [...FEATURES], lock: [{ file: "a.lock", run: ["x"], merge: ["features"], inputs: ["a.toml"], when: { features: "ci" } }] }, 'lock[0].merge[0] "features" is merged into one lock, so lock[0].when cannot test it'],
    [{ options: [...FEATURES], layers: [{ source: "base" }, { source: "lock-ci", when: { features: "ci" } }], lock: [{ file: "a.lock", run: ["x"], merge: ["features"], inputs: ["a.toml"] }] }, 'lock[0].merge[0] "features" is merged into one lock per lock layer, so the lock layer layers[1] cannot test it'],
    [{ lock: [{ file: "a.lock", run: ["x"], input: ["a.toml"] }] }, "lock[0].input is not a known field"],
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

  const features = { name: "features", message: "Features?", multiple: true, default: ["worker"], choices: [{ value: "worker" }, { value: "ci" }, { value: "metrics" }] };

  it("reads an option with several values: its default is a list, kept in manifest order", () => {
    const m = parse(demoManifest({ options: [{ ...features, default: ["metrics", "worker"] }], layers: [{ source: "base" }] }));
    expect(m.options[0]).toMatchObject({ multiple: true, default: ["worker", "metrics"] });
    expect(parse(demoManifest({ options: [{ ...features, default: undefined }], layers: [{ source: "base" }] })).options[0]!.default).toEqual([]);
  });

  it.each([
    [{ ...features, default: ["kafka"] }, 'options[0].default "kafka" is not one of its choices (worker, ci, metrics)'],
    [{ ...features, default: "worker" }, "options[0].default must be an array"],
    [{ ...features, choices: [{ value: "none" }] }, 'options[0].choices cannot offer "none": on the command line --features none means no value at all'],
    [{ ...features, detect: "node" }, "options[0].detect cannot be used with multiple"],
    [{ ...features, multiple: "yes" }, "options[0].multiple must be true or false"],
  ])("rejects a bad option with several values: %j", (option, message) => {
    expect(() => parse(demoManifest({ options: [option], layers: [{ source: "base" }] }))).toThrowError(`templates/demo/template.json: ${message}`);
  });

  it("matches `when` on membership for a list, and refuses `!` values", () => {
    const m = parse(demoManifest({ options: [demoManifest().options[0], features], layers: [{ source: "base" }] }));
    const when = (w: Record<string, unknown>) => parse(demoManifest({ options: m.options.map((o) => ({ ...o })), layers: [{ source: "base", when: w }] })).layers[0]!;
    expect(whenMatches(when({ features: "ci" }), { orm: "alpha", features: ["worker", "ci"] })).toBe(true);
    expect(whenMatches(when({ features: "ci" }), { orm: "alpha", features: [] })).toBe(false);
    expect(whenMatches(when({ features: ["ci", "metrics"] }), { orm: "alpha", features: ["metrics"] })).toBe(true);
    expect(whenMatches(when({ features: "!worker" }), { orm: "alpha", features: ["ci"] })).toBe(true);
    expect(whenMatches(when({ features: "!worker" }), { orm: "alpha", features: ["worker"] })).toBe(false);
    expect(whenMatches(when({ features: ["ci", "!worker"] }), { orm: "alpha", features: ["ci", "worker"] })).toBe(false);
    expect(whenMatches(when({ orm: "!beta" }), { orm: "alpha", features: [] })).toBe(true);
    expect(whenMatches(when({ orm: "!beta" }), { orm: "beta", features: [] })).toBe(false);
    expect(() => when({ features: "!kafka" })).toThrowError('layers[0].when.features "!kafka" is not a choice of option features after "!"');
  });

  it("matches `+` values as all required: an exact subset of a list, as a lock layer of two features needs", () => {
    const m = parse(demoManifest({ options: [demoManifest().options[0], features], layers: [{ source: "base" }] }));
    const when = (w: Record<string, unknown>) => parse(demoManifest({ options: m.options.map((o) => ({ ...o })), layers: [{ source: "base", when: w }] })).layers[0]!;
    const both = when({ features: ["+worker", "+metrics", "!ci"] });
    expect(whenMatches(both, { orm: "alpha", features: ["worker", "metrics"] })).toBe(true);
    expect(whenMatches(both, { orm: "alpha", features: ["worker"] })).toBe(false);
    expect(whenMatches(both, { orm: "alpha", features: ["worker", "ci", "metrics"] })).toBe(false);
    expect(whenMatches(when({ features: ["ci", "+worker"] }), { orm: "alpha", features: ["worker"] })).toBe(false);
    expect(whenMatches(when({ features: ["ci", "+worker"] }), { orm: "alpha", features: ["ci", "worker"] })).toBe(true);
    expect(() => when({ features: "+kafka" })).toThrowError('layers[0].when.features "+kafka" is not a choice of option features after "+"');
    expect(() => when({ orm: "+beta" })).toThrowError('layers[0].when.orm "+beta": "+" is for an option that takes several values; orm takes one (write "beta")');
  });

  it.each([
    [[{ name: "r", if: { orm: "beta" }, requires: {}, message: "m" }], "rules[0].requires must name at least one option"],
    [[{ name: "R", if: { orm: "beta" }, requires: { orm: "alpha" }, message: "m" }], 'rules[0].name must match'],
    [[{ name: "r", if: { colour: "red" }, requires: { orm: "alpha" }, message: "m" }], "rules[0].if.colour is not a declared option"],
    [[{ name: "r", if: { orm: "beta" }, requires: { orm: "alpha" } }], "rules[0].message must be a non-empty string"],
    [[{ name: "r", if: { orm: "beta" }, requires: { orm: "alpha" }, message: "m" }, { name: "r", if: { orm: "beta" }, requires: { orm: "alpha" }, message: "m" }], 'rules name "r" twice'],
  ])("rejects a bad rule %#", (rules, message) => {
    expect(() => parse(demoManifest({ rules }))).toThrowError(`templates/demo/template.json: ${message}`);
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

  it.each([
    ["{ nope", "1:3: not valid JSON: Expected property name or '}'"],
    ['{\n  "name": "demo", // the stack\n}', "2:19: not valid JSON: JSON has no comments"],
    ['{\n  "name": "demo",\n}', "3:1: not valid JSON: JSON allows no comma before } or ]"],
    ['{ "name": "demo"', "1:17: not valid JSON: Expected ',' or '}' after property value"],
    ["", "1:1: not valid JSON: the file ends before the JSON does"],
  ])("reports invalid JSON %j at its line and column", async (text, message) => {
    const root = templatesOnDisk({ "demo/template.json": text });
    await expect(loadManifests(root)).rejects.toThrowError(`demo/template.json:${message}`);
  });

  it("reports a manifest problem at the line and column of the field", async () => {
    const manifest = demoManifest({ options: [{ name: "orm", message: "ORM?", default: "gamma", choices: [{ value: "alpha" }] }] });
    const root = templatesOnDisk({ "demo/template.json": JSON.stringify(manifest, null, 2) });
    const line = JSON.stringify(manifest, null, 2).split("\n").findIndex((l) => l.includes('"gamma"')) + 1;
    await expect(loadManifests(root)).rejects.toThrowError(`demo/template.json:${line}:18: options[0].default "gamma" is not one of its choices (alpha)`);
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
    expect(Object.fromEntries(Object.entries(t.partials).map(([k, v]) => [k, v.source]))).toEqual({ p: "local", "q/r": "nested" });
    expect(t.partials.p!.file).toBe(path.join(root, "demo/partials/p.hbs"));

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
