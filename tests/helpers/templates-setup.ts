import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./cli.js";

/**
 * Vitest global setup of every tier: with SVC_TEMPLATES=<dir>, the suites test that template
 * folder instead of the repository's. It is copied (symbolic links resolved, so nothing a test
 * does can write through to the maintainer's files) into a staged copy of the built package,
 * whose CLI then uses it as its bundled templates; the tests find the package through
 * SVC_TEST_PACKAGE (tests/helpers/cli.ts). The staged package's templates pack is built from
 * that copy, as `pnpm build` would build it. Without SVC_TEMPLATES this does nothing.
 */
export default async function setup(): Promise<(() => void) | undefined> {
  const source = process.env.SVC_TEMPLATES;
  if (!source || process.env.SVC_TEST_PACKAGE) return undefined;
  if (!existsSync(path.join(source))) throw new Error(`SVC_TEMPLATES=${source}: no such folder`);
  const staged = mkdtempSync(path.join(tmpdir(), "svc-templates-under-test-"));
  for (const part of ["bin", "dist", "package.json"]) cpSync(path.join(repoRoot, part), path.join(staged, part), { recursive: true });
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(staged, "node_modules"));
  mkdirSync(path.join(staged, "templates"));
  cpSync(path.resolve(source), path.join(staged, "templates"), { recursive: true, dereference: true });
  assertNoLinks(path.join(staged, "templates"));
  const { writePack } = (await import(pathToFileURL(path.join(repoRoot, "dist", "templates.js")).href)) as { writePack: (root: string, file: string) => Promise<void> };
  await writePack(path.join(staged, "templates"), path.join(staged, "dist", "templates.pack"));
  process.env.SVC_TEST_PACKAGE = staged;
  console.log(`SVC_TEMPLATES: testing a copy of ${path.resolve(source)} (${staged}/templates)`);
  return () => {
    rmSync(staged, { recursive: true, force: true });
    delete process.env.SVC_TEST_PACKAGE;
  };
}

function assertNoLinks(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new Error(`SVC_TEMPLATES copy still has a link: ${p}`);
    if (st.isDirectory()) assertNoLinks(p);
  }
}
