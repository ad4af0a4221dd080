import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { inject } from "vitest";
import * as fromText from "../../src/check/static.js";

// The checks themselves live in src/check/static.ts, shared with `create-svc-app templates check`;
// these read the generated project's files from disk.

/** Parses docker-compose.yml and validates it against the Compose specification's JSON schema. */
export function composeErrors(file: string): string[] {
  return fromText.composeErrors(readFileSync(file, "utf8"));
}

/** The instructions of a Dockerfile, continuation lines joined, comments dropped, stages numbered. */
export function readDockerfile(file: string): fromText.DockerInstruction[] {
  return fromText.readDockerfile(readFileSync(file, "utf8"));
}

/** The user the final stage runs as ("root" when it never says). */
export function finalUser(file: string): string {
  return fromText.finalUser(readFileSync(file, "utf8"));
}

/** COPY/ADD sources (not --from another stage) that do not exist in the build context. */
export function missingCopySources(file: string, context: string): string[] {
  return fromText.missingCopySources(readFileSync(file, "utf8"), (s) => existsSync(path.join(context, s))).map((m) => m.source);
}

/** hadolint's findings of level "error" (warnings are reported, not failed on). */
export async function hadolintErrors(file: string): Promise<{ errors: string[]; warnings: string[] }> {
  const r = await execa(inject("hadolintBin"), ["--format", "json", "--no-fail", file], { reject: false });
  if (r.exitCode !== 0 && !String(r.stdout).startsWith("[")) throw new Error(`hadolint did not run: ${r.stderr || r.stdout}`);
  const findings = JSON.parse(String(r.stdout) || "[]") as { level: string; code: string; message: string; line: number }[];
  const fmt = (f: { code: string; message: string; line: number }) => `${path.basename(file)}:${f.line} ${f.code} ${f.message}`;
  return { errors: findings.filter((f) => f.level === "error").map(fmt), warnings: findings.filter((f) => f.level === "warning").map(fmt) };
}

/** Byte-compiles every Python file under dir with the machine's python3; returns its complaints. */
export async function pythonCompileErrors(dir: string): Promise<string> {
  const r = await execa("python3", ["-m", "compileall", "-q", "-f", dir], { reject: false, env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONPYCACHEPREFIX: path.join(dir, "..", ".pycache-check") } });
  return r.exitCode === 0 ? "" : `${r.stdout}\n${r.stderr}`;
}
