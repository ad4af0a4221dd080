import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/templates/manifest.js";
import { repoRoot } from "../helpers/cli.js";
import { exampleFile } from "../helpers/worked-example.js";

const guide = readFileSync(path.join(repoRoot, "templates", "README.md"), "utf8");
const jsonBlocks = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("the authoring guide (templates/README.md)", () => {
  it("has only valid JSON in its json examples, and its manifest example loads", () => {
    expect(jsonBlocks.length).toBeGreaterThanOrEqual(4);
    for (const block of jsonBlocks) expect(() => JSON.parse(block), block).not.toThrow();
    const manifest = jsonBlocks.map((b) => JSON.parse(b)).find((v) => v.name === "fastapi");
    expect(parseManifest(manifest, "guide", "fastapi").options[0]!.name).toBe("orm");
  });

  it("shows the worked example's fixture files as they are", () => {
    expect(jsonBlocks).toContain(exampleFile("option.json"));
    expect(jsonBlocks).toContain(exampleFile("layers.json"));
    expect(guide).toContain(exampleFile("pyproject.toml.hbs"));
    for (const line of ["from pythonjsonlogger.json import JsonFormatter", 'handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))']) {
      expect(exampleFile("log-json/app/core/logger.py")).toContain(line);
      expect(guide).toContain(line);
    }
  });
});
