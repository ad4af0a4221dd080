export { diffLines, type Hunk } from "./diff.js";
export { isBinary, merge3, splitLines, type MergeOptions, type MergeResult } from "./merge3.js";
