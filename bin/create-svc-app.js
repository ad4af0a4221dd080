#!/usr/bin/env node
import module from "node:module";

// Node 22.1 and later keep V8's compiled code of the CLI on disk (in the OS temp folder) so that
// later runs skip compiling it; older Nodes have no such cache. NODE_DISABLE_COMPILE_CACHE=1 opts out.
module.enableCompileCache?.();
const { run } = await import("../dist/index.js");

process.exitCode = await run(process.argv.slice(2));
