import { describe, expect, it } from "vitest";
import { diffLines, isBinary, merge3, splitLines } from "../../src/merge/index.js";

const lines = (...xs: string[]) => xs.map((x) => `${x}\n`).join("");
const labels = { ours: "ours", base: "base", theirs: "theirs" };

/** Applies the hunks of diffLines(a, b) to a: must give b back. */
function applyHunks(a: string[], b: string[]): string[] {
  const out: string[] = [];
  let pos = 0;
  for (const h of diffLines(a, b)) {
    out.push(...a.slice(pos, h.aStart), ...b.slice(h.bStart, h.bEnd));
    pos = h.aEnd;
  }
  return [...out, ...a.slice(pos)];
}

/** A deterministic pseudo-random generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("diffLines", () => {
  it("finds a shortest edit: one changed line in the middle is one hunk", () => {
    expect(diffLines(["a", "b", "c"], ["a", "x", "c"])).toEqual([{ aStart: 1, aEnd: 2, bStart: 1, bEnd: 2 }]);
    expect(diffLines(["a", "b"], ["a", "b"])).toEqual([]);
    expect(diffLines([], ["a"])).toEqual([{ aStart: 0, aEnd: 0, bStart: 0, bEnd: 1 }]);
  });

  it("turns a into b for 500 random pairs of line lists", () => {
    const random = rng(7);
    for (let round = 0; round < 500; round++) {
      const pick = () => Array.from({ length: Math.floor(random() * 12) }, () => "abcd"[Math.floor(random() * 4)]!);
      const a = pick();
      const b = pick();
      expect(applyHunks(a, b), `${a.join("")} -> ${b.join("")}`).toEqual(b);
    }
  });
});

describe("merge3", () => {
  const base = lines("one", "two", "three", "four", "five", "six", "seven");

  it("takes the side that changed when the other did not", () => {
    const ours = lines("one", "two", "THREE", "four", "five", "six", "seven");
    expect(merge3(base, ours, base)).toEqual({ text: ours, conflicts: 0 });
    expect(merge3(base, base, ours)).toEqual({ text: ours, conflicts: 0 });
  });

  it("merges changes to different lines from both sides", () => {
    const ours = lines("ONE", "two", "three", "four", "five", "six", "seven");
    const theirs = lines("one", "two", "three", "four", "five", "six", "SEVEN", "eight");
    expect(merge3(base, ours, theirs)).toEqual({ text: lines("ONE", "two", "three", "four", "five", "six", "SEVEN", "eight"), conflicts: 0 });
  });

  it("takes the same change made on both sides once", () => {
    const both = lines("one", "2", "three", "four", "five", "six", "seven", "added");
    const theirs = lines("one", "2", "three", "four", "FIVE", "six", "seven", "added");
    expect(merge3(base, both, theirs)).toEqual({ text: theirs, conflicts: 0 });
  });

  it("writes conflict markers where both sides changed the same lines, keeping lines they agree on outside", () => {
    const ours = lines("one", "two", "3 ours", "four", "five", "six", "seven");
    const theirs = lines("one", "two", "3 theirs", "four", "five", "six", "SEVEN");
    const r = merge3(base, ours, theirs, { labels });
    expect(r.conflicts).toBe(1);
    expect(r.text).toBe(lines("one", "two", "<<<<<<< ours", "3 ours", "=======", "3 theirs", ">>>>>>> theirs", "four", "five", "six", "SEVEN"));
  });

  it("shows the base between ||||||| and ======= with diff3", () => {
    const r = merge3(base, lines("one", "2a", "three", "four", "five", "six", "seven"), lines("one", "2b", "three", "four", "five", "six", "seven"), { diff3: true, labels });
    expect(r.text).toBe(lines("one", "<<<<<<< ours", "2a", "||||||| base", "two", "=======", "2b", ">>>>>>> theirs", "three", "four", "five", "six", "seven"));
  });

  it("treats edits to adjacent lines as a conflict, as git does", () => {
    const r = merge3(base, lines("one", "TWO", "three", "four", "five", "six", "seven"), lines("one", "two", "THREE", "four", "five", "six", "seven"));
    expect(r.conflicts).toBe(1);
  });

  it("a conflict on a last line without a newline still puts each marker on its own line", () => {
    const r = merge3("a\nb", "a\nours", "a\ntheirs", { labels });
    expect(r).toEqual({ text: "a\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\n", conflicts: 1 });
  });

  it("keeps CRLF line endings", () => {
    const r = merge3("a\r\nb\r\nc\r\n", "A\r\nb\r\nc\r\n", "a\r\nb\r\nC\r\n");
    expect(r).toEqual({ text: "A\r\nb\r\nC\r\n", conflicts: 0 });
  });

  it("insertions at the same place that differ conflict; both added from nothing is a whole-file conflict", () => {
    expect(merge3(lines("a", "b"), lines("a", "x", "b"), lines("a", "y", "b")).conflicts).toBe(1);
    expect(merge3("", lines("mine"), lines("yours"), { labels }).text).toBe(lines("<<<<<<< ours", "mine", "=======", "yours", ">>>>>>> theirs"));
  });

  it("for 300 random non-overlapping edit pairs, merges cleanly and contains both edits", () => {
    const random = rng(42);
    for (let round = 0; round < 300; round++) {
      const o = Array.from({ length: 10 + Math.floor(random() * 10) }, (_, k) => `line ${k}\n`);
      // ours edits in the first half, theirs in the second, with an untouched line between.
      const cut = Math.floor(o.length / 2);
      const edit = (xs: string[], from: number, to: number, tag: string) => {
        const at = from + Math.floor(random() * (to - from));
        const copy = [...xs];
        const kind = Math.floor(random() * 3);
        if (kind === 0) copy.splice(at, 1, `${tag}\n`);
        else if (kind === 1) copy.splice(at, 0, `${tag}\n`);
        else copy.splice(at, 1);
        return copy;
      };
      const a = edit(o, 0, cut - 1, "ours");
      const b = edit(o, cut + 1, o.length, "theirs");
      const r = merge3(o.join(""), a.join(""), b.join(""));
      expect(r.conflicts, `round ${round}`).toBe(0);
      // The merge is ours' first half followed by theirs' second half.
      const expected = [...a.slice(0, a.length - (o.length - cut)), ...b.slice(cut)];
      expect(splitLines(r.text)).toEqual(expected);
    }
  });
});

describe("isBinary", () => {
  it("a NUL byte makes a file binary", () => {
    expect(isBinary(Buffer.from("text\n"))).toBe(false);
    expect(isBinary(Buffer.from([0x89, 0x50, 0x00, 0x47]))).toBe(true);
  });
});

describe("diffLines on large inputs", () => {
  it("finds exactly the few edits in 20 000 lines (a hang would hit the test timeout; speed is not asserted here)", () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b.splice(5_000, 1, "changed");
    b.splice(15_000, 0, "inserted");
    expect(applyHunks(a, b)).toEqual(b);
    expect(diffLines(a, b)).toHaveLength(2);
  });

  it("past 2000 differing lines gives one replaced region instead of a huge trace", () => {
    const a = Array.from({ length: 3_000 }, (_, i) => `a ${i}`);
    const b = Array.from({ length: 3_000 }, (_, i) => `b ${i}`);
    expect(diffLines(["same", ...a, "end"], ["same", ...b, "end"])).toEqual([{ aStart: 1, aEnd: 3_001, bStart: 1, bEnd: 3_001 }]);
  });
});
