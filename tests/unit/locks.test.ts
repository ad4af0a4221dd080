import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/templates/manifest.js";
import { planLocks } from "../../src/templates/locks.js";
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
