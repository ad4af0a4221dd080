// pnpm bench:service: each generated variant under load beside a reference app of the same
// framework and driver doing the same primary-key SELECT in a ten-line handler, both served the
// same way and loaded with the same wrk settings. It measures; it asserts nothing but that both
// boot. Answers under load that were not 200 (or timed out) are counted in the table. The table
// goes to docs/bench-service.md, which the README quotes.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, repoRoot, tempDir } from "../helpers/cli.js";
import { manifestNamed, verifyCommands } from "../helpers/expected.js";
import { freePort } from "../helpers/standins.js";
import { flagValue, type Manifest, type OptionValues } from "../../src/templates/manifest.js";
import { makeDb } from "../e2e/database.js";
import { dropDatabaseAndRole, psql, sh, uniqueDbNames } from "../e2e/harness.js";
import { startServer, type RunningServer } from "../e2e/http.js";
import { OtlpReceiver } from "../e2e/obs-contract.js";
import { nodeBinDir } from "../e2e/node-runtime.js";
import { ensureWrk, load, LOAD, type LoadResult } from "./load.js";

const ROUNDS = Number(process.env.BENCH_SERVICE_ROUNDS ?? 3);
// Features whose cost is measured: each stack's default variant with one of them, where the stack
// offers it, against the same variant without (the 'vs default' column). One round each unless
// BENCH_SERVICE_FEATURE_ROUNDS says otherwise. otel runs three times: as generated (every trace
// kept, the SDKs' default), with the SDKs' standard ratio sampler keeping one trace in ten, and
// with none kept (what the instrumentation costs a request whose trace is dropped).
const FEATURES: { key: string; feature: string; env?: Record<string, string> }[] = [
  { key: "metrics", feature: "metrics" },
  { key: "otel", feature: "otel" },
  { key: "otel-sampled", feature: "otel", env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" } },
  { key: "otel-off", feature: "otel", env: { OTEL_TRACES_SAMPLER: "always_off" } },
];
const FEATURE_ROUNDS = Number(process.env.BENCH_SERVICE_FEATURE_ROUNDS ?? 1);
// BENCH_SERVICE_ONLY=fastapi or =fastify:drizzle,fastapi:sqlmodel,fastify:metrics limits the run (for tuning one template).
const only = process.env.BENCH_SERVICE_ONLY?.split(",").filter(Boolean);
const OUT = process.env.BENCH_SERVICE_OUT ?? path.join(repoRoot, "docs", "bench-service.md");
const ENDPOINTS = ["/items/{id}", "/health"] as const;
const NODE = "24";
const reference = (file: string) => path.join(import.meta.dirname, "reference", file);

// Poetry through the Simple-API fallback wrapper, as the e2e tier runs it.
process.env.PATH = `${path.join(repoRoot, "scripts", "support", "bin")}:${process.env.PATH}`;
await ensureWrk();
const machinePython = (await sh("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { cwd: "/" })).trim();
const nodeBin = await nodeBinDir(NODE);

/** How a stack's project is prepared after install, and how its service and its reference are served. */
interface Stack {
  pinned: Record<string, string>;
  env: Record<string, string>;
  prepare(dir: string, env: Record<string, string>): Promise<void>;
  /** The production command (the Dockerfile's CMD), on a local port. */
  serve(dir: string): [string, string[]];
  reference(dir: string): [string, string[]];
}

const STACKS: Record<string, Stack> = {
  fastapi: {
    pinned: { python: machinePython },
    env: { POETRY_VIRTUALENVS_IN_PROJECT: "true", POETRY_NO_INTERACTION: "1", PYTHONDONTWRITEBYTECODE: "1" },
    prepare: async () => {},
    // The Dockerfile's CMD flags, one worker (both apps alike: CPU per request does not depend on it).
    serve: (dir) => [path.join(dir, ".venv", "bin", "uvicorn"), ["app.main:app", "--host", "127.0.0.1", "--port", "$PORT", "--no-access-log"]],
    reference: (dir) => {
      copyFileSync(reference("fastapi_reference.py"), path.join(dir, "bench_reference.py"));
      return [path.join(dir, ".venv", "bin", "uvicorn"), ["bench_reference:app", "--host", "127.0.0.1", "--port", "$PORT", "--no-access-log"]];
    },
  },
  fastify: {
    pinned: { node: NODE },
    env: { PATH: `${nodeBin}:${process.env.PATH}`, NO_COLOR: "1" },
    prepare: async (dir, env) => void (await sh("npm", ["run", "build"], { cwd: dir, env })),
    serve: () => [path.join(nodeBin, "node"), ["dist/main.js"]],
    reference: (dir) => {
      copyFileSync(reference("fastify-reference.mjs"), path.join(dir, "bench-reference.mjs"));
      return [path.join(nodeBin, "node"), ["bench-reference.mjs"]];
    },
  },
};

interface BenchVariant {
  stack: string;
  manifest: Manifest;
  options: OptionValues;
  label: string;
  rounds: number;
  /** How BENCH_SERVICE_ONLY names it: `<stack>:<orm>` or `<stack>:<FEATURES key>`. */
  key?: string;
  /** A feature variant: the label of the variant it adds its feature to, the feature, and the
   * service's extra environment. */
  base?: { label: string; feature: string; env?: Record<string, string> };
}

/**
 * Every ORM of every stack, the other options at their defaults (the runtime pinned to the
 * machine's); then each stack's default variant with each of FEATURES that its manifest offers.
 */
function benchVariants(): BenchVariant[] {
  return Object.entries(STACKS).flatMap(([stack, s]) => {
    const manifest = manifestNamed(stack);
    const defaults: OptionValues = Object.fromEntries(manifest.options.map((o) => [o.name, s.pinned[o.name] ?? o.default]));
    const orms = manifest.options.find((o) => o.name === "orm")!.choices.map((c) => c.value);
    const offered = new Set(manifest.options.find((o) => o.name === "features")?.choices.map((c) => c.value));
    const plain = `${stack} ${flagValue(defaults.orm!)}`;
    return [
      ...orms.map((orm) => ({ stack, manifest, options: { ...defaults, orm }, label: `${stack} ${orm}`, rounds: ROUNDS }))
        .filter((v) => !only || only.some((o) => o === v.stack || o === `${v.stack}:${v.options.orm}`)),
      ...FEATURES.filter((f) => offered.has(f.feature)).map(({ key, feature, env }) => ({
        stack, manifest, options: { ...defaults, features: [feature] },
        label: `${plain} features=${feature}${env ? ` ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}`,
        rounds: FEATURE_ROUNDS, base: { label: plain, feature, env }, key,
      })).filter((v) => !only || only.some((o) => o === stack || o === `${stack}:${v.key}`)),
    ];
  });
}

/** The command-line flags for `options`; an empty list (no features) is left out. */
function optionFlags(options: OptionValues): string[] {
  return Object.entries(options).filter(([, v]) => flagValue(v) !== "").flatMap(([k, v]) => [`--${k}`, flagValue(v)]);
}

/** .env as KEY=VALUE pairs (quotes removed), for the reference app and the production-like environment. */
function readDotEnv(dir: string): Record<string, string> {
  return Object.fromEntries(readFileSync(path.join(dir, ".env"), "utf8").split("\n")
    .map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim())).filter((m) => m !== null)
    .map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1")]));
}

/** A feature variant's row also holds its default variant's loads (`baseline`), taken in the same rounds. */
type Row = { variant: string; endpoint: string; service: LoadResult[]; reference: LoadResult[]; base?: string; baseline?: LoadResult[] };
const rows: Row[] = [];
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}

async function boot([file, args]: [string, string[]], dir: string, env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  return startServer(file, args.map((a) => (a === "$PORT" ? String(port) : a)), {
    cwd: dir, env: { ...process.env, ...env, HOST: "127.0.0.1", PORT: String(port) } as Record<string, string>, port,
  });
}

const VARIANTS = benchVariants();

/**
 * A default variant that a feature variant is measured against stays installed, with its database,
 * until every variant has run: the feature variant boots it again and loads it in the same rounds,
 * so the 'vs default' column compares two services measured in the same minutes.
 */
const kept = new Map<string, { dir: string; env: Record<string, string>; itemId: number }>();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe.each(VARIANTS.map((v) => [v.label, v] as const))("%s", (label, { stack, manifest, options, rounds, base }) => {
  const s = STACKS[stack]!;
  const { dbName, dbUser } = uniqueDbNames(`bench${flagValue(options.orm!).slice(0, 6)}`);
  let dir = "";
  let itemId = 0;
  let env: Record<string, string> = {};

  beforeAll(() => dropDatabaseAndRole(dbName, dbUser));
  const cleanup = async () => {
    await dropDatabaseAndRole(dbName, dbUser);
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  };
  const isBaseline = VARIANTS.some((v) => v.base?.label === label);
  afterAll(async () => (isBaseline ? void cleanups.push(cleanup) : cleanup()));

  it("generates, installs, makes the database, migrates and builds, as the e2e tier does", async () => {
    const cwd = tempDir("svc-bench-");
    const r = await runCli(["svc-bench", "--yes", "--no-git", "--stack", stack, ...optionFlags(options), "--db-name", dbName, "--db-user", dbUser],
      { cwd, env: s.env, timeout: 600_000 });
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    dir = path.join(cwd, "svc-bench");
    await makeDb(dir, s.env);
    for (const [file, ...args] of verifyCommands(manifest, options, "migrate")) await sh(file!, args, { cwd: dir, env: s.env });
    await s.prepare(dir, s.env);
    itemId = Number(await psql(["-c", "INSERT INTO items (name, description) VALUES ('bench item', 'read by key under load') RETURNING id"], dir, dbName));
    // The service as in production (NODE_ENV, APP_ENV), with the database settings of .env.
    env = { ...s.env, ...readDotEnv(dir), NODE_ENV: "production", APP_ENV: "production" };
    if (isBaseline) kept.set(label, { dir, env, itemId });
  });

  it(`loads the service and its reference alternately: ${LOAD.connections} connections, ${LOAD.duration}, ${rounds} round(s)`, async () => {
    // With otel, the spans go somewhere, as in production: a receiver that takes every export
    // (tests/e2e/obs-contract.ts), so the cost measured includes making and sending them.
    const receiver = base?.feature === "otel" ? new OtlpReceiver() : undefined;
    const serviceEnv = { ...env, ...base?.env, ...(receiver && { OTEL_EXPORTER_OTLP_ENDPOINT: await receiver.start() }) };
    const service = await boot(s.serve(dir), dir, serviceEnv);
    const ref = await boot(s.reference(dir), dir, env);
    // The default variant, where it ran: loaded in turn with the other two, every round.
    const plain = base && kept.get(base.label);
    const baseline = plain ? await boot(s.serve(plain.dir), plain.dir, plain.env) : undefined;
    try {
      for (const endpoint of ENDPOINTS) {
        const urlPath = (id: number) => endpoint.replace("{id}", String(id));
        const row: Row = { variant: label, endpoint, service: [], reference: [], base: base?.label, ...(baseline && { baseline: [] }) };
        for (let round = 0; round < rounds; round++) {
          row.service.push(await load(`${service.base}${urlPath(itemId)}`, service.pid));
          if (baseline) row.baseline!.push(await load(`${baseline.base}${urlPath(plain!.itemId)}`, baseline.pid));
          row.reference.push(await load(`${ref.base}${urlPath(itemId)}`, ref.pid));
        }
        rows.push(row);
        console.log(formatRow(row));
      }
      if (receiver && base?.env?.OTEL_TRACES_SAMPLER === "always_off") expect(receiver.bodies.length, "the service exported spans with every trace dropped").toBe(0);
      else if (receiver) expect(receiver.bodies.length, "the service exported no spans to the receiver").toBeGreaterThan(0);
    } finally {
      await service.stop();
      await ref.stop();
      await baseline?.stop();
      await receiver?.stop();
    }
  });
});

/**
 * A feature variant's req/s and CPU against its default variant's (same convention as the ratios),
 * or "": the medians of the default variant's loads taken in the same rounds, in turn with the
 * feature variant's (a machine that slows down for a while slows both alike).
 */
function vsDefault(row: Row): string {
  const { base, baseline } = row;
  if (!base) return "";
  if (!baseline) return "(default variant not run)";
  const of = (xs: LoadResult[], key: "rps" | "cpuMsPer1k") => median(xs.map((r) => r[key]));
  const rps = of(row.service, "rps") / of(baseline, "rps");
  const cpu = of(baseline, "cpuMsPer1k") / of(row.service, "cpuMsPer1k");
  return `req/s ${rps.toFixed(2)}, CPU ${cpu.toFixed(2)}`;
}

function formatRow(row: Row): string {
  const { variant, endpoint, service, reference: ref } = row;
  const rps = median(service.map((r) => r.rps));
  const refRps = median(ref.map((r) => r.rps));
  const spread = (xs: LoadResult[]) => `${Math.min(...xs.map((r) => r.rps)).toFixed(0)}-${Math.max(...xs.map((r) => r.rps)).toFixed(0)}`;
  const errors = (xs: LoadResult[]) => xs.reduce((a, r) => a + r.errors, 0);
  const cpu = median(service.map((r) => r.cpuMsPer1k));
  const refCpu = median(ref.map((r) => r.cpuMsPer1k));
  return `| ${variant} | \`GET ${endpoint}\` | ${rps.toFixed(0)} (${spread(service)}) | ${median(service.map((r) => r.p50Ms)).toFixed(1)} | ${median(service.map((r) => r.p99Ms)).toFixed(1)} | ${cpu.toFixed(0)} `
    + `| ${refRps.toFixed(0)} (${spread(ref)}) | ${median(ref.map((r) => r.p50Ms)).toFixed(1)} | ${median(ref.map((r) => r.p99Ms)).toFixed(1)} | ${refCpu.toFixed(0)} | ${(rps / refRps).toFixed(2)} | ${(refCpu / cpu).toFixed(2)} | ${errors(service)} / ${errors(ref)} | ${vsDefault(row)} |`;
}

afterAll(() => {
  if (rows.length === 0) return;
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const table = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${os.cpus().length} x ${cpu} (${(os.totalmem() / 2 ** 30).toFixed(0)} GiB), `
    + `shared by the service, its reference, Postgres 127.0.0.1:5432 and wrk (${LOAD.threads} threads, ${LOAD.connections} connections, ${LOAD.duration}, after a ${LOAD.warmup} warm-up); `
    + `medians of ${ROUNDS} alternating rounds (${FEATURE_ROUNDS} for a variant with a feature), the req/s range in brackets. Latencies in ms; CPU is the server's CPU time per 1000 requests in ms `
    + "(its processes and their children), which moves much less than req/s when other work shares the machine. "
    + "Ratios: the service's req/s over the reference's, and the reference's CPU per request over the service's (1.00 = as cheap as the reference). "
    + "Errors: answers that were not 2xx (a 503 when a request waited for a pooled connection past its bound) or did not come within 5 s, service / reference, all rounds. "
    + "vs default: a variant with a feature against the same stack and ORM without it, booted again and loaded in the same rounds, in turn with it and the reference: its req/s over theirs and their CPU per request over its (1.00 = the feature costs nothing).",
    "",
    "| variant | endpoint | req/s | p50 | p99 | CPU | reference req/s | p50 | p99 | CPU | req/s ratio | CPU ratio | errors | vs default |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map(formatRow),
    "",
  ].join("\n");
  console.log(table);
  // The table replaces the old one; the notes after it (the levers measured, `## ` sections) stay.
  const previous = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
  const notes = previous.indexOf("\n## ");
  if (!only) writeFileSync(OUT, `# pnpm bench:service\n\n${table}${notes < 0 ? "" : previous.slice(notes)}`);
});
