import { loadManifests } from "../../src/templates/registry.js";
import type { Manifest } from "../../src/templates/manifest.js";
import { templatesRoot } from "../helpers/cli.js";

export { templatesRoot };

export { variantName, variantsOf } from "../../src/templates/variants.js";

export async function manifestOf(stack: string): Promise<Manifest> {
  const m = (await loadManifests(templatesRoot)).find((x) => x.name === stack);
  if (!m) throw new Error(`no template ${stack}`);
  return m;
}

export function optionFlags(options: Record<string, string>): string[] {
  return Object.entries(options).flatMap(([k, v]) => [`--${k}`, v]);
}
