import { loadManifests } from "../../src/templates/registry.js";
import type { Manifest } from "../../src/templates/manifest.js";
import { templatesRoot } from "../helpers/cli.js";

export { templatesRoot };

export { cliVariants, variantName, variantsOf } from "../../src/templates/variants.js";
import { flagValue, type OptionValues } from "../../src/templates/manifest.js";

export async function manifestOf(stack: string): Promise<Manifest> {
  const m = (await loadManifests(templatesRoot)).find((x) => x.name === stack);
  if (!m) throw new Error(`no template ${stack}`);
  return m;
}

/** The flags that give these answers: `--orm sqlmodel --features ci,worker` (none: `--features none`). */
export function optionFlags(options: OptionValues): string[] {
  return Object.entries(options).flatMap(([k, v]) => [`--${k}`, flagValue(v)]);
}
