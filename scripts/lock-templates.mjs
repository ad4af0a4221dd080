// pnpm templates:lock [stack ...] [--templates <dir>] [--only option=value ...] [--upgrade] [--set option=value ...]
//
// Regenerates the lock files a template ships, so no lock is ever written by hand. For each lock
// the manifest's `lock` list declares and each group of variants that gets its own copy (see
// planLocks in src/templates/locks.ts), it generates a project with the built CLI, runs the lock
// command there and copies the result into the layer that holds it, creating the file (and the
// layer's folder) when there is none yet. A lock that records the project name (uv.lock) is
// stored as `<file>.hbs`, with the name replaced by {{project.name}} (the name used here is a
// placeholder that occurs nowhere else); so is a lock already stored that way.
//   --templates <dir>  the templates folder (default: $SVC_TEMPLATES, else the repository's templates/);
//                      the locks are written into that folder (a symbolic link is followed to it).
//   --only orm=tortoise  only the variants with that value (repeat for more; same option = either value).
//   --upgrade          start from no lock, so every dependency moves to the newest allowed version.
//   --set python=3.11  pick an option the lock does not depend on, e.g. the Python this machine has.
// It ends with a warning for every variant that would still generate without a lock its manifest declares.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { defaultTemplatesRoot, flagValue, loadManifests, planLocks, variantName } from "../dist/templates.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin", "create-svc-app.js");
const PLACEHOLDER = "svc-lock-placeholder";

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
/** Every --only option must match; several values of one option are alternatives (a feature: it is chosen). */
const selected = (options) => [...new Set(only.map(([k]) => k))].every((k) => only.some(([k2, v]) => k2 === k && (Array.isArray(options[k]) ? options[k].includes(v) : options[k] === v)));

let written = 0;
let failed = 0;
const warnings = [];
for (const manifest of manifests) {
  if (stacks.length && !stacks.includes(manifest.name)) continue;
  const { targets, unplaced } = planLocks(templates, manifest, overrides);
  warnings.push(...unplaced.map((u) => `${manifest.name} ${u}`));
  for (const target of targets) {
    if (!selected(target.options)) {
      if (!target.exists) warnings.push(`${manifest.name} ${variantName(target.group)} has no ${target.spec.file} yet: run pnpm templates:lock --only ${Object.entries(target.group).map(([k, v]) => `${k}=${flagValue(v)}`).join(" --only ")}`);
      continue;
    }
    const label = `${manifest.name} ${variantName(target.options)}: ${target.spec.run.join(" ")}`;
    console.log(`\n${label}${target.exists ? "" : " (new lock)"}`);
    const work = mkdtempSync(path.join(tmpdir(), "svc-lock-"));
    try {
      // A lock layer declared in the manifest but not created yet: the CLI needs its folder to exist.
      mkdirSync(target.folder, { recursive: true });
      const flags = Object.entries(target.options).flatMap(([k, v]) => [`--${k}`, flagValue(v)]);
      execFileSync(process.execPath, [cli, PLACEHOLDER, "--yes", "--no-install", "--no-git", "--templates", templates, "--stack", manifest.name, ...flags], { cwd: work, env, stdio: "pipe" });
      const project = path.join(work, PLACEHOLDER);
      const current = path.join(project, target.spec.file);
      // An empty seed file is no lock at all: the lock command must start from nothing.
      if (upgrade || (existsSync(current) && readFileSync(current, "utf8").trim() === "")) rmSync(current, { force: true });
      execFileSync(target.spec.run[0], target.spec.run.slice(1), { cwd: project, env, stdio: ["ignore", "inherit", "pipe"] });
      let lock = readFileSync(current, "utf8");
      // A lock that records the project's name (uv.lock does) is stored as <file>.hbs, whatever
      // it was stored as before, so each project gets its own name in it.
      const stored = lock.includes(PLACEHOLDER) && !target.stored.endsWith(".hbs") ? `${target.stored}.hbs` : target.stored;
      if (stored.endsWith(".hbs")) lock = lock.split(PLACEHOLDER).join("{{project.name}}");
      if (stored !== target.stored) rmSync(path.join(target.folder, target.stored), { force: true });
      writeFileSync(path.join(target.folder, stored), lock);
      const where = path.join(target.folder, stored);
      console.log(`  -> ${where.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), where) : where}`);
      written++;
    } catch (error) {
      const output = `${error.stderr ?? ""}${error.stdout ?? ""}`.trim().split("\n").slice(-15).join("\n");
      console.error(`  failed: ${error.message.split("\n")[0]}${output ? `\n${output}` : ""}`);
      failed++;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
console.log(`\n${written} lock files written${failed ? `, ${failed} failed` : ""}`);
for (const w of warnings) console.warn(`warning: ${w}`);
process.exit(failed ? 1 : 0);
