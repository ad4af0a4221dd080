import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Answers } from "../options/types.js";
import { renderTemplate } from "../render/render.js";
import { caseName, LOCK_PROJECT_NAME, lockTemplate, mergeLocks, readLockRecord, renderMergedLock } from "./lock-merge.js";
import { mergedValues, type LockTarget } from "./locks.js";
import type { Manifest, OptionValues } from "./manifest.js";
import { layerFolder, loadTemplate, type Template } from "./registry.js";

// What `pnpm templates:lock` does for one lock target, apart from running the commands
// (scripts/lock-templates.mjs does): which locks to generate, and the file to store from them.

/** One lock to generate: in a project made with `options`, it is the lock of every case listed. */
export interface LockJob {
  readonly options: OptionValues;
  readonly cases: readonly OptionValues[];
}

export interface LockBuildPlan {
  /** Cases whose stored lock is kept as it is (an `--only` left them out), by case name. */
  readonly kept: ReadonlyMap<string, string>;
  /** The locks to generate: one per distinct content of the lock's `inputs` among the other cases. */
  readonly jobs: readonly LockJob[];
}

/**
 * The stack's template with every layer, for planLockBuild. A layer folder that does not exist
 * yet (a lock layer declared for a lock about to be made) counts as empty.
 */
export function loadLockTemplate(root: string, manifest: Manifest): Promise<Template> {
  const layers = manifest.layers.map((l) => {
    const folder = layerFolder(root, manifest, l);
    return folder && !existsSync(folder) ? { ...l, from: null } : l;
  });
  return loadTemplate(root, { ...manifest, layers });
}

/**
 * Plans one target. A case the stored merged lock covers and `select` leaves out keeps its lock;
 * every other case is rendered in memory and its `inputs` hashed, and cases with the same
 * inputs share one generated lock (an option that only adds files, like ci, adds no lock).
 * `template` is the stack's template with every layer (loadLockTemplate).
 */
export async function planLockBuild(template: Template, target: LockTarget, select: (options: OptionValues) => boolean): Promise<LockBuildPlan> {
  const { spec } = target;
  if (spec.merge.length === 0) return { kept: new Map(), jobs: [{ options: target.options, cases: [target.options] }] };
  const stored = target.exists && target.stored.endsWith(".hbs") ? await readFile(path.join(target.folder, target.stored), "utf8") : undefined;
  const covered = new Set(stored === undefined ? [] : (readLockRecord(stored) ?? []).flat());
  const kept = new Map<string, string>();
  const byInputs = new Map<string, OptionValues[]>();
  // The lock itself is no input: leave it out of the render (it is the largest file, and may be stale).
  const withoutLock: Template = { ...template, layers: template.layers.map((l) => ({ ...l, files: l.files.filter((f) => !isLockFile(l.layer.target, f.path, spec.file)) })) };
  for (const options of target.cases) {
    const name = caseName(mergedValues(spec, options));
    if (stored !== undefined && covered.has(name) && !select(options)) {
      kept.set(name, renderMergedLock(stored, options));
      continue;
    }
    const files = renderTemplate({ template: withoutLock, answers: lockAnswers(template.manifest, options), secrets: { dbPassword: "lock", postgresPassword: "lock" }, generatorVersion: "0" });
    const digest = createHash("sha256");
    for (const input of spec.inputs) digest.update(`${input}\0${files.get(input)?.content.toString("utf8") ?? "(missing)"}\0`);
    const key = digest.digest("hex");
    byInputs.set(key, [...(byInputs.get(key) ?? []), options]);
  }
  return { kept, jobs: [...byInputs.values()].map((cases) => ({ options: cases[0]!, cases })) };
}

/**
 * The file to store for a target from the lock of each case (by case name, as generated, with
 * the placeholder project name): a merged `<file>.hbs` for a spec with `merge` (checked to render
 * every case back), else the lock itself, as `<file>.hbs` with `{{project.name}}` when it names
 * the project or was stored so before.
 */
export function storedLock(manifest: Manifest, target: LockTarget, locks: ReadonlyMap<string, string>): { name: string; content: string } {
  const { spec } = target;
  const file = path.posix.basename(spec.file);
  if (spec.merge.length === 0) {
    const lock = locks.get(caseName(mergedValues(spec, target.options)))!;
    const templated = target.stored.endsWith(".hbs") || lock.includes(LOCK_PROJECT_NAME);
    return templated ? { name: `${file}.hbs`, content: lockTemplate(file, lock) } : { name: file, content: lock };
  }
  const cases = target.cases.map((options) => {
    const values = mergedValues(spec, options);
    const text = locks.get(caseName(values));
    if (text === undefined) throw new Error(`internal: no ${file} for ${caseName(values)}`);
    return { values, text };
  });
  return { name: `${file}.hbs`, content: mergeLocks({ file, options: manifest.options.filter((o) => spec.merge.includes(o.name)), cases }) };
}

function isLockFile(target: string, file: string, lock: string): boolean {
  const p = target ? `${target}/${file}` : file;
  return p === lock || p === `${lock}.hbs`;
}

/** The answers `pnpm templates:lock` generates with: the placeholder project, the given options. */
function lockAnswers(manifest: Manifest, options: OptionValues): Answers {
  const pyPackage = LOCK_PROJECT_NAME.replace(/-/g, "_");
  return {
    directory: LOCK_PROJECT_NAME, targetDir: `/nonexistent/${LOCK_PROJECT_NAME}`, target: { kind: "missing" },
    projectName: LOCK_PROJECT_NAME, pyPackage, title: "Svc Lock Placeholder", stack: manifest.name, options,
    dbName: pyPackage, dbUser: `${pyPackage}_user`, force: false,
    steps: { install: false, git: false, boot: false, bootTimeoutSeconds: 1 },
  };
}
