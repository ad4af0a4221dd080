// pnpm bench: how much a scaffold costs compared with starting Node at all.
// Runs a bare `node -e 0` and `create-svc-app <dir> --yes --no-install --no-git` for each stack,
// alternately, N times, and reports medians and the ratios to the bare start, in the same run
// on the same machine, so the numbers travel between machines better than absolute times.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin", "create-svc-app.js");
const probe = path.join(root, "scripts", "bench-probe.mjs");
const runs = Number(process.env.BENCH_RUNS ?? 15);
const work = mkdtempSync(path.join(tmpdir(), "svc-bench-"));
const out = path.join(work, "rss.txt");

function measure(args) {
  writeFileSync(out, "");
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", probe, ...args], { cwd: work, env: { ...process.env, CI: "true", BENCH_PROBE_OUT: out }, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return { ms, rssKiB: Number(readFileSync(out, "utf8").trim()) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Every stack the CLI offers (from its --help), or those named in BENCH_STACKS=a,b.
const stacks = (process.env.BENCH_STACKS ?? spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" }).stdout.match(/--stack <name>\s+stack: (.*)/)[1])
  .split(",").map((s) => s.replace("(default)", "").trim());

const rows = [];
const baseline = { ms: [], rss: [] };
const per = Object.fromEntries(stacks.map((s) => [s, { ms: [], rss: [] }]));
for (let i = 0; i < runs; i++) {
  const b = measure(["-e", "0"]);
  baseline.ms.push(b.ms);
  baseline.rss.push(b.rssKiB);
  for (const stack of stacks) {
    const dir = `p${i}-${stack}`;
    const m = measure([cli, dir, "--yes", "--no-install", "--no-git", "--stack", stack]);
    per[stack].ms.push(m.ms);
    per[stack].rss.push(m.rssKiB);
    rmSync(path.join(work, dir), { recursive: true, force: true });
  }
}
const bMs = median(baseline.ms);
const bRss = median(baseline.rss);
rows.push(["node -e 0", bMs, bRss, 1, 1]);
for (const stack of stacks) {
  const ms = median(per[stack].ms);
  const rss = median(per[stack].rss);
  rows.push([`scaffold ${stack}`, ms, rss, ms / bMs, rss / bRss]);
}
rmSync(work, { recursive: true, force: true });

console.log(`create-svc-app bench: ${runs} runs each, medians (Node ${process.version}, ${process.platform}/${process.arch})`);
console.log(`${"".padEnd(20)} ${"wall ms".padStart(9)} ${"peak RSS MiB".padStart(13)} ${"time x".padStart(7)} ${"mem x".padStart(6)}`);
for (const [name, ms, rss, tr, mr] of rows) {
  console.log(`${name.padEnd(20)} ${ms.toFixed(0).padStart(9)} ${(rss / 1024).toFixed(1).padStart(13)} ${tr.toFixed(2).padStart(7)} ${mr.toFixed(2).padStart(6)}`);
}
