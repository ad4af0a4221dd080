import type { OptionSpec, OptionValues } from "./manifest.js";

// The {{#if}} conditions of a merged lock's blocks (used by lock-merge.ts).

/**
 * The conditions of the blocks: each combination is a set of true atoms (`worker` is among the
 * features), and a block's condition is a smallest sum of products over them (Quine-McCluskey
 * with the combinations no case has, and those an earlier branch of the chain took, as
 * don't-cares), written with the template helpers.
 */
export class Conditions {
  private readonly atoms: { option: string; value: string }[];
  /** Each distinct lock's combinations, as bit sets over the atoms. */
  private readonly minterms: number[][];

  constructor(options: readonly OptionSpec[], groups: readonly (readonly { readonly values: OptionValues }[])[]) {
    this.atoms = options.flatMap((o) => o.choices.map((c) => ({ option: o.name, value: c.value })));
    this.minterms = groups.map((g) => g.map((c) => this.minterm(c.values)));
  }

  /** How many combinations the locks in mask stand for. */
  size(mask: bigint): number {
    return this.casesOf(mask).length;
  }

  /** The condition true for the combinations of mask, given those of `taken` never get here. */
  of(mask: bigint, taken: bigint): string {
    const on = this.casesOf(mask);
    const off = this.casesOf(~mask & ~taken);
    const cover = minimize(this.atoms.length, on, off);
    const terms = cover.map((t) => this.term(t));
    return terms.length === 1 ? terms[0]! : `(or ${terms.join(" ")})`;
  }

  private casesOf(mask: bigint): number[] {
    return this.minterms.flatMap((ms, v) => ((mask >> BigInt(v)) & 1n ? ms : []));
  }

  private minterm(values: OptionValues): number {
    return this.atoms.reduce((m, a, i) => {
      const v = values[a.option];
      return (Array.isArray(v) ? v.includes(a.value) : v === a.value) ? m | (1 << i) : m;
    }, 0);
  }

  private term({ value, care }: Implicant): string {
    const literals = this.atoms.flatMap((a, i) => {
      if (!(care & (1 << i))) return [];
      const test = `(includes options.${a.option} ${JSON.stringify(a.value)})`;
      return [value & (1 << i) ? test : `(not ${test})`];
    });
    // An empty product (always true) needs an empty off-set, which no block has.
    if (literals.length === 0) return "true";
    return literals.length === 1 ? literals[0]! : `(and ${literals.join(" ")})`;
  }
}

/** A product of literals: the atoms set in `care`, each true or false as its bit in `value`. */
interface Implicant {
  readonly value: number;
  readonly care: number;
}

/**
 * A small cover of `on` that avoids `off` (everything else is a don't-care): the prime
 * implicants, the essential ones first, then greedily the one covering most per literal.
 * With more than 12 atoms, one product per combination (exact, not minimal).
 */
export function minimize(n: number, on: readonly number[], off: readonly number[]): Implicant[] {
  const everything = (1 << n) - 1;
  if (n > 12) return [...new Set(on)].map((m) => ({ value: m, care: everything }));
  const offSet = new Set(off);
  const allowed = Array.from({ length: 1 << n }, (_, m) => m).filter((m) => !offSet.has(m));
  // Prime implicants by merging pairs that differ in one cared-for bit.
  let current = new Map(allowed.map((m) => [`${everything}:${m}`, { value: m, care: everything }]));
  const primes: Implicant[] = [];
  while (current.size > 0) {
    const next = new Map<string, Implicant>();
    const merged = new Set<string>();
    const byCare = new Map<number, Implicant[]>();
    for (const imp of current.values()) byCare.set(imp.care, [...(byCare.get(imp.care) ?? []), imp]);
    for (const [care, imps] of byCare) {
      const values = new Set(imps.map((i) => i.value));
      for (const imp of imps) {
        for (let bit = 0; bit < n; bit++) {
          const b = 1 << bit;
          if (!(care & b) || imp.value & b || !values.has(imp.value | b)) continue;
          const joined = { value: imp.value & ~b, care: care & ~b };
          next.set(`${joined.care}:${joined.value}`, joined);
          merged.add(`${care}:${imp.value}`);
          merged.add(`${care}:${imp.value | b}`);
        }
      }
    }
    for (const [key, imp] of current) if (!merged.has(key)) primes.push(imp);
    current = next;
  }
  const covers = (imp: Implicant, m: number) => (m & imp.care) === imp.value;
  const literals = (imp: Implicant) => popcount(imp.care);
  let left = [...new Set(on)];
  const chosen: Implicant[] = [];
  const take = (imp: Implicant) => {
    chosen.push(imp);
    left = left.filter((m) => !covers(imp, m));
  };
  for (const m of [...left]) {
    if (!left.includes(m)) continue;
    const only = primes.filter((p) => covers(p, m));
    if (only.length === 1) take(only[0]!);
  }
  while (left.length > 0) {
    const best = primes.reduce((a, b) => {
      const ca = left.filter((m) => covers(a, m)).length;
      const cb = left.filter((m) => covers(b, m)).length;
      return cb * (literals(a) + 1) > ca * (literals(b) + 1) || (cb * (literals(a) + 1) === ca * (literals(b) + 1) && literals(b) < literals(a)) ? b : a;
    });
    take(best);
  }
  return chosen;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}
