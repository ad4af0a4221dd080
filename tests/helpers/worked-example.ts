import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./cli.js";

/** The files of the authoring guide's worked example ("Add an option value end to end"), shown verbatim there. */
export const workedExample = path.join(repoRoot, "tests", "fixtures", "worked-example");

export function exampleFile(rel: string): string {
  return readFileSync(path.join(workedExample, rel), "utf8");
}

/**
 * Applies the worked example to a templates folder, step by step as the guide says: declare the
 * option, add its overlay layer and split the FastAPI lock layers by it, add the dependency.
 */
export function applyWorkedExample(templates: string): void {
  const manifestFile = path.join(templates, "fastapi", "template.json");
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  manifest.options.push(JSON.parse(exampleFile("option.json")));
  manifest.layers = [
    ...manifest.layers.filter((l: { source?: string }) => !l.source?.startsWith("lock-")),
    ...JSON.parse(exampleFile("layers.json")),
  ];
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const pyproject = path.join(templates, "fastapi", "base", "pyproject.toml.hbs");
  const text = readFileSync(pyproject, "utf8");
  if (!/^dependencies = \[$/m.test(text)) throw new Error(`${pyproject}: no "dependencies = [" line to add the dependency after`);
  writeFileSync(pyproject, text.replace(/^dependencies = \[\n/m, (line) => `${line}${exampleFile("pyproject.toml.hbs")}`));
  cpSync(path.join(workedExample, "log-json"), path.join(templates, "fastapi", "log-json"), { recursive: true });
}
