// pnpm templates:lock [stack ...] [--upgrade] [--set option=value ...]
//
// Regenerates every lock file a template ships, so no lock is ever written by hand:
// for each layer that holds a lock file named in the manifest's `lock` list, it generates a
// project with the built CLI (that layer's `when` options, defaults for the rest), runs the
// lock command there and copies the result back into the layer. A layer that stores the lock
// as `<file>.hbs` gets the project name replaced by {{project.name}} (the name used here is a
// placeholder that occurs nowhere else), so one lock serves every project name.
// --upgrade deletes the old lock first, so every dependency moves to the newest allowed version.
// --set python=3.11 picks an option the lock does not depend on, e.g. the Python version this
// machine has (the generated .python-version makes pyenv look for that interpreter).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { defaultTemplatesRoot, loadManifests, whenMatches } from "../dist/templates.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const templates = defaultTemplatesRoot();
const cli = path.join(root, "bin", "create-svc-app.js");
const PLACEHOLDER = "svc-lock-placeholder";
const args = process.argv.slice(2);
const upgrade = args.includes("--upgrade");
const overrides = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === "--set" ? [a.split("=")] : [])));
const only = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--set");
// Poetry goes through the Simple-API fallback (scripts/support/poetry_simple_api.py).
const env = { ...process.env, PATH: `${path.join(root, "scripts", "support", "bin")}:${process.env.PATH}`, CI: "true" };

let count = 0;
for (const manifest of await loadManifests(templates)) {
  const stack = manifest.name;
  if (only.length && !only.includes(stack)) continue;
  for (const layer of manifest.layers) {
    if (layer.from.kind !== "template") continue;
    const layerDir = path.join(templates, stack, layer.from.dir, layer.target);
    const options = Object.fromEntries(manifest.options.map((o) => [o.name, layer.when[o.name]?.[0] ?? overrides[o.name] ?? o.default]));
    for (const spec of manifest.lock) {
      if (!whenMatches(spec, options)) continue;
      const stored = [spec.file, `${spec.file}.hbs`].find((f) => existsSync(path.join(layerDir, f)));
      if (!stored) continue;
      const work = mkdtempSync(path.join(tmpdir(), "svc-lock-"));
      const flags = Object.entries(options).flatMap(([k, v]) => [`--${k}`, v]);
      execFileSync(process.execPath, [cli, PLACEHOLDER, "--yes", "--no-install", "--no-git", "--stack", stack, ...flags], { cwd: work, env, stdio: "inherit" });
      const project = path.join(work, PLACEHOLDER);
      if (upgrade) rmSync(path.join(project, spec.file), { force: true });
      console.log(`\n${stack} ${JSON.stringify(options)}: ${spec.run.join(" ")}`);
      execFileSync(spec.run[0], spec.run.slice(1), { cwd: project, env, stdio: "inherit" });
      let lock = readFileSync(path.join(project, spec.file), "utf8");
      if (stored.endsWith(".hbs")) lock = lock.split(PLACEHOLDER).join("{{project.name}}");
      writeFileSync(path.join(layerDir, stored), lock);
      rmSync(work, { recursive: true, force: true });
      console.log(`  -> templates/${stack}/${layer.from.dir}/${stored}`);
      count++;
    }
  }
}
console.log(`\n${count} lock files written`);
