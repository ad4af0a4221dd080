// pnpm bench: how much a scaffold costs compared with starting Node at all, and with create-vite.
// Runs, interleaved (one of each per round, so a busy moment hits them all alike): a bare
// `node -e 0`, create-vite (pinned in devDependencies, run from node_modules) writing its
// react-ts template, and `create-svc-app <dir> --yes --no-install --no-git` for each stack.
// Prints the medians of wall time and peak memory with their ratios to `node -e 0`, and writes
// the table to docs/bench.md (the README quotes it between its bench markers, refreshed here).
// BENCH_RUNS=n sets the rounds (default 15); BENCH_STACKS=a,b the stacks (default: all).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin", "create-svc-app.js");
const probe = path.join(root, "scripts", "bench-probe.mjs");
const runs = Number(process.env.BENCH_RUNS ?? 15);
const work = mkdtempSync(path.join(tmpdir(), "svc-bench-"));
const rssFile = path.join(work, "rss.txt");
const vitePkg = createRequire(import.meta.url)("create-vite/package.json");
const vite = path.join(root, "node_modules", "create-vite", vitePkg.bin["create-vite"]);

// Peak memory and CPU time without loading anything into the process measured (a preload would
// cost the bare `node -e 0` most): GNU time's where it exists, else our preload's.
const gnuTime = ["/usr/bin/time", "/bin/time"].find((t) => existsSync(t) && spawnSync(t, ["-f", "%M", "true"], { encoding: "utf8" }).stderr?.trim().match(/^\d+$/));
const memoryBy = gnuTime ? "from GNU time (CPU in 10 ms steps, the children's included)" : "from a preload (the process's own resource usage at exit)";

/** One run: wall milliseconds (spawn to exit, as a user waits), CPU milliseconds (user + system) and peak resident KiB. */
function measure(argv) {
  const [cmd, args] = gnuTime
    ? [gnuTime, ["-f", "%M %U %S", "-o", rssFile, process.execPath, ...argv]]
    : [process.execPath, ["--import", probe, ...argv]];
  writeFileSync(rssFile, "");
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: work, env: { ...process.env, CI: "true", BENCH_PROBE_OUT: rssFile }, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  const [kib, user, system] = readFileSync(rssFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
  return { ms, cpu: (user + system) * 1000, kib };
}

// Every stack the CLI offers (from its --help), or those named in BENCH_STACKS=a,b.
const stacks = (process.env.BENCH_STACKS ?? spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" }).stdout.match(/--stack <name>\s+stack: (.*)/)[1])
  .split(",").map((s) => s.replace("(default)", "").trim());

const commands = [
  { name: "`node -e 0`", argv: () => ["-e", "0"] },
  { name: `create-vite ${vitePkg.version} \`--template react-ts\``, argv: (dir) => [vite, dir, "--template", "react-ts", "--no-interactive", "--no-immediate"] },
  ...stacks.map((stack) => ({ name: `create-svc-app, ${stack}`, argv: (dir) => [cli, dir, "--yes", "--no-install", "--no-git", "--stack", stack] })),
];
const results = commands.map(() => ({ ms: [], cpu: [], kib: [], files: 0 }));

measure(["-e", "0"]); // warm the file cache
for (let i = 0; i < runs; i++) {
  commands.forEach((c, j) => {
    const dir = `p${i}-${j}`;
    const m = measure(c.argv(dir));
    results[j].ms.push(m.ms);
    results[j].cpu.push(m.cpu);
    results[j].kib.push(m.kib);
    const out = path.join(work, dir);
    if (existsSync(out)) {
      results[j].files = countFiles(out);
      rmSync(out, { recursive: true, force: true });
    }
  });
}
rmSync(work, { recursive: true, force: true });

function countFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = { ms: median(results[0].ms), cpu: median(results[0].cpu), kib: median(results[0].kib) };
const spread = (xs) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
const rows = commands.map((c, j) => {
  const [ms, cpu, kib] = [median(results[j].ms), median(results[j].cpu), median(results[j].kib)];
  const label = results[j].files ? `${c.name} (${results[j].files} files)` : c.name;
  return `| ${label} | ${Math.round(ms)} ms (${spread(results[j].ms)}) | ${(ms / base.ms).toFixed(2)}x | ${Math.round(cpu)} ms | ${(cpu / base.cpu).toFixed(2)}x | ${(kib / 1024).toFixed(1)} MiB | ${(kib / base.kib).toFixed(2)}x |`;
});

const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
const date = new Date().toISOString().slice(0, 10);
const table = [
  `Measured ${date} on ${availableParallelism()} cores (${cpu}), Node ${process.version}, ${process.platform}/${process.arch}:`,
  `${runs} interleaved rounds, medians (wall: the range in brackets); CPU (user + system) and peak resident memory ${memoryBy}.`,
  "",
  "| command | wall | vs `node -e 0` | CPU | vs `node -e 0` | peak RSS | vs `node -e 0` |",
  "|---|---|---|---|---|---|---|",
  ...rows,
].join("\n");

console.log(table);
const doc = path.join(root, "docs", "bench.md");
mkdirSync(path.dirname(doc), { recursive: true });
writeFileSync(doc, `# Scaffold speed (\`pnpm bench\`)\n\nWritten by scripts/bench.mjs; the README quotes it.\n\n${table}\n`);
// The README's copy, between its markers, so a developer's run keeps both current.
const readme = path.join(root, "README.md");
const text = readFileSync(readme, "utf8");
const marked = /(<!-- bench:scaffold -->\n)[\s\S]*?(<!-- \/bench:scaffold -->)/;
if (marked.test(text)) writeFileSync(readme, text.replace(marked, `$1${table}\n$2`));
console.log(`\nwritten to ${path.relative(root, doc)}${marked.test(text) ? " and README.md" : ""}`);
