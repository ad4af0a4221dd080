/** A region where `a[aStart, aEnd)` was replaced by `b[bStart, bEnd)` (either side may be empty). */
export interface Hunk {
  readonly aStart: number;
  readonly aEnd: number;
  readonly bStart: number;
  readonly bEnd: number;
}

/**
 * Past this many differing lines two versions have little in common, and the trace kept for the
 * backtrack (it grows with the square of it, ~16 MB here) is not worth it: the whole differing
 * middle becomes one replaced region, which a merge shows as one conflict.
 */
const MAX_EDITS = 2000;

/**
 * The hunks that turn `a` into `b`, in order, from a shortest edit script (Myers, "An O(ND)
 * Difference Algorithm", 1986). Equal leading and trailing lines are stripped first, which is
 * where almost all of a template file's lines are.
 */
export function diffLines(a: readonly string[], b: readonly string[]): Hunk[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  const whole = [{ aStart: head, aEnd: head + n, bStart: head, bEnd: head + m }];
  if (n === 0 && m === 0) return [];
  if (n === 0 || m === 0) return whole;

  // Forward pass: v[k] is the furthest x reached on diagonal k = x - y. Before step d, the
  // diagonals -d..d are kept, which is all the backtrack reads.
  const offset = MAX_EDITS + 1;
  const v = new Int32Array(2 * MAX_EDITS + 3);
  const trace: Int32Array[] = [];
  const furthest = (at: Int32Array, base: number, k: number, d: number) =>
    k === -d || (k !== d && at[base + k - 1]! < at[base + k + 1]!) ? { x: at[base + k + 1]!, down: true } : { x: at[base + k - 1]! + 1, down: false };
  let found = false;
  for (let d = 0; d <= Math.min(MAX_EDITS, n + m) && !found; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let { x } = furthest(v, offset, k, d);
      let y = x - k;
      while (x < n && y < m && a[head + x] === b[head + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) return whole;

  // Backtrack from (n, m) to (0, 0), marking which lines of a were deleted and of b inserted.
  const deleted = new Uint8Array(n);
  const inserted = new Uint8Array(m);
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    // Where step d's snake (its run of equal lines) started on this diagonal, and how step d got there.
    const k = x - y;
    const { x: startX, down } = furthest(trace[d]!, d, k, d);
    while (x > startX) {
      x--;
      y--;
    }
    if (down) inserted[--y] = 1;
    else deleted[--x] = 1;
  }

  // Group the marks into hunks, walking both sides in step over the equal lines.
  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && !deleted[i] && !inserted[j]) {
      i++;
      j++;
      continue;
    }
    const aStart = i;
    const bStart = j;
    while (i < n && deleted[i]) i++;
    while (j < m && inserted[j]) j++;
    hunks.push({ aStart: head + aStart, aEnd: head + i, bStart: head + bStart, bEnd: head + j });
  }
  return hunks;
}
