// Loaded with `node --import` into each measured process: on exit it appends the process's peak
// resident memory (KiB) to $BENCH_PROBE_OUT, so the parent can compare like with like.
import { appendFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.BENCH_PROBE_OUT) appendFileSync(process.env.BENCH_PROBE_OUT, `${process.resourceUsage().maxRSS}\n`);
});
