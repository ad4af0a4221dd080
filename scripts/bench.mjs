// pnpm bench: how much a scaffold costs compared with starting Node at all, and with create-vite.
// Runs, interleaved (one of each per round, so a busy moment hits them all alike): a bare
// `node -e 0`, create-vite (pinned in devDependencies, run from node_modules) writing its
// react-ts template, and `create-svc-app <dir> --yes --no-install --no-git` for each stack.
// Prints the medians of wall time, CPU time and peak memory with their ratios to `node -e 0`,
// and the instructions each command executes, counted by valgrind: on a shared machine wall time
// is mostly the neighbours' load, while the count moves by a percent or so from run to run.
// Writes the table to docs/bench.md (the README quotes it between its bench markers, refreshed
// here).
// BENCH_RUNS=n sets the timed rounds (default 15); BENCH_COUNT_RUNS=n the counted ones (default 3,
// 0 to skip; each takes seconds under valgrind); BENCH_STACKS=a,b the stacks (default: all).
// The measured processes run without NODE_EXTRA_CA_CERTS: Node reads and parses that bundle at
// every start, before any script (on this project's machines, the whole system bundle: ~35 ms and
// five times the instructions of a bare start), which would hide what the commands themselves
// cost; one extra row shows a bare start with it. BENCH_KEEP_ENV=1 keeps it in every row.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin", "create-svc-app.js");
const probe = path.join(root, "scripts", "bench-probe.mjs");
const runs = Number(process.env.BENCH_RUNS ?? 15);
const countRuns = Number(process.env.BENCH_COUNT_RUNS ?? 3);
const work = mkdtempSync(path.join(tmpdir(), "svc-bench-"));
const rssFile = path.join(work, "rss.txt");
const vitePkg = createRequire(import.meta.url)("create-vite/package.json");
const vite = path.join(root, "node_modules", "create-vite", vitePkg.bin["create-vite"]);

const keepEnv = process.env.BENCH_KEEP_ENV === "1";
const extraCa = process.env.NODE_EXTRA_CA_CERTS;
const env = { ...process.env, CI: "true", BENCH_PROBE_OUT: rssFile };
if (!keepEnv) delete env.NODE_EXTRA_CA_CERTS;

// Peak memory and CPU time without loading anything into the process measured (a preload would
// cost the bare `node -e 0` most): GNU time's where it exists, else our preload's.
const gnuTime = ["/usr/bin/time", "/bin/time"].find((t) => existsSync(t) && spawnSync(t, ["-f", "%M", "true"], { encoding: "utf8" }).stderr?.trim().match(/^\d+$/));
const memoryBy = gnuTime ? "from GNU time (CPU in 10 ms steps, the children's included)" : "from a preload (the process's own resource usage at exit)";
const valgrind = countRuns > 0 && ["/usr/bin/valgrind", "/usr/local/bin/valgrind"].find((v) => existsSync(v) && spawnSync(v, ["--version"]).status === 0);

/** One run: wall milliseconds (spawn to exit, as a user waits), CPU milliseconds (user + system) and peak resident KiB. */
function measure(argv, runEnv = env) {
  const [cmd, args] = gnuTime
    ? [gnuTime, ["-f", "%M %U %S", "-o", rssFile, process.execPath, ...argv]]
    : [process.execPath, ["--import", probe, ...argv]];
  writeFileSync(rssFile, "");
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: work, env: runEnv, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  const [kib, user, system] = readFileSync(rssFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
  return { ms, cpu: (user + system) * 1000, kib };
}

/** Instructions executed by the command and every process it starts (valgrind's callgrind, summed over processes). */
function count(argv, runEnv = env) {
  const r = spawnSync(valgrind, ["--tool=callgrind", "--callgrind-out-file=/dev/null", "--trace-children=yes", process.execPath, ...argv], { cwd: work, env: runEnv, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`valgrind ${argv.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return [...r.stderr.matchAll(/Collected : (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

// Every stack the CLI offers (from its --help), or those named in BENCH_STACKS=a,b.
const stacks = (process.env.BENCH_STACKS ?? spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" }).stdout.match(/--stack <name>\s+stack: (.*)/)[1])
  .split(",").map((s) => s.replace("(default)", "").trim());

const commands = [
  { name: "`node -e 0`", argv: () => ["-e", "0"] },
  { name: `create-vite ${vitePkg.version} \`--template react-ts\``, argv: (dir) => [vite, dir, "--template", "react-ts", "--no-interactive", "--no-immediate"] },
  ...stacks.map((stack) => ({ name: `create-svc-app, ${stack}`, argv: (dir) => [cli, dir, "--yes", "--no-install", "--no-git", "--stack", stack] })),
];
// What this machine's NODE_EXTRA_CA_CERTS adds to every start (not in the ratios).
const withCa = !keepEnv && extraCa ? { name: "`node -e 0` with this machine's NODE_EXTRA_CA_CERTS (not in the ratios)", argv: () => ["-e", "0"], env: { ...env, NODE_EXTRA_CA_CERTS: extraCa } } : undefined;
const all = withCa ? [...commands, withCa] : commands;
const results = all.map(() => ({ ms: [], cpu: [], kib: [], ir: [], files: 0 }));
const load = [loadavg()[0]];

/** Runs every command once (in its own new folder), recording with `record`; counts the files written. */
function round(tag, record) {
  all.forEach((c, j) => {
    const dir = `${tag}-${j}`;
    record(results[j], c.argv(dir), c.env);
    const out = path.join(work, dir);
    if (existsSync(out)) {
      results[j].files = countFiles(out);
      rmSync(out, { recursive: true, force: true });
    }
  });
}

measure(["-e", "0"]); // warm the file cache
for (let i = 0; i < runs; i++) {
  round(`p${i}`, (r, argv, runEnv) => {
    const m = measure(argv, runEnv);
    r.ms.push(m.ms);
    r.cpu.push(m.cpu);
    r.kib.push(m.kib);
  });
  load.push(loadavg()[0]);
}
for (let i = 0; valgrind && i < countRuns; i++) round(`c${i}`, (r, argv, runEnv) => r.ir.push(count(argv, runEnv)));
rmSync(work, { recursive: true, force: true });

function countFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// CPU: the mean, since GNU time counts it in 10 ms steps (a median would be one of those steps).
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = { ms: median(results[0].ms), cpu: mean(results[0].cpu), kib: median(results[0].kib), ir: median(results[0].ir) };
const spread = (xs) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
const millions = (n) => `${(n / 1e6).toFixed(0)}M`;
const rows = all.map((c, j) => {
  const [ms, cpu, kib, ir] = [median(results[j].ms), mean(results[j].cpu), median(results[j].kib), median(results[j].ir)];
  const label = results[j].files ? `${c.name} (${results[j].files} files)` : c.name;
  const instructions = valgrind ? ` ${millions(ir)} | ${(ir / base.ir).toFixed(2)}x |` : "";
  return `| ${label} | ${Math.round(ms)} ms (${spread(results[j].ms)}) | ${(ms / base.ms).toFixed(2)}x | ${Math.round(cpu)} ms | ${(cpu / base.cpu).toFixed(2)}x |${instructions} ${(kib / 1024).toFixed(1)} MiB | ${(kib / base.kib).toFixed(2)}x |`;
});

const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
const date = new Date().toISOString().slice(0, 16).replace("T", " ");
const counted = valgrind ? `; instructions: the median of ${countRuns} runs under valgrind (callgrind, the children's included)` : "; instructions not counted (no valgrind here)";
const table = [
  `Measured ${date} UTC on ${availableParallelism()} cores (${cpu}), Node ${process.version}, ${process.platform}/${process.arch}, load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)} during the timed rounds:`,
  `${runs} interleaved rounds, medians (wall: the range in brackets; CPU: the mean); CPU (user + system) and peak resident memory ${memoryBy}${counted}.`,
  keepEnv ? "Run with the environment as it is (BENCH_KEEP_ENV=1)." : "The commands run without NODE_EXTRA_CA_CERTS, which Node parses at every start (see scripts/bench.mjs).",
  "",
  `| command | wall | vs \`node -e 0\` | CPU | vs \`node -e 0\` |${valgrind ? " instructions | vs `node -e 0` |" : ""} peak RSS | vs \`node -e 0\` |`,
  `|---|---|---|---|---|${valgrind ? "---|---|" : ""}---|---|`,
  ...rows,
].join("\n");

console.log(table);
const doc = path.join(root, "docs", "bench.md");
mkdirSync(path.dirname(doc), { recursive: true });
// The notes below the table (how the numbers came about) are kept across runs.
const previous = existsSync(doc) ? readFileSync(doc, "utf8") : "";
const notes = /\n<!-- notes -->\n[\s\S]*$/.exec(previous)?.[0] ?? "";
writeFileSync(doc, `# Scaffold speed (\`pnpm bench\`)\n\nWritten by scripts/bench.mjs; the README quotes it.\n\n${table}\n${notes}`);
// The README's copy, between its markers, so a developer's run keeps both current.
const readme = path.join(root, "README.md");
const text = readFileSync(readme, "utf8");
const marked = /(<!-- bench:scaffold -->\n)[\s\S]*?(<!-- \/bench:scaffold -->)/;
if (marked.test(text)) writeFileSync(readme, text.replace(marked, `$1${table}\n$2`));
console.log(`\nwritten to ${path.relative(root, doc)}${marked.test(text) ? " and README.md" : ""}`);
