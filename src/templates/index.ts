// The template model for maintainer scripts (scripts/lock-templates.mjs): the same loader and
// `when` matching the CLI uses, built to dist/templates.js.
export { defaultTemplatesRoot, loadManifests } from "./registry.js";
export { flagValue, whenMatches } from "./manifest.js";
export { mergedValues, planLocks } from "./locks.js";
export { loadLockTemplate, planLockBuild, storedLock } from "./lock-build.js";
export { caseName, LOCK_PROJECT_NAME, readLockRecord, renderMergedLock } from "./lock-merge.js";
export { variantName } from "./variants.js";
export { writePack } from "./pack-build.js";
