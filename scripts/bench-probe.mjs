// Loaded with `node --import` into each measured process where GNU time is missing: on exit it
// appends the process's peak resident memory (KiB) and CPU seconds (user, system) to
// $BENCH_PROBE_OUT, as GNU time's "%M %U %S" would.
import { appendFileSync } from "node:fs";

process.on("exit", () => {
  const r = process.resourceUsage();
  if (process.env.BENCH_PROBE_OUT) appendFileSync(process.env.BENCH_PROBE_OUT, `${r.maxRSS} ${r.userCPUTime / 1e6} ${r.systemCPUTime / 1e6}\n`);
});
