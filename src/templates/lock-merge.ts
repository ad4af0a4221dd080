import Handlebars from "handlebars";
import { diffLines } from "../merge/diff.js";
import { COMPILE_OPTIONS, HELPERS } from "../render/files.js";
import { Conditions } from "./lock-conditions.js";
import { LockWriter } from "./lock-text.js";
import type { OptionSpec, OptionValues } from "./manifest.js";
import { variantName } from "./variants.js";

// One lock file for every combination of the values of `multiple` options (the features): the
// lock of each combination, merged line by line into one Handlebars file. Lines every
// combination has stay plain text; the others go in {{#if}} blocks whose condition tests the
// values with the template helpers (`includes`, `and`, `or`, `not`), as small as the
// combinations allow. Rendering the file for a combination gives back its lock, byte for byte:
// mergeLocks checks that for every one before it returns.

/** The project name `pnpm templates:lock` generates with; stored locks say `{{project.name}}` instead. */
export const LOCK_PROJECT_NAME = "svc-lock-placeholder";

/** One combination of the merged options' values, and the lock generated for it. */
export interface LockCase {
  /** The merged options' values (`{ features: ["worker"] }`). */
  readonly values: OptionValues;
  readonly text: string;
}

export interface MergeInput {
  /** The lock's file name, for the header and messages (`poetry.lock`). */
  readonly file: string;
  /** The merged options (each `multiple`): their choices are what conditions test. */
  readonly options: readonly OptionSpec[];
  /** Every combination the file covers, with its lock. Combinations not listed are never rendered (a rule refuses them). */
  readonly cases: readonly LockCase[];
  /** Text replaced by `{{project.name}}` (default LOCK_PROJECT_NAME). */
  readonly projectName?: string;
}

const HEADER = "{{!-- create-svc-app merged lock, made by pnpm templates:lock: never edit it by hand.";

/** A combination as the command line writes it: `features=ci,worker`. */
export function caseName(values: OptionValues): string {
  return variantName(values);
}

/**
 * The merged Handlebars text of a lock's cases. Throws when a case's text cannot be represented
 * (a NUL character) or, should the merge have a bug, when rendering it for a case does not give
 * back that case's text exactly: nothing half-right is ever returned.
 */
export function mergeLocks(input: MergeInput): string {
  const projectName = input.projectName ?? LOCK_PROJECT_NAME;
  if (input.cases.length === 0) throw new Error(`${input.file}: no case to merge`);
  const names = input.cases.map((c) => caseName(c.values));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`${input.file}: the case ${dup} is given twice`);
  const bad = input.cases.find((c) => c.text.includes("\0"));
  if (bad) throw new Error(`${input.file} of ${caseName(bad.values)} contains a NUL character, which a Handlebars file cannot hold`);

  // The distinct texts, the one of the combination with the fewest values first (the plain
  // project), so the others are aligned against it and against each other in turn.
  const order = input.cases.map((c, i) => ({ c, i, size: countValues(c.values) })).sort((a, b) => a.size - b.size || a.i - b.i);
  const texts: string[] = [];
  const variantOf = new Map<string, number>();
  for (const { c } of order) {
    let v = texts.indexOf(c.text);
    if (v < 0) v = texts.push(c.text) - 1;
    variantOf.set(caseName(c.values), v);
  }
  const groups = texts.map((_, v) => input.cases.filter((c) => variantOf.get(caseName(c.values)) === v));
  const entries = align(texts.map(splitLines));
  const body = emit(entries, groups, input, projectName);
  const header = [
    HEADER,
    `  It renders the ${input.file} of each combination below (one line per distinct lock); lines only`,
    "  some of them have are in {{#if}} blocks (templates/README.md, \"Lock files\").",
    ...groups.map((g) => `  - ${g.map((c) => caseName(c.values)).join("; ")}`),
    "--}}",
    "",
  ].join("\n");
  const merged = header + body;

  const render = compileLock(merged);
  for (const c of input.cases) {
    const got = render(c.values, projectName);
    if (got !== c.text) {
      const at = firstDifference(got, c.text);
      throw new Error(`internal: the merged ${input.file} renders ${caseName(c.values)} wrongly at line ${at.line} (expected ${JSON.stringify(at.expected)}, got ${JSON.stringify(at.got)}); nothing written`);
    }
  }
  return merged;
}

/**
 * One lock as a Handlebars file that renders it for any project: its Handlebars-like text
 * escaped, the project name as `{{project.name}}`. Checked like a merge.
 */
export function lockTemplate(file: string, text: string, projectName = LOCK_PROJECT_NAME): string {
  if (text.includes("\0")) throw new Error(`${file} contains a NUL character, which a Handlebars file cannot hold`);
  const out = new LockWriter(projectName);
  for (const line of splitLines(text)) out.line(line, false);
  const got = renderMergedLock(out.text, {}, projectName);
  if (got !== text) {
    const at = firstDifference(got, text);
    throw new Error(`internal: ${file} as a template renders wrongly at line ${at.line}; nothing written`);
  }
  return out.text;
}

/** Renders a merged lock (or any lock template) for one combination of the merged options. */
export function renderMergedLock(text: string, values: OptionValues, projectName = LOCK_PROJECT_NAME): string {
  return compileLock(text)(values, projectName);
}

function compileLock(text: string): (values: OptionValues, projectName: string) => string {
  const hbs = Handlebars.create();
  hbs.registerHelper(HELPERS as Record<string, Handlebars.HelperDelegate>);
  const run = hbs.compile(text, COMPILE_OPTIONS);
  return (values, projectName) => run({ project: { name: projectName }, options: values });
}

/**
 * The combinations a merged lock was made for, as in its header: one list per distinct lock,
 * each combination as the command line writes it (`features=ci,worker`). Undefined for a file
 * that is not a merged lock.
 */
export function readLockRecord(text: string): string[][] | undefined {
  if (!text.startsWith(HEADER)) return undefined;
  const end = text.indexOf("--}}");
  if (end < 0) return undefined;
  return text.slice(0, end).split("\n").flatMap((line) => {
    const m = /^ {2}- (.+)$/.exec(line);
    return m ? [m[1]!.split("; ")] : [];
  });
}

function countValues(values: OptionValues): number {
  return Object.values(values).reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0);
}

/** Lines with their terminator; a last line without one stays as it is. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A line of the merged file and the distinct locks (bits) that have it. */
interface Entry {
  readonly line: string;
  readonly mask: bigint;
}

/**
 * Every distinct text aligned into one sequence: each new text is diffed against the merged
 * lines so far; lines it shares gain its bit, the others are inserted with its bit alone. Each
 * text's lines stay in order, so picking the lines that carry a text's bit gives it back.
 */
function align(texts: readonly string[][]): Entry[] {
  let merged: Entry[] = [];
  texts.forEach((lines, v) => {
    const bit = 1n << BigInt(v);
    const next: Entry[] = [];
    let a = 0;
    const shared = (until: number) => {
      for (; a < until; a++) next.push({ line: merged[a]!.line, mask: merged[a]!.mask | bit });
    };
    for (const h of diffLines(merged.map((e) => e.line), lines)) {
      shared(h.aStart);
      for (; a < h.aEnd; a++) next.push(merged[a]!);
      for (let b = h.bStart; b < h.bEnd; b++) next.push({ line: lines[b]!, mask: bit });
    }
    shared(merged.length);
    merged = next;
  });
  slideBlocks(merged, (1n << BigInt(texts.length)) - 1n);
  // A last line without a newline goes to the very end: nothing after it belongs to the texts
  // it ends, so their order holds, and no block tag then needs a line after it.
  return [...merged.filter((e) => e.line.endsWith("\n")), ...merged.filter((e) => !e.line.endsWith("\n"))];
}

/**
 * Moves each block of lines to the place a reader expects, as diff tools do: a block whose first
 * line equals the line after it (or whose last line equals the line before it), inside lines
 * every combination it belongs to has, can shift without changing any text; it goes where it
 * ends with a blank line (a whole `[[package]]` of a TOML lock), else stays where the diff put it.
 */
function slideBlocks(entries: Entry[], full: bigint): void {
  const swap = (a: number, b: number) => {
    const m = entries[a]!.mask;
    entries[a] = { line: entries[a]!.line, mask: entries[b]!.mask };
    entries[b] = { line: entries[b]!.line, mask: m };
  };
  let i = 0;
  while (i < entries.length) {
    const mask = entries[i]!.mask;
    let end = i;
    while (end < entries.length && entries[end]!.mask === mask) end++;
    const len = end - i;
    // Only past lines that every text of this block has too (and more): then no text changes.
    const around = (at: number) => at >= 0 && at < entries.length && entries[at]!.mask !== mask && (entries[at]!.mask & mask) === mask;
    if (mask === full) {
      i = end;
      continue;
    }
    let at = i;
    while (around(at - 1) && entries[at - 1]!.line === entries[at + len - 1]!.line) swap(at - 1, at + len - 1), at--;
    const top = at;
    const blankEnd: number[] = [];
    for (;;) {
      if (entries[at + len - 1]!.line.trim() === "") blankEnd.push(at);
      if (!(around(at + len) && entries[at + len]!.line === entries[at]!.line)) break;
      swap(at, at + len);
      at++;
    }
    const goal = blankEnd.at(-1) ?? i;
    while (at > goal) swap(at - 1, at + len - 1), at--;
    i = Math.max(goal + len, top + 1, i + 1);
  }
}

/** Consecutive lines with the same mask. */
interface Run {
  readonly mask: bigint;
  readonly lines: string[];
}

function emit(entries: readonly Entry[], groups: readonly (readonly LockCase[])[], input: MergeInput, projectName: string): string {
  const full = (1n << BigInt(groups.length)) - 1n;
  const runs: Run[] = [];
  for (const e of entries) {
    const last = runs.at(-1);
    if (last && last.mask === e.mask) last.lines.push(e.line);
    else runs.push({ mask: e.mask, lines: [e.line] });
  }
  const conditions = new Conditions(input.options, groups);
  const out = new LockWriter(projectName);
  // Adjacent blocks that never show together (a line that differs between combinations) form
  // one {{#if}} ... {{else if}} ... {{else}} chain.
  let chain: Run[] = [];
  const flush = () => {
    if (chain.length === 0) return;
    const union = chain.reduce((m, r) => m | r.mask, 0n);
    // At most one block shows, so their order is free: a block ending without a newline goes
    // last (Handlebars keeps the newline of a closing tag after an inline {{else}}). When the
    // chain covers every combination, its largest block (of those that may go last) is the {{else}}.
    const ends = (r: Run) => r.lines.at(-1)!.endsWith("\n");
    const branches = [...chain.filter(ends), ...chain.filter((r) => !ends(r))];
    let otherwise: Run | undefined;
    if (union === full) {
      const last = branches.some((r) => !ends(r)) ? branches.filter((r) => !ends(r)) : branches;
      otherwise = last.reduce((best, r) => (conditions.size(r.mask) > conditions.size(best.mask) ? r : best));
      branches.splice(branches.indexOf(otherwise), 1);
    }
    let before = 0n;
    branches.forEach((r, i) => {
      out.tag(`{{${i === 0 ? "#if" : "else if"} ${conditions.of(r.mask, before)}}}`);
      for (const line of r.lines) out.line(line, true);
      before |= r.mask;
    });
    if (otherwise) {
      out.tag("{{else}}");
      for (const line of otherwise.lines) out.line(line, true);
    }
    out.tag("{{/if}}");
    chain = [];
  };
  for (const run of runs) {
    if (run.mask === full) {
      flush();
      for (const line of run.lines) out.line(line, false);
      continue;
    }
    if ((chain.reduce((m, r) => m | r.mask, 0n) & run.mask) !== 0n) flush();
    chain.push(run);
  }
  flush();
  return out.text;
}

function firstDifference(got: string, expected: string): { line: number; got: string; expected: string } {
  const a = got.split("\n");
  const b = expected.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return { line: i + 1, got: a[i] ?? "(end)", expected: b[i] ?? "(end)" };
}
