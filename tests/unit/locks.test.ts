import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/templates/manifest.js";
import { loadLockTemplate, planLockBuild, storedLock } from "../../src/templates/lock-build.js";
import { LOCK_PROJECT_NAME, readLockRecord, renderMergedLock } from "../../src/templates/lock-merge.js";
import { planLocks, relevantOptions } from "../../src/templates/locks.js";
import { demoManifest, templatesOnDisk } from "../helpers/template.js";

const lock = [{ file: "app.lock", run: ["make", "lock"] }];
const manifest = (layers: unknown[]) => parseManifest(demoManifest({ layers, lock }), "demo/template.json", "demo");

describe("planLocks: where pnpm templates:lock reads and writes each lock", () => {
  it("finds the lock layer of each group of variants, and plans a new lock where none exists yet", () => {
    const root = templatesOnDisk({ "demo/base/a.txt": "a", "demo/lock-alpha/app.lock.hbs": "locked {{project.name}}" });
    const plan = planLocks(root, manifest([{ source: "base" }, { source: "lock-alpha", when: { orm: "alpha" } }, { source: "lock-beta", when: { orm: "beta" } }]));
    expect(plan.unplaced).toEqual([]);
    expect(plan.targets.map((t) => [t.group, path.relative(root, t.folder), t.stored, t.exists])).toEqual([
      [{ orm: "alpha" }, "demo/lock-alpha", "app.lock.hbs", true],
      // No file and no folder yet: created, stored like the other copies (.hbs).
      [{ orm: "beta" }, "demo/lock-beta", "app.lock.hbs", false],
    ]);
  });

  it("names the variants that have no layer to hold their lock, with the layer to add", () => {
    const root = templatesOnDisk({ "demo/base/a.txt": "a", "demo/lock-alpha/app.lock": "locked" });
    const plan = planLocks(root, manifest([{ source: "base" }, { source: "lock-alpha", when: { orm: "alpha" } }]));
    expect(plan.targets.map((t) => t.group)).toEqual([{ orm: "alpha" }]);
    expect(plan.unplaced).toEqual(['orm=beta: no layer applies only to it; add { "source": "lock-beta", "when": {"orm":"beta"} } to layers']);
  });
});

// A stack whose features change the dependency file in one case (worker adds redis) and not in
// the other (ci only adds a workflow): its lock merges the features.
const FEATURES = { name: "features", message: "?", multiple: true, default: [], choices: [{ value: "ci" }, { value: "worker" }] };
function featureStack(files: Record<string, string> = {}) {
  const m = parseManifest(demoManifest({
    options: [...demoManifest().options, FEATURES],
    layers: [{ source: "base" }, { source: "lock-alpha", when: { orm: "alpha" } }, { source: "lock-beta", when: { orm: "beta" } }, { source: "feature-ci", when: { features: "ci" } }],
    lock: [{ file: "app.lock", run: ["make", "lock"], inputs: ["deps.txt"], merge: ["features"] }],
  }), "demo/template.json", "demo");
  const root = templatesOnDisk({
    "demo/base/deps.txt.hbs": 'web\n{{#if (includes options.features "worker")}}\nredis\n{{/if}}\n',
    "demo/feature-ci/ci.yml": "on: push\n",
    ...(files["demo/lock-alpha/app.lock.hbs"] ? {} : { "demo/lock-alpha/app.lock": "web 1.0\n" }),
    ...files,
  });
  return { manifest: m, root };
}

describe("merged locks: one lock per lock layer for every combination of the features", () => {
  it("plans each combination of the merged option as a case, and does not let it choose the lock", () => {
    const { manifest: m, root } = featureStack();
    expect(relevantOptions(m)).toEqual(["orm"]);
    const { targets } = planLocks(root, m);
    expect(targets.map((t) => [t.group, t.cases.map((c) => c.features)])).toEqual([
      [{ orm: "alpha" }, [[], ["ci"], ["worker"], ["ci", "worker"]]],
      [{ orm: "beta" }, [[], ["ci"], ["worker"], ["ci", "worker"]]],
    ]);
    // A merged lock is always a template, even where the other copies are plain files.
    expect(targets[1]!.stored).toBe("app.lock.hbs");
  });

  it("generates one lock per distinct dependency file: ci, which only adds a file, adds none", async () => {
    const { manifest: m, root } = featureStack();
    const [target] = planLocks(root, m).targets;
    const plan = await planLockBuild(await loadLockTemplate(root, m), target!, () => true);
    expect(plan.kept.size).toBe(0);
    expect(plan.jobs.map((j) => j.cases.map((c) => c.features))).toEqual([[[], ["ci"]], [["worker"], ["ci", "worker"]]]);
    expect(plan.jobs.map((j) => j.options.features)).toEqual([[], ["worker"]]);

    // The stored file renders each combination's lock, and lists them.
    const stored = storedLock(m, target!, new Map([
      ["features=none", "web 1.0\n"], ["features=ci", "web 1.0\n"],
      ["features=worker", `web 1.0\nredis 5.0 # ${LOCK_PROJECT_NAME}\n`], ["features=ci,worker", `web 1.0\nredis 5.0 # ${LOCK_PROJECT_NAME}\n`],
    ]));
    expect(stored.name).toBe("app.lock.hbs");
    expect(readLockRecord(stored.content)).toEqual([["features=none", "features=ci"], ["features=worker", "features=ci,worker"]]);
    expect(renderMergedLock(stored.content, { orm: "alpha", features: ["ci", "worker"] }, "my-api")).toBe("web 1.0\nredis 5.0 # my-api\n");
    expect(renderMergedLock(stored.content, { orm: "alpha", features: ["ci"] }, "my-api")).toBe("web 1.0\n");
  });

  it("with --only on a merged option, keeps the stored lock of the other combinations and generates the rest", async () => {
    const { manifest: m, root } = featureStack();
    const [first] = planLocks(root, m).targets;
    const merged = storedLock(m, first!, new Map([
      ["features=none", "web 1.0\n"], ["features=ci", "web 1.0\n"], ["features=worker", "web 1.0\nredis 4.0\n"], ["features=ci,worker", "web 1.0\nredis 4.0\n"],
    ]));
    // As if it had been made before ci,worker existed: the record lacks it.
    const again = featureStack({ "demo/lock-alpha/app.lock.hbs": merged.content.replace("; features=ci,worker", "") });
    const [target] = planLocks(again.root, again.manifest).targets;
    expect(target!.stored).toBe("app.lock.hbs");
    const onlyWorker = (o: Record<string, unknown>) => (o.features as string[]).includes("worker") && !(o.features as string[]).includes("ci");
    const plan = await planLockBuild(await loadLockTemplate(again.root, again.manifest), target!, onlyWorker);
    expect([...plan.kept]).toEqual([["features=none", "web 1.0\n"], ["features=ci", "web 1.0\n"]]);
    // worker is asked for; ci,worker is not, but the stored lock has none for it: both are made, once.
    expect(plan.jobs.map((j) => j.cases.map((c) => c.features))).toEqual([[["worker"], ["ci", "worker"]]]);
  });
});
