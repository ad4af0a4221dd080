import { loadManifests } from "../../src/templates/registry.js";
import type { Manifest } from "../../src/templates/manifest.js";
import path from "node:path";
import { repoRoot } from "../helpers/cli.js";

export const templatesRoot = path.join(repoRoot, "templates");

/** Every combination of a stack's options, from its manifest: the test matrix is data too. */
export function variantsOf(manifest: Manifest): Record<string, string>[] {
  return manifest.options.reduce<Record<string, string>[]>(
    (acc, option) => acc.flatMap((partial) => option.choices.map((c) => ({ ...partial, [option.name]: c.value }))),
    [{}],
  );
}

export async function manifestOf(stack: string): Promise<Manifest> {
  const m = (await loadManifests(templatesRoot)).find((x) => x.name === stack);
  if (!m) throw new Error(`no template ${stack}`);
  return m;
}

export function optionFlags(options: Record<string, string>): string[] {
  return Object.entries(options).flatMap(([k, v]) => [`--${k}`, v]);
}

export function variantName(options: Record<string, string>): string {
  return Object.entries(options).map(([k, v]) => `${k}=${v}`).join(" ");
}
