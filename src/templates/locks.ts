import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { brokenRule, flagValue, isLockLayer, whenMatches, type Layer, type LockSpec, type Manifest, type OptionValue, type OptionValues } from "./manifest.js";
import { layerFolder } from "./registry.js";
import { valuesOf, variantName, variantsOf } from "./variants.js";

/** Where one lock file of one group of variants lives (or will live), for `pnpm templates:lock`. */
export interface LockTarget {
  readonly spec: LockSpec;
  /** The options to generate the project with: the group's values, the defaults (or --set) for the rest. */
  readonly options: OptionValues;
  /** The values that choose this lock, e.g. { orm: "drizzle", pm: "npm" }. */
  readonly group: OptionValues;
  /** The layer folder that holds it. */
  readonly folder: string;
  /** File name inside the folder: the lock's name, or `<name>.hbs` when the project name is templated in. */
  readonly stored: string;
  /** False when the lock does not exist yet and will be created. */
  readonly exists: boolean;
  /**
   * The combinations the lock covers: for a spec with `merge`, `options` with each valid
   * combination of the merged options' values (the first has the fewest values); else `options` alone.
   */
  readonly cases: readonly OptionValues[];
}

/**
 * Options that choose which lock a project gets: those the lock layers (folders named `lock*`)
 * and the `lock` entries depend on. A template without lock layers yet counts every layer's.
 * So an option that only adds files (a CI workflow) does not multiply the locks.
 */
export function relevantOptions(manifest: Manifest): string[] {
  const lockLayers = manifest.layers.filter((l) => l.from && isLockLayer(l.from.dir));
  const named = new Set([...(lockLayers.length > 0 ? lockLayers : manifest.layers), ...manifest.lock].flatMap((x) => Object.keys(x.when)));
  // A merged option (`merge` of a lock entry) changes the lines of a lock, not which lock it is.
  const merged = new Set(manifest.lock.flatMap((l) => l.merge));
  return manifest.options.map((o) => o.name).filter((n) => named.has(n) && !merged.has(n));
}

/** The options a lock entry merges, at every valid combination of their values, the others as in `options`. */
export function lockCases(manifest: Manifest, spec: LockSpec, options: OptionValues): OptionValues[] {
  const merged = manifest.options.filter((o) => spec.merge.includes(o.name));
  if (merged.length === 0) return [options];
  const combos = merged.reduce<OptionValues[]>((acc, o) => acc.flatMap((partial) => valuesOf(o).map((v) => ({ ...partial, [o.name]: v }))), [{}]);
  return combos.map((c) => ({ ...options, ...c })).filter((v) => !brokenRule(manifest, v) && whenMatches(spec, v));
}

/** The values of the merged options in a variant, as a merged lock's cases are named (`features=ci,worker`). */
export function mergedValues(spec: LockSpec, options: OptionValues): OptionValues {
  return Object.fromEntries(Object.entries(options).filter(([k]) => spec.merge.includes(k)));
}

/**
 * Every lock file the manifest's `lock` list asks for, one per group of variants that share
 * their layers: the layer that stores it, or, where none does yet, the layer it goes into (the
 * last one applying whose folder is named `lock-*`, else the last one applying with a `when`).
 * `unplaced` lists groups with no such layer: the manifest needs a lock layer for them.
 */
export function planLocks(root: string, manifest: Manifest, overrides: Readonly<Record<string, OptionValue>> = {}): { targets: LockTarget[]; unplaced: string[] } {
  const relevant = relevantOptions(manifest);
  const groups = new Map<string, OptionValues>();
  for (const v of variantsOf(manifest)) {
    const group = Object.fromEntries(relevant.map((o) => [o, v[o]!]));
    groups.set(variantName(group), group);
  }
  const targets: LockTarget[] = [];
  const unplaced: string[] = [];
  for (const group of groups.values()) {
    const options = Object.fromEntries(manifest.options.map((o) => [o.name, group[o.name] ?? overrides[o.name] ?? o.default]));
    const applying = manifest.layers.filter((l) => l.from?.kind === "template" && whenMatches(l, options));
    for (const spec of manifest.lock) {
      if (!whenMatches(spec, options)) continue;
      const holder = [...applying].reverse().find((l) => storedName(root, manifest, l, spec) !== undefined);
      if (holder) {
        // Groups that differ in an option the holder does not test share its lock: made once.
        if (targets.some((t) => t.exists && t.spec === spec && t.folder === folderOf(root, manifest, holder, spec))) continue;
        targets.push({ spec, options, group, folder: folderOf(root, manifest, holder, spec), stored: storedName(root, manifest, holder, spec)!, exists: true, cases: lockCases(manifest, spec, options) });
        continue;
      }
      const named = [...applying].reverse();
      const home = named.find((l) => isLockLayer(l.from!.dir)) ?? named.find((l) => Object.keys(l.when).length > 0);
      if (!home) {
        unplaced.push(`${variantName(group)}: no layer applies only to it; add { "source": "lock-${Object.values(group).map(flagValue).join("-")}", "when": ${JSON.stringify(group)} } to layers`);
        continue;
      }
      // Store it the way the other variants' copies of this lock are stored (with .hbs when they
      // template the name); a merged lock is always a template.
      const templated = spec.merge.length > 0 || manifest.layers.some((l) => l.from && storedName(root, manifest, l, spec)?.endsWith(".hbs"));
      targets.push({ spec, options, group, folder: folderOf(root, manifest, home, spec), stored: `${path.basename(spec.file)}${templated ? ".hbs" : ""}`, exists: false, cases: lockCases(manifest, spec, options) });
    }
  }
  return { targets, unplaced };
}

function folderOf(root: string, manifest: Manifest, layer: Layer, spec: LockSpec): string {
  return path.join(layerFolder(root, manifest, layer)!, layer.target, path.dirname(spec.file));
}

/** The name under which a layer stores the lock (`x` or `x.hbs`), or undefined when it does not. */
function storedName(root: string, manifest: Manifest, layer: Layer, spec: LockSpec): string | undefined {
  const folder = folderOf(root, manifest, layer, spec);
  if (!existsSync(folder)) return undefined;
  const names = readdirSync(folder);
  return [path.basename(spec.file), `${path.basename(spec.file)}.hbs`].find((n) => names.includes(n));
}
