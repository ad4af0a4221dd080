import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { loadManifests } from "../../src/templates/registry.js";
import { coveringVariants, packedVariants, variantName, variantsOf } from "../../src/templates/variants.js";
import { repoRoot, runCli, tempDir } from "../helpers/cli.js";
import { choiceList } from "../helpers/expected.js";
import { standinBin } from "../helpers/standins.js";

// A fixture template whose `worker` feature needs a queue: the rule table, tested on data that is
// not in the product (the product's only feature, ci, goes with every combination).
const fixture = path.join(repoRoot, "tests", "fixtures", "rules");
const [queue] = await loadManifests(fixture);

describe("options that take several values (features)", () => {
  it("--features takes a comma-separated list in any order, or none; .svc-app.json and --json record the list in manifest order", async () => {
    const cwd = tempDir();
    for (const [dir, given, expected] of [["a", "worker,ci", ["ci", "worker"]], ["b", "none", []], ["c", " worker , worker", ["worker"]]] as const) {
      const r = await runCli([dir, "--templates", fixture, "--yes", "--no-install", "--no-git", "--json", "--queue", "redis", "--features", given], { cwd });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).answers.options).toEqual({ queue: "redis", features: expected });
      expect(JSON.parse(readFileSync(path.join(cwd, dir, ".svc-app.json"), "utf8")).answers.features).toEqual(expected);
      // `when: { "features": "worker" }` is membership; the README sees the list.
      expect(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path).filter((p: string) => p.endsWith(".toml"))).toEqual(expected.map((f) => `${f}.toml`));
      expect(readFileSync(path.join(cwd, dir, "README.md"), "utf8")).toContain(expected.map((f) => `- feature ${f}\n`).join(""));
    }
    // On one line, as the project's formatter (Biome in Fastify's `make lint`) writes a short list.
    expect(readFileSync(path.join(cwd, "a", ".svc-app.json"), "utf8")).toContain('\n    "features": ["ci", "worker"],\n');
    const yes = await runCli(["d", "--templates", fixture, "--yes", "--no-install", "--no-git", "--json"], { cwd });
    expect(JSON.parse(yes.stdout).answers.options.features).toEqual([]);
  });

  it("--help lists the features of each stack, and how to give several", async () => {
    const help = (await runCli(["--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toContain(`--features <list>`);
    expect(help).toContain(`fastapi: ${choiceList("fastapi", "features")}, none (default)`);
    expect(help).toContain("several separated by commas, or none");
  });

  it("a combination the rule table refuses is one line naming the rule, what it needs and what was given, exit 2, nothing written", async () => {
    const cwd = tempDir();
    const r = await runCli(["q", "--templates", fixture, "--yes", "--features", "worker"], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('error: rule "worker-needs-redis" of --stack queue: the worker takes its jobs from Redis (--features with worker requires --queue redis; got --queue none)');
    expect(r.stdout).toBe("");
    expect(existsSync(path.join(cwd, "q"))).toBe(false);
    const ok = await runCli(["q", "--templates", fixture, "--yes", "--no-install", "--no-git", "--features", "worker", "--queue", "redis"], { cwd });
    expect(ok.exitCode, ok.stderr).toBe(0);
  });

  it("the test matrix leaves out what the rules refuse; the covering set gives a feature what its rule requires", () => {
    // 2 queues x 4 subsets of {ci, worker}, less the two with the worker and no queue.
    expect(variantsOf(queue!).map(variantName)).toEqual([
      "queue=none features=none", "queue=none features=ci",
      "queue=redis features=none", "queue=redis features=ci", "queue=redis features=worker", "queue=redis features=ci,worker",
    ]);
    expect(coveringVariants(queue!).map(variantName)).toEqual([
      "queue=none features=none", "queue=redis features=none", "queue=none features=ci", "queue=redis features=worker", "queue=redis features=ci,worker",
    ]);
  });

  it("the e2e set packs a feature alone onto another variant, still runs every value and all features together, and keeps the rules", async () => {
    expect(packedVariants(queue!).map(variantName)).toEqual([
      "queue=none features=none", "queue=redis features=ci", "queue=redis features=worker", "queue=redis features=ci,worker",
    ]);
    for (const manifest of await loadManifests(path.join(repoRoot, "templates"))) {
      const packed = packedVariants(manifest);
      const valid = new Set(variantsOf(manifest).map(variantName));
      expect(packed.filter((v) => !valid.has(variantName(v))), manifest.name).toEqual([]);
      expect(packed.length, manifest.name).toBeLessThan(coveringVariants(manifest).length);
      expect(variantName(packed[0]!)).toBe(variantName(coveringVariants(manifest)[0]!));
      for (const option of manifest.options) {
        const held = new Set(packed.map((v) => String(v[option.name])));
        const wanted = option.multiple ? [...option.choices.map((c) => c.value), option.choices.map((c) => c.value).join(",")] : option.choices.map((c) => c.value);
        expect(wanted.filter((w) => !held.has(w)), `${manifest.name} --${option.name}`).toEqual([]);
      }
    }
  });

  it("templates check reports a rule that never applies, one that refuses the defaults, and a value no allowed combination has", async () => {
    const root = path.join(tempDir(), "templates");
    await execa("cp", ["-r", fixture, root]);
    const file = path.join(root, "queue", "template.json");
    const m = JSON.parse(readFileSync(file, "utf8"));
    m.rules.push({ name: "never", if: { queue: ["!none", "!redis"] }, requires: { features: "ci" }, message: "m" });
    m.rules.push({ name: "ci-needs-redis", if: { queue: "none" }, requires: { queue: "redis" }, message: "no queue, no service" });
    writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
    const r = await runCli(["templates", "check", root], { cwd: tempDir() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/template\.json:\d+:\d+: rule "never" never applies: no combination of the options matches its if \[rule\]/);
    expect(r.stdout).toMatch(/template\.json:\d+:\d+: rule "ci-needs-redis" refuses the defaults \(queue=none features=none\), so --yes always fails: change the rule or a default \[rule\]/);
    expect(r.stdout).toMatch(/template\.json:\d+:\d+: no combination the rules allow has queue none: the rules refuse it everywhere \[rule\]/);
  });

  it("update --features ci adds the workflow to a project made without it, and records the new answer", { timeout: 180_000 }, async () => {
    const home = tempDir("svc-feat-env-");
    writeFileSync(path.join(home, "gitconfig"), "[user]\n\tname = Test User\n\temail = test@example.invalid\n");
    const env = { GIT_CONFIG_GLOBAL: path.join(home, "gitconfig"), GIT_CONFIG_NOSYSTEM: "1", PATH: standinBin([], ["git"]).bin };
    const cwd = tempDir();
    const made = await runCli(["svc", "--yes", "--no-install", "--stack", "fastify", "--pm", "npm"], { cwd, env, timeout: 120_000 });
    expect(made.exitCode, made.stderr).toBe(0);
    const dir = path.join(cwd, "svc");
    const r = await runCli(["update", dir, "--features", "ci", "--yes", "--json"], { cwd, env, timeout: 60_000 });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(path.join(dir, ".github", "workflows", "ci.yml"), "utf8")).toContain("npm ci");
    expect(JSON.parse(readFileSync(path.join(dir, ".svc-app.json"), "utf8")).answers.features).toEqual(["ci"]);
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toContain("## Continuous integration");
  });
});
