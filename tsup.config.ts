import { defineConfig } from "tsup";

export default defineConfig({
  // templates.js: the manifest loader, for scripts/lock-templates.mjs.
  entry: { index: "src/index.ts", templates: "src/templates/index.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  dts: false,
  // `templates check` bundles yaml and ajv (CommonJS), which call require(); ESM has none by default.
  banner: { js: 'import { createRequire as __svcCreateRequire } from "node:module"; const require = __svcCreateRequire(import.meta.url);' },
});
