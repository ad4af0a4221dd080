import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { defineConfig, type Options } from "tsup";

type Plugin = NonNullable<Options["esbuildPlugins"]>[number];

/**
 * Node's built-in modules through `require` (the banner's), not ESM imports: Node wraps each
 * built-in an ES module imports in a module record of all its exports, and resolves, links and
 * evaluates it as a module of its own (about 0.4 ms apiece at start, for some fifteen); a
 * require is a lookup. The bundled CommonJS dependencies already load them this way.
 */
const builtinsByRequire: Plugin = {
  name: "builtins-by-require",
  setup(build) {
    // Static imports only: a dynamic import() of a CommonJS module in a split bundle would give
    // just its default export, and a module loaded on use pays for its wrapper only then. One
    // wrapper per importing module (the importer in its name), so that each lands in its
    // importer's chunk instead of a chunk of its own, one more module to load.
    // Our own modules only (the bundled ES packages are loaded on use, and esbuild will not
    // give their `import x from` a CommonJS default).
    build.onResolve({ filter: /^node:/ }, (args) => (args.kind === "import-statement" && !/[\\/]node_modules[\\/]/.test(args.importer) ? { path: `${args.path}?from=${args.importer}`, namespace: "builtin" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path.split("?")[0])});`, loader: "js" }));
  },
};

/**
 * commander requires node:child_process when it loads, for executable subcommands (a
 * `git-foo`-style program per command), which this CLI does not have: load it on first use
 * instead (about 6M instructions a run saved). The build fails if commander changes that line.
 */
const lazyChildProcessInCommander: Plugin = {
  name: "lazy-child-process-in-commander",
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(eager)) throw new Error(`${args.path}: "${eager}" not found; check lazyChildProcessInCommander in tsup.config.ts`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};

const common: Options = {
  format: ["esm"],
  target: "node20",
  platform: "node",
  outDir: "dist",
  sourcemap: true,
  dts: false,
  // The CLI and its dependencies in one file: one module to resolve, read and compile for a
  // scaffold instead of about eighty, and nothing for npx to install beside the package. What a
  // run may not need (prompts, update, templates check, the step runner's execa) stays behind a
  // dynamic import, in a chunk of its own.
  noExternal: [/.*/],
  esbuildPlugins: [builtinsByRequire, lazyChildProcessInCommander],
  removeNodeProtocol: false,
  esbuildOptions(options) {
    options.chunkNames = "chunk-[name]-[hash]";
  },
  // `templates check` bundles yaml and ajv (CommonJS), which call require(); ESM has none by default.
  banner: { js: 'import { createRequire as __svcCreateRequire } from "node:module"; const require = __svcCreateRequire(import.meta.url);' },
};

/**
 * dist/THIRD-PARTY-LICENSES: the license of every package bundled into dist/ (from esbuild's
 * list of the inputs), since the package ships their code and no longer depends on them.
 */
function writeLicenses(): void {
  const metafile = path.resolve("dist/metafile-esm.json");
  const { inputs } = JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, unknown> };
  rmSync(metafile);
  const dirs = new Set(Object.keys(inputs).filter((input) => !input.startsWith("builtin:")).flatMap((input) => {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/@.][^/]*)\//.exec(input);
    return m ? [path.resolve(m[1]!)] : [];
  }));
  const notices = [...dirs].map((dir) => {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file ? readFileSync(path.join(dir, file), "utf8").trim() : `${pkg.license ?? "see the package"} (the package ships no license file)`;
    return { name: pkg.name, text: `${pkg.name} ${pkg.version} (${pkg.license ?? "unknown"})\n\n${text}\n` };
  }).sort((a, b) => a.name.localeCompare(b.name));
  const intro = "create-svc-app bundles the following packages into dist/; their licenses follow.\n";
  writeFileSync("dist/THIRD-PARTY-LICENSES", [intro, ...notices.map((n) => n.text)].join(`\n${"-".repeat(72)}\n\n`));
}

export default defineConfig([
  { ...common, entry: { index: "src/index.ts" }, clean: true, metafile: true, onSuccess: async () => writeLicenses() },
  // The manifest loader, for scripts/lock-templates.mjs (not in the package). Built apart, so
  // that the CLI's code is not split into chunks shared with it. Once built, it packs the
  // templates folder into dist/templates.pack, which the CLI reads (src/templates/pack.ts).
  {
    ...common,
    entry: { templates: "src/templates/index.ts" },
    async onSuccess() {
      const { writePack } = await import(`${pathToFileURL(path.resolve("dist/templates.js")).href}?${Date.now()}`);
      await writePack(path.resolve("templates"), path.resolve("dist/templates.pack"));
    },
  },
]);
