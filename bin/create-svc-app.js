#!/usr/bin/env node
import module from "node:module";

// Node 22.1 and later keep V8's compiled code of the CLI on disk (in the OS temp folder) so that
// later runs skip compiling it; older Nodes have no such cache. NODE_DISABLE_COMPILE_CACHE=1 opts out.
module.enableCompileCache?.();
// A reader that stops early (`create-svc-app --help | head`) closes the pipe: the rest of the
// output has nowhere to go, which is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") throw error;
  });
}
const { run } = await import("../dist/index.js");

process.exitCode = await run(process.argv.slice(2));
