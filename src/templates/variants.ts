import type { Manifest } from "./manifest.js";

/** Every combination of a stack's options, from its manifest: the test matrix is data too. */
export function variantsOf(manifest: Manifest): Record<string, string>[] {
  return manifest.options.reduce<Record<string, string>[]>(
    (acc, option) => acc.flatMap((partial) => option.choices.map((c) => ({ ...partial, [option.name]: c.value }))),
    [{}],
  );
}

/**
 * A small set of variants in which every value of every option appears at least once: the
 * defaults, then each other value with the defaults for the rest. `pinned` options keep one value
 * (a runtime the machine has). This is what the e2e tier runs, so a new value is run end to end.
 */
export function coveringVariants(manifest: Manifest, pinned: Readonly<Record<string, string>> = {}): Record<string, string>[] {
  const defaults = Object.fromEntries(manifest.options.map((o) => [o.name, pinned[o.name] ?? o.default]));
  const variants = [defaults];
  for (const option of manifest.options) {
    if (option.name in pinned) continue;
    for (const choice of option.choices) {
      if (choice.value !== defaults[option.name]) variants.push({ ...defaults, [option.name]: choice.value });
    }
  }
  return variants;
}

/** "orm=sqlmodel python=3.13" */
export function variantName(options: Readonly<Record<string, string>>): string {
  return Object.entries(options).map(([k, v]) => `${k}=${v}`).join(" ");
}
