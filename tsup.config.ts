import path from "node:path";
import { pathToFileURL } from "node:url";
import { defineConfig, type Options } from "tsup";

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
  esbuildOptions(options) {
    options.chunkNames = "chunk-[name]-[hash]";
  },
  // `templates check` bundles yaml and ajv (CommonJS), which call require(); ESM has none by default.
  banner: { js: 'import { createRequire as __svcCreateRequire } from "node:module"; const require = __svcCreateRequire(import.meta.url);' },
};

export default defineConfig([
  { ...common, entry: { index: "src/index.ts" }, clean: true },
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
