import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { removeTempDirs } from "./cli.js";

// A setup file of every test tier. Each test file gets its own temporary folder (TMPDIR, which
// os.tmpdir() and the programs the tests start honour); after the file, the folders tempDir()
// made are removed, and in `pnpm test` anything else left there fails the file, naming it.
// The e2e tier runs generated projects whose own tools keep things in TMPDIR (pytest keeps its
// last runs): there the folder is only removed.
const strict = process.env.SVC_TEMP_LENIENT !== "1";
const previous = process.env.TMPDIR;
// Lowercase, so that a test may use a folder in it as a project name.
const own = path.join(tmpdir(), `svc-test-${randomBytes(6).toString("hex")}`);
mkdirSync(own);
// A file whose tests are all skipped runs no hooks: then the folder (empty) goes when the worker exits normally.
process.once("exit", () => rmSync(own, { recursive: true, force: true }));
process.env.TMPDIR = own;

afterAll(() => {
  removeTempDirs();
  const left = readdirSync(own);
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(own, { recursive: true, force: true, maxRetries: 3 });
  if (strict && left.length > 0) throw new Error(`this test file left ${left.join(", ")} in its temporary folder: make it with tempDir(), or remove it`);
});
