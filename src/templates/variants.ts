import { brokenRule, flagValue, whenMatches, type Manifest, type OptionSpec, type OptionValue, type OptionValues } from "./manifest.js";

/**
 * Every valid combination of a stack's options, from its manifest: the test matrix is data too.
 * A `multiple` option contributes every subset of its choices (none included); combinations a
 * rule of the manifest refuses are left out.
 */
export function variantsOf(manifest: Manifest): OptionValues[] {
  return manifest.options
    .reduce<OptionValues[]>((acc, option) => acc.flatMap((partial) => valuesOf(option).map((v) => ({ ...partial, [option.name]: v }))), [{}])
    .filter((v) => !brokenRule(manifest, v));
}

/** The answers an option can take: each choice, or for a `multiple` option each subset in manifest order. */
export function valuesOf(option: OptionSpec): OptionValue[] {
  const values = option.choices.map((c) => c.value);
  if (!option.multiple) return values;
  return Array.from({ length: 2 ** values.length }, (_, mask) => values.filter((_, i) => mask & (1 << i)));
}

/**
 * A small set of variants in which every value of every option appears at least once: the
 * defaults, then each other value with the defaults for the rest; a `multiple` option adds each
 * value alone and all of them together. `pinned` options keep one value (a runtime the machine
 * has). A variant a rule refuses is given what the rule requires (the next tier must still run
 * the value it was made for). The CLI's static tier runs these; the e2e tier runs the fewer
 * `packedVariants`, which hold the same values, so a new value is run end to end.
 */
export function coveringVariants(manifest: Manifest, pinned: Readonly<Record<string, string>> = {}): OptionValues[] {
  const defaults = defaultsOf(manifest, pinned);
  return distinct([defaults, ...valuesToCover(manifest, pinned, defaults).map(([name, value]) => ({ ...defaults, [name]: value }))]
    .map((v) => satisfyRules(manifest, v)));
}

/**
 * Fewer variants that still hold every value of every option at least once, for a tier where each
 * variant costs an install and a boot: the defaults as they are, then `seeds` (combinations a tier
 * must run anyway, such as each lock file), and each remaining value put into the least changed
 * variant that still has that option at its default (a feature alone rides on, say, the uv variant),
 * or into a new one when none has. All values of a `multiple` option together stay a variant of
 * their own on the defaults (the everything-on case). A placement the rules refuse is not made.
 */
export function packedVariants(manifest: Manifest, pinned: Readonly<Record<string, string>> = {}, seeds: readonly OptionValues[] = []): OptionValues[] {
  const defaults = defaultsOf(manifest, pinned);
  const changed = (v: OptionValues) => manifest.options.filter((o) => flagValue(v[o.name]!) !== flagValue(defaults[o.name]!)).length;
  const packed = distinct([defaults, ...seeds].map((v) => satisfyRules(manifest, v))).map((v) => ({ ...v }));
  const together: OptionValues[] = [];
  for (const [name, value] of valuesToCover(manifest, pinned, defaults)) {
    const option = manifest.options.find((o) => o.name === name)!;
    const all = option.multiple && (value as readonly string[]).length > 1;
    if (all) {
      together.push({ ...defaults, [name]: value });
      continue;
    }
    if (packed.some((v) => flagValue(v[name]!) === flagValue(value))) continue;
    const host = packed.slice(1)
      .filter((v) => flagValue(v[name]!) === flagValue(defaults[name]!) && !brokenRule(manifest, { ...v, [name]: value }))
      .sort((a, b) => changed(a) - changed(b))[0];
    if (host) host[name] = value;
    else packed.push({ ...defaults, [name]: value });
  }
  return distinct([...packed, ...together].map((v) => satisfyRules(manifest, v)));
}

/** Each option at its default, or at its `pinned` value. */
export function defaultsOf(manifest: Manifest, pinned: Readonly<Record<string, string>> = {}): OptionValues {
  return Object.fromEntries(manifest.options.map((o) => [o.name, pinned[o.name] ?? o.default]));
}

/** Each value other than its default of each option not pinned; a `multiple` option's values alone, then all together. */
function valuesToCover(manifest: Manifest, pinned: Readonly<Record<string, string>>, defaults: OptionValues): [string, OptionValue][] {
  return manifest.options.filter((o) => !(o.name in pinned)).flatMap((option) => {
    const values = option.choices.map((c) => c.value);
    const others: OptionValue[] = option.multiple ? [...values.map((v) => [v]), ...(values.length > 1 ? [values] : [])] : values;
    return others.filter((v) => flagValue(v) !== flagValue(defaults[option.name]!)).map((v): [string, OptionValue] => [option.name, v]);
  });
}

/** The variants that exist (the rules could be met), each once, in order. */
function distinct(variants: (OptionValues | undefined)[]): OptionValues[] {
  const seen = new Set<string>();
  return variants.filter((v): v is OptionValues => {
    if (!v || seen.has(variantName(v))) return false;
    seen.add(variantName(v));
    return true;
  });
}

/** The variant changed as little as the rules require, or undefined when they cannot all hold. */
function satisfyRules(manifest: Manifest, variant: OptionValues): OptionValues | undefined {
  let v = variant;
  for (let round = 0; round <= manifest.rules.length; round++) {
    const rule = brokenRule(manifest, v);
    if (!rule) return v;
    const fixed: Record<string, OptionValue> = { ...v };
    for (const [key, accepted] of Object.entries(rule.requires)) {
      const option = manifest.options.find((o) => o.name === key)!;
      if (whenMatches({ when: { [key]: accepted } }, fixed)) continue;
      const plain = accepted.filter((a) => !a.startsWith("!") && !a.startsWith("+"));
      const refused = accepted.filter((a) => a.startsWith("!")).map((a) => a.slice(1));
      const required = accepted.filter((a) => a.startsWith("+")).map((a) => a.slice(1));
      const current = fixed[key]!;
      if (option.multiple) {
        const kept = (current as readonly string[]).filter((x) => !refused.includes(x));
        // Every `+` value, and the first plain value it asks for unless one of them is chosen already.
        const added = [...required, ...(kept.some((x) => plain.includes(x)) ? [] : plain.slice(0, 1))];
        fixed[key] = option.choices.map((c) => c.value).filter((x) => kept.includes(x) || added.includes(x));
      } else {
        fixed[key] = plain[0] ?? option.choices.map((c) => c.value).find((x) => !refused.includes(x)) ?? current;
      }
    }
    v = fixed;
  }
  return brokenRule(manifest, v) ? undefined : v;
}

/**
 * What the static suites generate through the CLI: every combination of the options that take one
 * value (with `multiple` options at their default), then the covering variants. Every combination,
 * `multiple` options included, is rendered in memory by `templates check` (variantsOf).
 */
export function cliVariants(manifest: Manifest): OptionValues[] {
  const product = variantsOf(manifest).filter((v) => manifest.options.every((o) => !o.multiple || flagValue(v[o.name]!) === flagValue(o.default)));
  const names = new Set(product.map(variantName));
  return [...product, ...coveringVariants(manifest).filter((v) => !names.has(variantName(v)))];
}

/** "orm=sqlmodel python=3.13 features=ci,worker" */
export function variantName(options: OptionValues): string {
  return Object.entries(options).map(([k, v]) => `${k}=${flagValue(v)}`).join(" ");
}
