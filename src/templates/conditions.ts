import type { Manifest, OptionSpec, OptionValue, OptionValues, Rule, When } from "./manifest.js";

// How answers meet the manifest's conditions: `when` (layers, commands, locks) and the rule table.

/** On the command line, a `multiple` option's empty answer: `--features none`. */
export const NO_VALUES = "none";

/**
 * True when every `when` entry (of a layer, an install command, a lock spec, a rule) accepts the
 * answer for its option. An entry lists values: it accepts an answer that is one of its plain
 * values (if it has any), none of its `!` values and all of its `+` values; for a `multiple`
 * option, "is" means "is among the chosen": `{ "features": "ci" }` holds when ci is chosen,
 * `{ "features": "!worker" }` when worker is not, `{ "features": ["+worker", "+otel", "!metrics"] }`
 * when worker and otel are chosen and metrics is not (an exact subset, as a lock layer needs).
 */
export function whenMatches(item: { readonly when: When }, options: OptionValues): boolean {
  return Object.entries(item.when).every(([key, accepted]) => {
    const answer = options[key];
    const is = (v: string) => (Array.isArray(answer) ? answer.includes(v) : answer === v);
    const plain = accepted.filter((v) => !v.startsWith("!") && !v.startsWith("+"));
    // Only `!` and `+` values: any answer that keeps them. An empty list accepts nothing.
    const noPlain = plain.length === 0 && accepted.length > 0;
    return (noPlain || plain.some(is)) && accepted.every((v) => (v.startsWith("!") ? !is(v.slice(1)) : v.startsWith("+") ? is(v.slice(1)) : true));
  });
}

/** The first rule of the manifest the answers break, or undefined when they break none. */
export function brokenRule(manifest: Pick<Manifest, "rules">, options: OptionValues): Rule | undefined {
  return manifest.rules.find((rule) => whenMatches({ when: rule.if }, options) && !whenMatches({ when: rule.requires }, options));
}

/** True when `value` is the option's default (for a `multiple` option: one of its defaults). */
export function isDefaultValue(spec: Pick<OptionSpec, "default">, value: string): boolean {
  return typeof spec.default === "string" ? spec.default === value : spec.default.includes(value);
}

/** An answer as the command line writes it: `sqlalchemy`, `ci,worker`, `none`. */
export function flagValue(value: OptionValue): string {
  if (typeof value === "string") return value;
  return value.length > 0 ? value.join(",") : NO_VALUES;
}

/** A condition in command-line words: `--orm sqlmodel`, `--features with worker`, `--redis not none`. */
export function describeWhen(when: When, manifest: Pick<Manifest, "options">): string {
  return Object.entries(when).map(([key, accepted]) => {
    const multiple = manifest.options.find((o) => o.name === key)?.multiple === true;
    const plain = accepted.filter((v) => !v.startsWith("!") && !v.startsWith("+"));
    const refused = accepted.filter((v) => v.startsWith("!")).map((v) => v.slice(1));
    const required = accepted.filter((v) => v.startsWith("+")).map((v) => v.slice(1));
    return [
      plain.length > 0 ? `--${key} ${multiple ? "with " : ""}${plain.join(multiple ? " or " : "|")}` : "",
      required.length > 0 ? `--${key} with ${required.join(" and ")}` : "",
      refused.length > 0 ? `--${key} ${multiple ? "without" : "not"} ${refused.join(multiple ? ", " : "|")}` : "",
    ].filter(Boolean).join(" and ");
  }).join(" and ");
}
