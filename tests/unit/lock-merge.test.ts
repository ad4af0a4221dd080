import Handlebars from "handlebars/runtime";
import HandlebarsCompiler from "handlebars";
import { describe, expect, it } from "vitest";
import { COMPILE_OPTIONS, HELPERS } from "../../src/render/files.js";
import { minimize } from "../../src/templates/lock-conditions.js";
import { LOCK_PROJECT_NAME, mergeLocks, readLockRecord, renderMergedLock, type LockCase } from "../../src/templates/lock-merge.js";
import type { OptionSpec, OptionValues } from "../../src/templates/manifest.js";
import { valuesOf } from "../../src/templates/variants.js";

const features = (...values: string[]): OptionSpec => ({
  name: "features", message: "?", description: "d", multiple: true, default: [],
  choices: values.map((value) => ({ value, label: value })),
});

/** A deterministic pseudo-random generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** What a scaffold does with the file: the templates pack precompiles it, the runtime runs it. */
function precompiled(text: string): (values: OptionValues, name: string) => string {
  const spec = HandlebarsCompiler.precompile(text, COMPILE_OPTIONS) as unknown as string;
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS as Record<string, Handlebars.HelperDelegate>);
  const run = hbs.template(new Function(`return ${spec};`)());
  return (values, name) => run({ project: { name }, options: values });
}

/** Merges the cases and checks, independently of the merge's own check, that each case renders back. */
function roundTrip(option: OptionSpec, cases: LockCase[], name = LOCK_PROJECT_NAME): string {
  const merged = mergeLocks({ file: "demo.lock", options: [option], cases });
  const scaffold = precompiled(merged);
  for (const c of cases) {
    const want = c.text.split(LOCK_PROJECT_NAME).join(name);
    expect(scaffold(c.values, name), `${JSON.stringify(c.values)} of\n${merged}`).toBe(want);
  }
  // The API templates check and pnpm templates:lock use (it compiles), on one case.
  expect(renderMergedLock(merged, cases.at(-1)!.values, name)).toBe(cases.at(-1)!.text.split(LOCK_PROJECT_NAME).join(name));
  return merged;
}

const subsets = (option: OptionSpec) => valuesOf(option).map((v) => ({ [option.name]: v }));
const has = (values: OptionValues, v: string) => (values.features as readonly string[]).includes(v);
/** The {{#if}} conditions of a merged file, in order. */
const conditions = (merged: string) => [...merged.matchAll(/\{\{(?:#if|else if) (.*?)\}\}\n/g)].map((m) => m[1]);

// Lines a lock could hold, and the ones a Handlebars file must escape or keep apart from a tag.
const TRICKY = ["{{", "}}", "{", "}", "\\", "\\\\", "{{{", "\\{{x}}", "${{ github.ref }}", " ", "\t", "", LOCK_PROJECT_NAME, "\\" + LOCK_PROJECT_NAME, "~", "{{!--", "--}}", "else", "{{/if}}", "\r"];

describe("mergeLocks: one Handlebars lock for every combination of the features", () => {
  it("renders each of 300 random sets of texts back exactly, compiled and precompiled", { timeout: 60_000 }, () => {
    const random = rng(11);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    // Half the rounds join whole tricky words, half single characters that Handlebars reads.
    const CHARS = ["{", "}", "\\", " ", "\t", "!", "-", "~", "#", "/", ">", "&", "^", '"', "=", "a", "else", LOCK_PROJECT_NAME, "\r", "{{", "}}"];
    let round = 0;
    const word = () => round % 2
      ? Array.from({ length: Math.floor(random() * 7) }, () => pick(CHARS)).join("")
      : Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.5 ? pick(TRICKY) : pick(["a", "b", "c", "pkg = 1", '"x": {']))).join("");
    for (; round < 300; round++) {
      const option = features(...["ci", "worker", "metrics", "otel"].slice(0, 1 + Math.floor(random() * 4)));
      const base = Array.from({ length: Math.floor(random() * 10) }, word);
      // Each feature adds, drops or changes a few lines at random places; some texts lose the final newline.
      const edits = new Map(option.choices.map((c) => [c.value, Array.from({ length: Math.floor(random() * 3) }, () => ({ at: random(), kind: pick(["add", "drop", "change"]), line: word() }))]));
      const cases = subsets(option).map((values) => {
        let lines = [...base];
        for (const v of values.features as string[]) {
          for (const e of edits.get(v)!) {
            const i = Math.floor(e.at * (lines.length + 1));
            if (e.kind === "add") lines.splice(i, 0, e.line);
            else if (e.kind === "drop") lines.splice(i, 1);
            else lines[i] = e.line;
          }
        }
        const text = lines.map((l) => `${l}\n`).join("");
        return { values, text: random() < 0.3 ? text.replace(/\n$/, "") : text };
      });
      roundTrip(option, cases);
    }
  });

  it("keeps repeated lines, reordered blocks, an empty lock and identical locks apart correctly", () => {
    const option = features("ci", "worker", "metrics");
    const block = (name: string, n = 3) => Array.from({ length: n }, (_, i) => `[${name}]\nline ${i}\n`).join("");
    const cases = subsets(option).map((values) => {
      if ((values.features as string[]).length === 0) return { values, text: "" };
      let text = has(values, "worker") ? block("b") + block("a") : block("a") + block("b");
      if (has(values, "metrics")) text = "x\n".repeat(5) + text + "x\n".repeat(2);
      else text = "x\n".repeat(2) + text;
      return { values, text };
    });
    roundTrip(option, cases);
    // Every combination the same: plain text, no block at all.
    const same = roundTrip(option, subsets(option).map((values) => ({ values, text: "a\nb {{ c }}\n" })));
    expect(conditions(same)).toEqual([]);
    expect(same.endsWith("--}}\na\nb \\{{ c }}\n")).toBe(true);
  });

  it("keeps a TOML package whole in its block, as a reader expects it", () => {
    const option = features("worker");
    const pkg = (name: string) => `[[package]]\nname = "${name}"\nversion = "1.0"\n\n`;
    const merged = roundTrip(option, [
      { values: { features: [] }, text: pkg("alembic") + pkg("zope") },
      { values: { features: ["worker"] }, text: pkg("alembic") + pkg("redis") + pkg("zope") },
    ]);
    expect(merged).toContain(`version = "1.0"\n\n{{#if (includes options.features "worker")}}\n${pkg("redis")}{{/if}}\n[[package]]\nname = "zope"`);
  });

  it("escapes Handlebars in the lock text and puts {{project.name}} where the name was", () => {
    const option = features("worker");
    const merged = roundTrip(option, [
      { values: { features: [] }, text: `name = "${LOCK_PROJECT_NAME}"\nexpr = "\${{ x }}"\npath = "C:\\\\{{dir}}"\n` },
      { values: { features: ["worker"] }, text: `name = "${LOCK_PROJECT_NAME}"\nexpr = "\${{ x }}"\nworker = "{{"\n` },
    ], "my-api");
    expect(merged).toContain('name = "{{project.name}}"\n');
    expect(merged).toContain('expr = "$\\{{ x }}"\n');
  });

  it("tests one feature with a single includes when the lines belong exactly to the combinations with it", () => {
    const option = features("ci", "worker", "metrics");
    const cases = subsets(option).map((values) => ({
      values,
      text: ["head\n", ...(has(values, "worker") ? ["redis\n"] : []), ...(has(values, "metrics") ? ["prometheus-client\n"] : []), "tail\n"].join(""),
    }));
    const merged = roundTrip(option, cases);
    expect(conditions(merged)).toEqual(['(includes options.features "worker")', '(includes options.features "metrics")']);
    // ci changes nothing: the four locks are those of none, worker, metrics, both.
    expect(readLockRecord(merged)).toEqual([
      ["features=none", "features=ci"],
      ["features=worker", "features=ci,worker"],
      ["features=metrics", "features=ci,metrics"],
      ["features=worker,metrics", "features=ci,worker,metrics"],
    ]);
  });

  it("tests an exact combination when only it has the lines, and chains a line that differs in each", () => {
    const option = features("worker", "metrics", "otel");
    const cases = subsets(option).map((values) => ({
      values,
      text: `content-hash = "${(values.features as string[]).join("+") || "plain"}"\nmiddle\n${has(values, "worker") && has(values, "otel") && !has(values, "metrics") ? "only worker and otel\n" : ""}end\n`,
    }));
    const merged = roundTrip(option, cases);
    const conds = conditions(merged);
    // Eight alternatives of one line: one chain, seven conditions and an {{else}}.
    expect(merged.match(/\{\{else\}\}\n/g)).toHaveLength(1);
    expect(conds).toContain('(and (includes options.features "worker") (not (includes options.features "metrics")) (includes options.features "otel"))');
  });

  it("reports no record for a plain lock, and refuses a text Handlebars cannot hold", () => {
    expect(readLockRecord("# plain lock\n")).toBeUndefined();
    expect(() => mergeLocks({ file: "demo.lock", options: [features("worker")], cases: [{ values: { features: [] }, text: "a\0b\n" }, { values: { features: ["worker"] }, text: "a\n" }] })).toThrow(/NUL/);
  });
});

describe("minimize", () => {
  it("finds the smallest sum of products, using the don't-cares", () => {
    // Three atoms; on when atom 1 is set, whatever the others: one literal.
    expect(minimize(3, [2, 3, 6, 7], [0, 1, 4, 5])).toEqual([{ value: 2, care: 2 }]);
    // Exactly 101: every literal.
    expect(minimize(3, [5], [0, 1, 2, 3, 4, 6, 7])).toEqual([{ value: 5, care: 7 }]);
    // 1xx or x1x with 000 off and the rest unknown: two one-literal terms.
    expect(minimize(3, [1, 2], [0])).toHaveLength(2);
  });
});
