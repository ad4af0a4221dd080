#!/usr/bin/env node
import module from "node:module";
import v8 from "node:v8";

// Node 22.1 and later keep V8's compiled code of the CLI on disk (in the OS temp folder) so that
// later runs skip compiling it; older Nodes have no such cache. NODE_DISABLE_COMPILE_CACHE=1 opts out.
module.enableCompileCache?.();
// A scaffold is over in a fraction of a second: V8's optimising compilers would spend a core and
// a few MiB of peak memory on code that never runs long enough to pay it back. The commands that
// render many variants (templates check, update) keep it.
if (!["templates", "update"].includes(process.argv[2] ?? "")) v8.setFlagsFromString("--no-opt --no-maglev");
const { run } = await import("../dist/index.js");

process.exitCode = await run(process.argv.slice(2));
