import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { TemplateError, type TemplateProblem } from "../errors.js";
import type { Answers } from "../options/types.js";
import { checkTemplate, renderTemplate, templateContext, templateScope, type FileMap } from "../render/render.js";
import { partialScope } from "../render/lint.js";
import { locateField } from "../templates/json.js";
import { brokenRule, flagValue, whenMatches, type Manifest, type OptionValues } from "../templates/manifest.js";
import { displayPath, layerFolder, loadTemplate, type Template } from "../templates/registry.js";
import { variantName, variantsOf } from "../templates/variants.js";
import { caseName, readLockRecord } from "../templates/lock-merge.js";
import { mergedValues, relevantOptions } from "../templates/locks.js";

/** One thing `templates check` found: a place in a file, what is wrong and how to fix it. */
export interface Finding extends TemplateProblem {
  /** Which check found it: manifest, layer, template, render, lock, json, compose, dockerfile, python. */
  readonly check: string;
}

/** A variant rendered in memory, for the checks that look at generated files. */
export interface RenderedVariant {
  readonly manifest: Manifest;
  readonly options: OptionValues;
  readonly files: FileMap;
}

/** Where a manifest field is: its file, line and column. */
type Locate = (field: string) => Omit<TemplateProblem, "message">;

const SECRETS = { dbPassword: "check-password-0123456789abcdefgh", postgresPassword: "check-superuser-0123456789abcdef" };

/** Answers for a check render: a fixed project, the given options. */
function checkAnswers(manifest: Manifest, options: OptionValues): Answers {
  return {
    directory: "svc-check", targetDir: "/nonexistent/svc-check", target: { kind: "missing" },
    projectName: "svc-check", pyPackage: "svc_check", title: "Svc Check", stack: manifest.name, options,
    dbName: "svc_check", dbUser: "svc_check_user", force: false,
    steps: { install: false, git: false, boot: false, bootTimeoutSeconds: 1 },
  };
}

/**
 * The checks of one stack that need no tools: layer folders, layers that never show, every
 * template file's names, a render of every combination, and locks the manifest declares.
 * Returns the findings and the rendered variants for the checks of generated files.
 */
export async function checkStack(root: string, manifest: Manifest, version: string): Promise<{ findings: Finding[]; rendered: RenderedVariant[] }> {
  const manifestFile = path.join(root, manifest.name, "template.json");
  const text = await readFile(manifestFile, "utf8");
  const at = (field: string) => ({ file: displayPath(manifestFile), ...locateField(text, field) });
  const findings: Finding[] = [];

  // 1. Layer folders: each must exist; each folder of the template must be used.
  const used = new Set<string>();
  const missing = new Set<number>();
  for (const [i, layer] of manifest.layers.entries()) {
    const folder = layerFolder(root, manifest, layer);
    if (!folder) continue;
    used.add(path.relative(path.join(root, manifest.name), folder).split(path.sep)[0]!);
    if (!(await isDirectory(folder))) {
      missing.add(i);
      const fix = /^lock/.test(path.basename(folder))
        ? `pnpm templates:lock --templates ${displayPath(root)} creates it with its lock`
        : "create it, or fix the name";
      findings.push({ check: "layer", ...at(`layers[${i}].${layer.from!.kind === "template" ? "source" : "shared"}`), message: `layer folder ${displayPath(folder)} does not exist: ${fix}` });
    }
  }
  for (const entry of await readdir(path.join(root, manifest.name), { withFileTypes: true })) {
    if (entry.isDirectory() && !used.has(entry.name) && entry.name !== "partials" && !entry.name.startsWith(".")) {
      findings.push({ check: "layer", file: displayPath(path.join(root, manifest.name, entry.name)), message: `folder is not used by any layer: add { "source": "${entry.name}", "when": {...} } to layers in template.json, or delete it` });
    }
  }
  // A missing folder is reported once; the rest is checked as if that layer were empty.
  const usable: Manifest = { ...manifest, layers: manifest.layers.map((l, i) => (missing.has(i) ? { ...l, from: null } : l)) };
  const template = await loadTemplate(root, usable);

  // 2. Every template file and partial, once: syntax, names, helpers, partials, eq against choices.
  const scope = templateScope(template, templateContext({ template, answers: checkAnswers(manifest, defaultsOf(manifest)), secrets: SECRETS, generatorVersion: version }));
  const sources = template.layers.flatMap((l) => l.files.filter((f) => f.path.endsWith(".hbs")).map((f) => ({ file: `${l.dir}/${f.path}`, source: f.content.toString("utf8"), scope })));
  const partials = new Set<string>();
  for (let i = 0; i < sources.length; i++) {
    const { file, source, scope: where } = sources[i]!;
    const checked = checkTemplate(source, file, where);
    for (const problem of checked.problems) findings.push({ check: "template", ...problem });
    for (const [name, keys] of checked.partials) {
      const partial = template.partials[name];
      if (partial && !partials.has(name)) sources.push({ file: partial.file, source: partial.source, scope: partialScope(scope, keys) });
      partials.add(name);
    }
  }

  // The manifest's own commands may name options too ("{{options.pm}}").
  const commands = [
    ...manifest.install.map((c, i) => ({ run: c.run, field: (j: number) => (Object.keys(c.when).length ? `install[${i}].run[${j}]` : `install[${i}][${j}]`) })),
    ...manifest.verify.map((c, i) => ({ run: c.run, field: (j: number) => `verify[${i}].run[${j}]` })),
  ];
  for (const { run, field } of commands) {
    for (const [j, arg] of run.entries()) {
      if (!arg.includes("{{")) continue;
      for (const problem of checkTemplate(arg, displayPath(manifestFile), scope).problems) findings.push({ check: "manifest", ...at(field(j)), message: `${field(j)}: ${problem.message}` });
    }
  }

  // 3. Every combination, rendered in memory (what strict mode still finds shows up here).
  const rendered: RenderedVariant[] = [];
  for (const options of variantsOf(manifest)) {
    try {
      rendered.push({ manifest, options, files: renderTemplate({ template, answers: checkAnswers(manifest, options), secrets: SECRETS, generatorVersion: version }) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      findings.push({ check: "render", ...(error.problem ?? { file: displayPath(manifestFile), message: error.message }), message: `${error.problem?.message ?? error.message} (${variantName(options)})` });
    }
  }

  findings.push(...layersThatNeverShow(usable, template, rendered, at));
  findings.push(...ruleProblems(manifest, at));
  findings.push(...missingLocks(manifest, rendered, at, root));
  findings.push(...incompleteMergedLocks(template, rendered, root));
  return { findings: dedupe(findings), rendered };
}

/** A layer whose `when` matches no combination, or whose every file is replaced or excluded later, is dead weight. */
function layersThatNeverShow(manifest: Manifest, template: Template, rendered: readonly RenderedVariant[], at: Locate): Finding[] {
  const findings: Finding[] = [];
  for (const [i, loaded] of template.layers.entries()) {
    const { layer } = loaded;
    const applies = rendered.filter((v) => whenMatches(layer, v.options));
    const where = at(`layers[${i}]`);
    if (applies.length === 0) {
      if (variantsOf(manifest).some((o) => whenMatches(layer, o))) continue; // the variants failed to render: reported already
      findings.push({ check: "layer", ...where, message: "never applies: no combination of the options matches its when" });
      continue;
    }
    if (loaded.dir === null) {
      const removes = layer.exclude.filter((x) => applies.some((v) => wouldExclude(template, v, i, x)));
      for (const x of layer.exclude.filter((e) => !removes.includes(e))) {
        findings.push({ check: "layer", ...at(`layers[${i}].exclude[${layer.exclude.indexOf(x)}]`), message: `exclude "${x}" removes nothing: no earlier layer writes it in the variants this layer applies to` });
      }
      continue;
    }
    if (loaded.files.length === 0) {
      findings.push({ check: "layer", ...where, message: `adds no files: ${loaded.dir} is empty` });
      continue;
    }
    const shows = applies.some((v) => [...v.files.values()].some((f) => f.source.startsWith(`${loaded.dir}/`)));
    if (!shows) findings.push({ check: "layer", ...where, message: `never shows: a later layer replaces or excludes every file of ${loaded.dir} wherever it applies` });
  }
  return findings;
}

/** Would exclude path `x` of layer i remove a file that the layers before it write for this variant? */
function wouldExclude(template: Template, variant: RenderedVariant, i: number, x: string): boolean {
  const earlier = { ...template, layers: template.layers.slice(0, i) };
  const files = renderTemplate({ template: earlier, answers: checkAnswers(variant.manifest, variant.options), secrets: SECRETS, generatorVersion: "0" });
  return [...files.keys()].some((p) => p === x || (x.endsWith("/") && p.startsWith(x)));
}

/** Rules that never apply, a rule that refuses the defaults (--yes), and choices no allowed combination has. */
function ruleProblems(manifest: Manifest, at: Locate): Finding[] {
  const findings: Finding[] = [];
  const every = variantsOf({ ...manifest, rules: [] });
  for (const [i, rule] of manifest.rules.entries()) {
    if (!every.some((v) => whenMatches({ when: rule.if }, v))) findings.push({ check: "rule", ...at(`rules[${i}].if`), message: `rule "${rule.name}" never applies: no combination of the options matches its if` });
  }
  const defaults = defaultsOf(manifest);
  const refused = brokenRule(manifest, defaults);
  if (refused) {
    findings.push({ check: "rule", ...at(`rules[${manifest.rules.indexOf(refused)}]`), message: `rule "${refused.name}" refuses the defaults (${variantName(defaults)}), so --yes always fails: change the rule or a default` });
  }
  const allowed = variantsOf(manifest);
  for (const [i, option] of manifest.options.entries()) {
    for (const [j, choice] of option.choices.entries()) {
      if (allowed.some((v) => whenMatches({ when: { [option.name]: [choice.value] } }, v))) continue;
      findings.push({ check: "rule", ...at(`options[${i}].choices[${j}]`), message: `no combination the rules allow has ${option.name} ${choice.value}: the rules refuse it everywhere` });
    }
  }
  return findings;
}

/** Variants that generate without a lock their manifest declares, one finding per lock and relevant options. */
export function missingLocks(manifest: Manifest, rendered: readonly RenderedVariant[], at: Locate, root: string): Finding[] {
  const findings = new Map<string, Finding>();
  for (const v of rendered) {
    for (const [i, spec] of manifest.lock.entries()) {
      if (!whenMatches(spec, v.options) || v.files.has(spec.file)) continue;
      const only = relevantOptions(manifest).map((o) => `--only ${o}=${flagValue(v.options[o]!)}`).join(" ");
      const key = `${i} ${only}`;
      if (findings.has(key)) continue;
      findings.set(key, {
        check: "lock",
        ...at(`lock[${i}]`),
        message: `${variantName(v.options)} generates without ${spec.file}, which lock[${i}] declares: run pnpm templates:lock --templates ${displayPath(root)} ${only}`.replace(/ +$/, ""),
      });
    }
  }
  return [...findings.values()];
}

/**
 * A merged lock (a lock entry with `merge`) must have been made for every combination of the
 * merged options that renders it: its header lists them. One finding per lock file, naming the
 * combinations it lacks (a feature added since, or a lock stored before `merge` was declared).
 */
export function incompleteMergedLocks(template: Template, rendered: readonly RenderedVariant[], root: string): Finding[] {
  const { manifest } = template;
  const records = new Map<string, string[][] | undefined>(template.layers.flatMap((l) => l.files.filter((f) => f.path.endsWith(".hbs")).map((f) => [`${l.dir}/${f.path}`, readLockRecord(f.content.toString("utf8"))] as const)));
  const missing = new Map<string, { names: string[]; options: OptionValues; merge: readonly string[] }>();
  for (const v of rendered) {
    for (const spec of manifest.lock) {
      const file = v.files.get(spec.file);
      if (spec.merge.length === 0 || !whenMatches(spec, v.options) || !file) continue;
      const record = records.get(file.source);
      const name = caseName(mergedValues(spec, v.options));
      if (record?.some((group) => group.includes(name))) continue;
      const entry = missing.get(file.source) ?? { names: [], options: v.options, merge: spec.merge };
      if (!entry.names.includes(name)) entry.names.push(name);
      missing.set(file.source, entry);
    }
  }
  return [...missing].map(([source, { names, options, merge }]) => {
    const only = relevantOptions(manifest).map((o) => ` --only ${o}=${flagValue(options[o]!)}`).join("");
    const what = records.get(source)
      ? `has no lock for ${names.join("; ")} (it was made before these combinations existed)`
      : `is not a merged lock of every combination of ${merge.join(", ")}, which the manifest's lock entry asks for`;
    return { check: "lock", file: source, message: `${what}: run pnpm templates:lock --templates ${displayPath(root)}${only}` };
  });
}

export function defaultsOf(manifest: Manifest): OptionValues {
  return Object.fromEntries(manifest.options.map((o) => [o.name, o.default]));
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await readdir(p)) !== undefined;
  } catch {
    return false;
  }
}

/** The same finding from several variants is reported once. */
export function dedupe<T extends Finding>(findings: readonly T[]): T[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}:${f.line}:${f.col}:${f.message.replace(/ \([a-z0-9-]+=[^)]*\)$/, "")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
