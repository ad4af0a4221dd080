import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { SAFE_NAMES } from "../../src/render/render.js";
import { flagValue, whenMatches, type Manifest, type OptionValue, type OptionValues } from "../../src/templates/manifest.js";
import { loadManifests } from "../../src/templates/registry.js";
import { templatesRoot } from "./cli.js";

/**
 * What the suites expect, read from the manifests and layer folders of the templates under test
 * (the repository's, or SVC_TEMPLATES's copy), so a new option value is covered with no test edit.
 */
export const manifests: readonly Manifest[] = await loadManifests(templatesRoot);

export function manifestNamed(stack: string): Manifest {
  const m = manifests.find((x) => x.name === stack);
  if (!m) throw new Error(`no template ${stack} in ${templatesRoot}`);
  return m;
}

/** The values of an option of a stack, in manifest order: "sqlalchemy, sqlmodel". */
export function choiceList(stack: string, option: string, separator = ", "): string {
  return manifestNamed(stack).options.find((o) => o.name === option)!.choices.map((c) => c.value).join(separator);
}

/** A string for use inside a RegExp. */
export function re(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The files a project of this variant has, worked out from the layer folders on disk as the
 * authoring guide describes layering: each layer that applies removes its `exclude` paths, then
 * adds its files (`.hbs` dropped, safe names renamed, under `target`); plus `.svc-app.json`.
 */
export function expectedTree(manifest: Manifest, options: OptionValues): string[] {
  const tree = new Set<string>([".svc-app.json"]);
  for (const layer of manifest.layers) {
    if (!whenMatches(layer, options)) continue;
    for (const x of layer.exclude) for (const p of [...tree]) if (p === x || (x.endsWith("/") && p.startsWith(x))) tree.delete(p);
    if (!layer.from) continue;
    const folder = path.join(templatesRoot, layer.from.kind === "template" ? manifest.name : "_shared", layer.from.dir);
    for (const file of filesUnder(folder)) {
      const dir = path.posix.dirname(file);
      const name = path.posix.basename(file).replace(/\.hbs$/, "");
      const renamed = SAFE_NAMES[name] ?? name;
      tree.add(path.posix.join(layer.target, dir === "." ? "" : dir, renamed));
    }
  }
  return [...tree].sort();
}

/** The lock files the manifest declares for this variant. */
export function declaredLocks(manifest: Manifest, options: OptionValues): string[] {
  return manifest.lock.filter((l) => whenMatches(l, options)).map((l) => l.file);
}

/** The install commands the manifest gives this variant, as printed in the next steps. */
export function installLines(manifest: Manifest, options: OptionValues): string[] {
  return manifest.install.filter((c) => whenMatches(c, options)).map((c) => withOptions(c.run, options).join(" "));
}

/** The manifest's `verify` commands of one step for this variant (argv arrays, `{{options.x}}` filled in). */
export function verifyCommands(manifest: Manifest, options: OptionValues, step: Manifest["verify"][number]["step"]): string[][] {
  return manifest.verify.filter((v) => v.step === step && whenMatches(v, options)).map((v) => withOptions(v.run, options));
}

function withOptions(argv: readonly string[], options: OptionValues): string[] {
  return argv.map((a) => a.replace(/\{\{\s*options\.([a-z0-9-]+)\s*\}\}/g, (_, n: string) => flagValue(options[n]!)));
}

function filesUnder(dir: string, rel = ""): string[] {
  return readdirSync(path.join(dir, rel)).flatMap((name) => {
    const p = rel ? `${rel}/${name}` : name;
    return statSync(path.join(dir, p)).isDirectory() ? filesUnder(dir, p) : [p];
  });
}

/**
 * Answers a stack's option prompts in a real terminal, in manifest order: `pick` gives the index
 * of the choice to take, or undefined to take the one the prompt starts on (a default detected on
 * this machine). The start is read from the screen (clack marks it ●). An option that takes
 * several values is a checklist starting on its first choice, its defaults ticked: `pick` gives
 * the one choice to tick besides them (Space), or undefined to keep the defaults. Returns the values chosen.
 */
export async function answerOptionPrompts(
  session: { waitFor(p: RegExp): Promise<string>; keys(k: string[]): Promise<void> },
  manifest: Manifest,
  pick: (option: Manifest["options"][number]) => number | undefined,
): Promise<Record<string, OptionValue>> {
  const chosen: Record<string, OptionValue> = {};
  for (const option of manifest.options) {
    if (option.multiple) {
      await session.waitFor(new RegExp(`${re(option.message)}[\\s\\S]*${re(option.choices.at(-1)!.label)}`));
      const to = pick(option);
      const ticked = new Set(option.default as readonly string[]);
      if (to !== undefined) {
        for (let i = 0; i < to; i++) await session.keys(["Down"]);
        await session.keys(["Space"]);
        ticked.add(option.choices[to]!.value);
      }
      await session.keys(["Enter"]);
      chosen[option.name] = option.choices.map((c) => c.value).filter((v) => ticked.has(v));
      continue;
    }
    const screen = await session.waitFor(new RegExp(`${re(option.message)}[\\s\\S]*●`));
    const active = screen.slice(screen.lastIndexOf(option.message)).split("\n").find((l) => l.includes("●")) ?? "";
    const from = option.choices.reduce((best, c, i) => (active.includes(c.label) && (best < 0 || c.label.length > option.choices[best]!.label.length) ? i : best), -1);
    if (from < 0) throw new Error(`the ${option.name} prompt starts on none of its choices: ${active}`);
    const to = pick(option) ?? from;
    for (let i = from; i !== to; i += Math.sign(to - from)) await session.keys([to > from ? "Down" : "Up"]);
    await session.keys(["Enter"]);
    chosen[option.name] = option.choices[to]!.value;
  }
  return chosen;
}
