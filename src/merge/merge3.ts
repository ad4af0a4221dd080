import { diffLines, type Hunk } from "./diff.js";

export interface MergeOptions {
  /** Also show the base between `|||||||` and `=======` in conflict markers (git's diff3 style). */
  readonly diff3?: boolean;
  /** Names after the markers, e.g. "ours (your project)". */
  readonly labels?: { readonly ours: string; readonly base: string; readonly theirs: string };
}

export interface MergeResult {
  /** The merged text, with conflict markers where both sides changed the same lines. */
  readonly text: string;
  /** How many conflict regions the text holds (0: a clean merge). */
  readonly conflicts: number;
}

const DEFAULT_LABELS = { ours: "ours", base: "base", theirs: "theirs" };

/**
 * Three-way merge of texts, line by line: a change made on one side only is taken; the same
 * change on both sides is taken once; different changes to the same or adjacent lines of the
 * base are a conflict, written between the usual `<<<<<<<` / `=======` / `>>>>>>>` markers.
 * Pure: no IO. Line endings are part of the lines, so CRLF files merge as they are.
 */
export function merge3(base: string, ours: string, theirs: string, options: MergeOptions = {}): MergeResult {
  if (ours === theirs) return { text: ours, conflicts: 0 };
  if (base === ours) return { text: theirs, conflicts: 0 };
  if (base === theirs) return { text: ours, conflicts: 0 };
  const labels = options.labels ?? DEFAULT_LABELS;
  const o = splitLines(base);
  const a = splitLines(ours);
  const b = splitLines(theirs);
  const changes = [
    ...diffLines(o, a).map((h) => ({ side: "ours" as const, h })),
    ...diffLines(o, b).map((h) => ({ side: "theirs" as const, h })),
  ].sort((x, y) => x.h.aStart - y.h.aStart || x.h.aEnd - y.h.aEnd);

  const out: string[] = [];
  let conflicts = 0;
  let pos = 0; // next base line not yet written
  let i = 0;
  while (i < changes.length) {
    // A group: changes whose base ranges overlap or touch (touching edits conflict, as in git).
    const group = [changes[i]!];
    let lo = changes[i]!.h.aStart;
    let hi = changes[i]!.h.aEnd;
    for (i++; i < changes.length && changes[i]!.h.aStart <= hi; i++) {
      group.push(changes[i]!);
      hi = Math.max(hi, changes[i]!.h.aEnd);
    }
    lo = Math.min(lo, ...group.map((c) => c.h.aStart));
    out.push(...o.slice(pos, lo));
    pos = hi;
    const oursLines = side(group.filter((c) => c.side === "ours").map((c) => c.h), a, o, lo, hi);
    const theirsLines = side(group.filter((c) => c.side === "theirs").map((c) => c.h), b, o, lo, hi);
    const oursChanged = group.some((c) => c.side === "ours");
    const theirsChanged = group.some((c) => c.side === "theirs");
    if (!theirsChanged || (oursChanged && same(oursLines, theirsLines))) {
      out.push(...oursLines);
    } else if (!oursChanged) {
      out.push(...theirsLines);
    } else {
      conflicts++;
      out.push(...conflict(oursLines, o.slice(lo, hi), theirsLines, labels, Boolean(options.diff3)));
    }
  }
  out.push(...o.slice(pos));
  return { text: out.join(""), conflicts };
}

/** A side's lines for base range [lo, hi): its hunks inside, the base lines between them. */
function side(hunks: readonly Hunk[], lines: readonly string[], base: readonly string[], lo: number, hi: number): string[] {
  if (hunks.length === 0) return base.slice(lo, hi);
  const first = hunks[0]!;
  const last = hunks[hunks.length - 1]!;
  // Outside its own hunks a side equals the base, so the offsets at both ends carry over.
  return lines.slice(first.bStart - (first.aStart - lo), last.bEnd + (hi - last.aEnd));
}

function conflict(ours: string[], base: string[], theirs: string[], labels: NonNullable<MergeOptions["labels"]>, diff3: boolean): string[] {
  // Lines both sides agree on at the edges are not part of the conflict (git's "zealous" merge);
  // with the base shown, the region stays whole so that the three parts line up.
  let head = 0;
  let tail = 0;
  if (!diff3) {
    while (head < ours.length && head < theirs.length && ours[head] === theirs[head]) head++;
    while (tail < ours.length - head && tail < theirs.length - head && ours[ours.length - 1 - tail] === theirs[theirs.length - 1 - tail]) tail++;
  }
  const mid = (lines: string[]) => terminate(lines.slice(head, lines.length - tail));
  return [
    ...ours.slice(0, head),
    `<<<<<<< ${labels.ours}\n`,
    ...mid(ours),
    ...(diff3 ? [`||||||| ${labels.base}\n`, ...terminate(base)] : []),
    "=======\n",
    ...mid(theirs),
    `>>>>>>> ${labels.theirs}\n`,
    ...ours.slice(ours.length - tail),
  ];
}

/** A marker must start a line: a last line without its newline gets one inside a conflict. */
function terminate(lines: string[]): string[] {
  if (lines.length === 0 || lines[lines.length - 1]!.endsWith("\n")) return lines;
  return [...lines.slice(0, -1), `${lines[lines.length - 1]}\n`];
}

function same(x: readonly string[], y: readonly string[]): boolean {
  return x.length === y.length && x.every((line, k) => line === y[k]);
}

/** Lines with their endings kept ("a\n", "b"), so joining them gives the text back exactly. */
export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === "" ? [] : lines;
}

/** Text files merge line by line; a NUL byte in the first 8 KiB means binary (as git decides). */
export function isBinary(content: Uint8Array): boolean {
  return content.subarray(0, 8000).includes(0);
}
