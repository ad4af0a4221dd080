// pnpm templates:lock [stack ...] [--templates <dir>] [--only option=value ...] [--upgrade] [--set option=value ...]
//
// Regenerates the lock files a template ships, so no lock is ever written by hand. For each lock
// the manifest's `lock` list declares and each group of variants that gets its own copy (see
// planLocks in src/templates/locks.ts), it generates a project with the built CLI, runs the lock
// command there and copies the result into the layer that holds it, creating the file (and the
// layer's folder) when there is none yet. A lock that records the project name (uv.lock) is
// stored as `<file>.hbs`, with the name replaced by {{project.name}} (the name used here is a
// placeholder that occurs nowhere else); so is a lock already stored that way.
// A lock entry with `merge` (e.g. ["features"]) gets one lock per combination of those options'
// values: each combination is rendered in memory and the files named in `inputs` hashed, one lock
// is generated per distinct hash (two at a time), and the locks are merged into one `<file>.hbs`
// (src/templates/lock-merge.ts), checked to render each combination's lock back before it is written.
//   --templates <dir>  the templates folder (default: $SVC_TEMPLATES, else the repository's templates/);
//                      the locks are written into that folder (a symbolic link is followed to it).
//   --only orm=tortoise  only the variants with that value (repeat for more; same option = either value).
//                      On a merged option (--only features=worker), only those combinations are
//                      generated again; the others keep the lock stored for them.
//   --upgrade          start from no lock, so every dependency moves to the newest allowed version
//                      (in a merged lock, the combinations then start from the first one's new lock).
//   --set python=3.11  pick an option the lock does not depend on, e.g. the Python this machine has.
// It ends with a warning for every variant that would still generate without a lock its manifest declares.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { caseName, defaultTemplatesRoot, flagValue, LOCK_PROJECT_NAME, loadLockTemplate, loadManifests, mergedValues, planLockBuild, planLocks, readLockRecord, storedLock, variantName } from "../dist/templates.js";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin", "create-svc-app.js");
/** Locks generated at once for one layer: each lock command is busy on its own, and the machine has few cores. */
const PARALLEL = 2;

const fail = (message, code = 2) => {
  console.error(`error: ${message}`);
  process.exit(code);
};
const args = process.argv.slice(2);
const valueOf = (flag) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const pairs = (flag) => valueOf(flag).map((a) => {
  const [k, v] = a.split("=");
  if (!k || v === undefined) fail(`${flag} takes option=value (got "${a}")`);
  return [k, v];
});
const upgrade = args.includes("--upgrade");
const overrides = Object.fromEntries(pairs("--set"));
const only = pairs("--only");
const stacks = args.filter((a, i) => !a.startsWith("--") && !["--set", "--only", "--templates"].includes(args[i - 1]));
for (const a of args.filter((x) => x.startsWith("--"))) {
  if (!["--upgrade", "--set", "--only", "--templates"].includes(a)) fail(`unknown option ${a} (see the comment at the top of scripts/lock-templates.mjs)`);
}
const given = valueOf("--templates")[0] ?? process.env.SVC_TEMPLATES;
if (given !== undefined && !existsSync(given)) fail(`templates folder not found: ${given}`);
const templates = realpathSync(given ?? defaultTemplatesRoot());

// Poetry goes through the Simple-API fallback (scripts/support/poetry_simple_api.py).
const env = { ...process.env, PATH: `${path.join(root, "scripts", "support", "bin")}:${process.env.PATH}`, CI: "true" };

let manifests;
try {
  manifests = await loadManifests(templates);
} catch (error) {
  fail(error.message, 1);
}
for (const s of stacks) if (!manifests.some((m) => m.name === s)) fail(`no stack "${s}" in ${templates} (${manifests.map((m) => m.name).join(", ")})`);
for (const [k, v] of only) {
  const offered = manifests.filter((m) => !stacks.length || stacks.includes(m.name)).flatMap((m) => m.options.filter((o) => o.name === k));
  if (offered.length === 0) fail(`--only ${k}=${v}: no stack has an option ${k}`);
  if (!offered.some((o) => o.choices.some((c) => c.value === v))) fail(`--only ${k}=${v}: "${v}" is not a choice of ${k} (${[...new Set(offered.flatMap((o) => o.choices.map((c) => c.value)))].join(", ")})`);
}
/** Every --only option among `pairs` must match; several values of one option are alternatives (a feature: it is chosen). */
const matches = (options, pairs) => [...new Set(pairs.map(([k]) => k))].every((k) => pairs.some(([k2, v]) => k2 === k && (Array.isArray(options[k]) ? options[k].includes(v) : options[k] === v)));
const shown = (p) => (p.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), p) : p);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/**
 * Generates a project for `options` with the CLI, runs the lock command there and returns the
 * lock. The project starts from the lock the template gives it (so versions move only as far as
 * the dependency change needs), from `seed` when given, or from nothing with --upgrade.
 */
async function generateLock(manifest, spec, options, seed) {
  const work = mkdtempSync(path.join(tmpdir(), "svc-lock-"));
  try {
    const flags = Object.entries(options).flatMap(([k, v]) => [`--${k}`, flagValue(v)]);
    await run(process.execPath, [cli, LOCK_PROJECT_NAME, "--yes", "--no-install", "--no-git", "--templates", templates, "--stack", manifest.name, ...flags], { cwd: work, env, maxBuffer: 64 << 20 });
    const project = path.join(work, LOCK_PROJECT_NAME);
    const current = path.join(project, spec.file);
    if (seed !== undefined) writeFileSync(current, seed);
    // An empty seed file is no lock at all: the lock command must start from nothing.
    else if (upgrade || (existsSync(current) && readFileSync(current, "utf8").trim() === "")) rmSync(current, { force: true });
    await run(spec.run[0], spec.run.slice(1), { cwd: project, env, maxBuffer: 64 << 20 });
    return readFileSync(current, "utf8");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `tasks` (functions returning promises), at most `limit` at once; rejects with the first failure once all have settled. */
async function bounded(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  let firstError;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (firstError) throw firstError;
  return results;
}

let written = 0;
let failed = 0;
let generated = 0;
const started = Date.now();
const warnings = [];
for (const manifest of manifests) {
  if (stacks.length && !stacks.includes(manifest.name)) continue;
  const { targets, unplaced } = planLocks(templates, manifest, overrides);
  warnings.push(...unplaced.map((u) => `${manifest.name} ${u}`));
  let template;
  for (const target of targets) {
    const { spec } = target;
    // --only on a merged option picks combinations inside the lock; on the others, the locks.
    const choosing = only.filter(([k]) => !spec.merge.includes(k));
    const picking = only.filter(([k]) => spec.merge.includes(k));
    const fix = `pnpm templates:lock --only ${Object.entries(target.group).map(([k, v]) => `${k}=${flagValue(v)}`).join(" --only ")}`;
    if (!matches(target.options, choosing)) {
      if (!target.exists) warnings.push(`${manifest.name} ${variantName(target.group)} has no ${spec.file} yet: run ${fix}`);
      else if (spec.merge.length > 0) {
        const covered = new Set((readLockRecord(readFileSync(path.join(target.folder, target.stored), "utf8")) ?? []).flat());
        const missing = target.cases.map((c) => caseName(mergedValues(spec, c))).filter((n) => !covered.has(n));
        if (missing.length > 0) warnings.push(`${manifest.name} ${variantName(target.group)}: ${spec.file} has no lock for ${missing.join("; ")} yet: run ${fix}`);
      }
      continue;
    }
    const label = `${manifest.name} ${variantName(target.group)}: ${spec.run.join(" ")}`;
    const since = Date.now();
    try {
      template ??= await loadLockTemplate(templates, manifest);
      const plan = await planLockBuild(template, target, (options) => matches(options, picking));
      const combos = spec.merge.length > 0 ? ` (${target.cases.length} combinations of ${spec.merge.join(", ")}: ${plan.jobs.length} distinct ${spec.inputs.join(", ")} to lock${plan.kept.size ? `, ${plan.kept.size} kept` : ""})` : "";
      console.log(`\n${label}${target.exists ? "" : " (new lock)"}${combos}`);
      // A lock layer declared in the manifest but not created yet: the CLI needs its folder to exist.
      mkdirSync(target.folder, { recursive: true });
      const locks = new Map(plan.kept);
      const done = (job, lock, from) => {
        for (const c of job.cases) locks.set(caseName(mergedValues(spec, c)), lock);
        generated++;
        if (spec.merge.length > 0) console.log(`  ${job.cases.map((c) => caseName(mergedValues(spec, c))).join("; ")}: ${seconds(from)}`);
      };
      const job = (j, seed) => async () => {
        const from = Date.now();
        done(j, await generateLock(manifest, spec, j.options, seed), from);
      };
      let jobs = plan.jobs;
      if (upgrade && jobs.length > 1) {
        // From nothing once; the other combinations start from it, so what they share stays the same.
        await job(jobs[0])();
        const seed = locks.get(caseName(mergedValues(spec, jobs[0].cases[0])));
        jobs = jobs.slice(1).map((j) => ({ ...j, seed }));
      }
      await bounded(jobs.map((j) => job(j, j.seed)), PARALLEL);
      const { name, content } = storedLock(manifest, target, locks);
      if (name !== target.stored) rmSync(path.join(target.folder, target.stored), { force: true });
      writeFileSync(path.join(target.folder, name), content);
      console.log(`  -> ${shown(path.join(target.folder, name))} (${Buffer.byteLength(content)} bytes, ${seconds(since)})`);
      written++;
    } catch (error) {
      const output = `${error.stderr ?? ""}${error.stdout ?? ""}`.trim().split("\n").slice(-15).join("\n");
      console.error(`${label}\n  failed: ${error.message.split("\n")[0]}${output ? `\n${output}` : ""}`);
      failed++;
    }
  }
}
console.log(`\n${written} lock files written (${generated} locks generated) in ${seconds(started)}${failed ? `, ${failed} failed` : ""}`);
for (const w of warnings) console.warn(`warning: ${w}`);
process.exit(failed ? 1 : 0);
