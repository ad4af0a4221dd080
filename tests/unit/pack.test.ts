import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/errors.js";
import { render } from "../../src/render/index.js";
import { installCommands } from "../../src/steps/steps.js";
import { buildPack } from "../../src/templates/pack-build.js";
import { openPack, templatesAt } from "../../src/templates/pack.js";
import { variantsOf } from "../../src/templates/variants.js";
import { tempDir, templatesRoot } from "../helpers/cli.js";
import { demoAnswers, templatesOnDisk } from "../helpers/template.js";

const secrets = { dbPassword: "pw-1", postgresPassword: "pw-2" };

async function packOf(root: string) {
  const file = path.join(tempDir("svc-pack-"), "templates.pack");
  writeFileSync(file, await buildPack(root));
  return openPack(file, root)!;
}

describe("the templates pack", () => {
  it("renders every variant of every stack byte for byte as the templates folder does, install commands included", async () => {
    const pack = await packOf(templatesRoot);
    const folder = templatesAt(templatesRoot, undefined);
    const [packed, read] = [await pack.loadManifests(), await folder.loadManifests()];
    expect(packed.map((m) => m.name)).toEqual(read.map((m) => m.name));
    // The pack keeps each manifest as parsed at build time (regular expressions included), plus its texts' compiled forms.
    expect(packed.map(({ precompiled, programs, ...m }) => (expect(precompiled ?? programs).toBeDefined(), m))).toEqual(read);
    let variants = 0;
    for (const manifest of read) {
      const fromPack = packed.find((m) => m.name === manifest.name)!;
      for (const options of variantsOf(manifest)) {
        const answers = demoAnswers({ stack: manifest.name, options });
        const a = await render({ template: await pack.loadTemplate(fromPack, options), answers, secrets, generatorVersion: "1.2.3" });
        const b = await render({ template: await folder.loadTemplate(manifest, options), answers, secrets, generatorVersion: "1.2.3" });
        expect([...a.values()].map((f) => [f.path, f.mode, f.source, f.keep, f.content.toString("base64")])).toEqual(
          [...b.values()].map((f) => [f.path, f.mode, f.source, f.keep, f.content.toString("base64")]),
        );
        expect(await installCommands(fromPack, answers)).toEqual(await installCommands(manifest, answers));
        variants++;
      }
    }
    expect(variants).toBeGreaterThan(10);
  }, 120_000);

  it("is not built from a template with a problem: the build fails at the file, as a scaffold would", async () => {
    const root = templatesOnDisk({
      "demo/template.json": JSON.stringify({ name: "demo", title: "Demo", description: "d", options: [], layers: [{ source: "base" }], next: [], install: [], health: { path: "/health", portVar: "WEB_PORT" } }),
      "demo/base/README.md.hbs": "# {{project.nmae}}\n",
    });
    await expect(buildPack(root)).rejects.toThrowError(TemplateError);
    await expect(buildPack(root)).rejects.toThrowError(/README\.md\.hbs:1/);
  });
});
