import Handlebars from "handlebars";
import type { TemplateProblem } from "../errors.js";
import type { OptionSpec } from "../templates/manifest.js";

type Node = hbs.AST.Node;
type Path = hbs.AST.PathExpression;
type Expr = hbs.AST.Expression;

/** What a template file may refer to: the context's names, the manifest's options, helpers and partials. */
export interface Scope {
  /** A context as render() builds it; only its shape matters. */
  readonly context: object;
  readonly stack: string;
  readonly options: readonly OptionSpec[];
  readonly helpers: ReadonlySet<string>;
  readonly partials: ReadonlySet<string>;
  /** Inside a partial called with another context (`{{> name item}}`): names cannot be known. */
  readonly unknownContext?: boolean;
}

/** Partials a file calls: name -> the hash keys it passes (`{{> db service="api"}}`), "*" for a context argument. */
export type PartialCalls = Map<string, readonly string[]>;

/** The scope inside a partial: the caller's, plus the names its call passes. */
export function partialScope(scope: Scope, keys: readonly string[]): Scope {
  if (keys.includes("*")) return { ...scope, unknownContext: true };
  return { ...scope, context: { ...scope.context, ...Object.fromEntries(keys.map((k) => [k, ""])) } };
}

/** Handlebars' own helpers; ours are added by the renderer. */
export const BUILTIN_HELPERS = ["if", "unless", "each", "with", "lookup", "log"];
/** Blocks whose body runs with another `this`: names inside are not the template's context. */
const CONTEXT_CHANGING = new Set(["each", "with"]);

const ESCAPE_HINT = 'if this "{{" is meant literally, escape it as \\{{ or drop .hbs from the file name';

/** Parses a template; a syntax error becomes a problem at its line and column. */
export function parseTemplate(source: string, file: string): { ast: hbs.AST.Program } | { problem: TemplateProblem } {
  try {
    return { ast: Handlebars.parse(source) };
  } catch (error) {
    const message = (error as Error).message;
    const unclosed = /got 'EOF'/.test(message) ? unclosedBlock(source) : undefined;
    if (unclosed) return { problem: { file, ...unclosed.at, message: `{{#${unclosed.name}}} is never closed: add {{/${unclosed.name}}} where the block ends` } };
    const mismatch = /^(\S+) doesn't match (\S+)/.exec(message);
    if (mismatch) return { problem: { file, ...hashPosition(message), message: `{{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}: close it with {{/${mismatch[1]}}}` } };
    const loc = /^Parse error/.test(message) ? lexerPosition() : hashPosition(message);
    const what = message.split("\n").at(-1)!.replace(/ - \d+:\d+$/, "");
    return { problem: { file, ...loc, message: `Handlebars cannot parse this: ${what}; ${ESCAPE_HINT}` } };
  }
}

/** Where the parser stopped (Handlebars keeps its lexer's last position; its message only names the line). */
function lexerPosition(): { line?: number; col?: number } {
  const yylloc = ((Handlebars as unknown as { Parser: unknown }).Parser as { lexer?: { yylloc?: { first_line: number; first_column: number } } }).lexer?.yylloc;
  return yylloc ? { line: yylloc.first_line, col: yylloc.first_column + 1 } : {};
}

/** Errors like "if doesn't match each - 3:2" carry their position at the end of the message. */
function hashPosition(message: string): { line?: number; col?: number } {
  const m = / - (\d+):(\d+)$/.exec(message.split("\n")[0]!);
  return m ? { line: Number(m[1]), col: Number(m[2]) + 1 } : {};
}

/** The innermost block opened and never closed, found by pairing {{#x}}/{{^x}} with {{/x}}. */
function unclosedBlock(source: string): { name: string; at: { line: number; col: number } } | undefined {
  const open: { name: string; offset: number }[] = [];
  for (const m of source.matchAll(/(?<!\\)\{\{~?\s*([#^/])\s*([^\s}~]+)/g)) {
    if (m[1] === "/") {
      const i = open.map((o) => o.name).lastIndexOf(m[2]!);
      if (i >= 0) open.splice(i);
    } else if (!(m[1] === "^" && m[2] === "")) {
      open.push({ name: m[2]!, offset: m.index });
    }
  }
  const last = open.at(-1);
  if (!last) return undefined;
  const before = source.slice(0, last.offset);
  return { name: last.name, at: { line: before.split("\n").length, col: last.offset - before.lastIndexOf("\n") } };
}

/**
 * Finds what strict mode misses or reports badly: unknown names anywhere (`{{#if options.ormm}}`,
 * helper arguments), unknown helpers and partials, and `eq`/`ne` against a value that is not a
 * choice of the option (always false, or always true).
 */
export function lintTemplate(ast: hbs.AST.Program, file: string, scope: Scope): { problems: TemplateProblem[]; partials: PartialCalls } {
  const problems: TemplateProblem[] = [];
  const partials: PartialCalls = new Map();
  const at = (node: Node) => ({ file, line: node.loc?.start.line, col: node.loc ? node.loc.start.column + 1 : undefined });
  const report = (node: Node, message: string) => problems.push({ ...at(node), message });

  const value = (expr: Expr | undefined, ownContext: boolean): void => {
    if (!expr) return;
    if (expr.type === "SubExpression") return call(expr as hbs.AST.SubExpression, ownContext);
    if (expr.type !== "PathExpression") return;
    const problem = pathProblem(expr as Path, ownContext, scope);
    if (problem) report(expr, problem);
  };

  /** A helper call: the helper must exist; its arguments are values; eq/ne compare against choices. */
  const call = (node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression, ownContext: boolean): void => {
    const callee = node.path as Path;
    const name = callee.original;
    const hasArgs = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (hasArgs || node.type === "SubExpression") {
      if (callee.type === "PathExpression" && !scope.helpers.has(name)) {
        report(callee, `unknown helper "${name}" (helpers: ${[...scope.helpers].sort().join(", ")})${hasArgs ? "" : `; ${ESCAPE_HINT}`}`);
      }
    } else if (!scope.helpers.has(name)) {
      value(callee, ownContext);
    }
    for (const p of node.params) value(p, ownContext);
    for (const pair of node.hash?.pairs ?? []) value(pair.value, ownContext);
    if ((name === "eq" || name === "ne" || name === "includes") && node.params.length === 2) compareProblem(name, node.params, ownContext, scope, report);
  };

  const walk = (node: Node | undefined, ownContext: boolean): void => {
    if (!node) return;
    switch (node.type) {
      case "Program":
        for (const statement of (node as hbs.AST.Program).body) walk(statement, ownContext);
        return;
      case "MustacheStatement":
        return call(node as hbs.AST.MustacheStatement, ownContext);
      case "BlockStatement": {
        const block = node as hbs.AST.BlockStatement;
        call(block, ownContext);
        const name = (block.path as Path).original;
        // {{#each list}} and {{#with x}} change `this`; so does a section {{#project}} without arguments.
        const inner = ownContext && !CONTEXT_CHANGING.has(name) && (scope.helpers.has(name) || block.params.length > 0);
        walk(block.program, inner);
        walk(block.inverse, ownContext);
        return;
      }
      case "PartialStatement":
      case "PartialBlockStatement": {
        const partial = node as hbs.AST.PartialStatement;
        if (partial.name.type === "PathExpression") {
          const keys = [...(partials.get((partial.name as Path).original) ?? []), ...(partial.hash?.pairs.map((p) => p.key) ?? []), ...(partial.params.length ? ["*"] : [])];
          partials.set((partial.name as Path).original, keys);
        }
        if (partial.name.type === "PathExpression" && !scope.partials.has((partial.name as Path).original)) {
          const known = [...scope.partials].sort().join(", ") || "none";
          report(partial.name, `unknown partial "${(partial.name as Path).original}" (partials: ${known})`);
        }
        for (const p of partial.params) value(p, ownContext);
        if (node.type === "PartialBlockStatement") walk((node as hbs.AST.PartialBlockStatement).program, ownContext);
        return;
      }
      default:
        return;
    }
  };
  walk(ast, true);
  return { problems, partials };
}

/** Why a name does not resolve in the template's context, or undefined when it does (or cannot be known). */
function pathProblem(path: Path, ownContext: boolean, scope: Scope): string | undefined {
  const isRoot = path.data && path.parts[0] === "root";
  if (path.data && !isRoot) return undefined; // @index, @key, ... inside blocks
  if (scope.unknownContext && !isRoot) return undefined;
  if (!isRoot && (!ownContext || path.depth > 0 || path.parts.length === 0 || /^this\b/.test(path.original))) return undefined;
  const parts = isRoot ? path.parts.slice(1) : path.parts;
  let here: unknown = scope.context;
  for (let i = 0; i < parts.length; i++) {
    const record = here as Record<string, unknown>;
    if (here !== null && typeof here === "object" && Object.hasOwn(record, parts[i]!)) {
      here = record[parts[i]!];
      continue;
    }
    const name = parts.slice(0, i + 1).join(".");
    if (i === 0) {
      const guess = closest(parts[0]!, Object.keys(scope.context));
      return `unknown name "${path.original}" (a template sees ${Object.keys(scope.context).join(", ")})${guess ? `; did you mean "${guess}"?` : ""}; ${ESCAPE_HINT}`;
    }
    const parent = parts.slice(0, i).join(".");
    const siblings = here !== null && typeof here === "object" ? Object.keys(record) : [];
    const guess = closest(parts[i]!, siblings);
    const offered = parent === "options"
      ? `the ${scope.stack} manifest declares options ${siblings.join(", ") || "(none)"}`
      : siblings.length ? `${parent} has ${siblings.join(", ")}` : `${parent} is a value, not an object`;
    return `unknown name "${name}" (${offered})${guess ? `; did you mean "${parent}.${guess}"?` : ""}`;
  }
  return undefined;
}

/**
 * `(eq options.orm "tortise")`, `(includes options.features "cii")`: the literal must be a choice
 * of the option, and a string; an option with several values is tested with `includes`, the
 * others with `eq`/`ne`.
 */
function compareProblem(helper: string, params: Expr[], ownContext: boolean, scope: Scope, report: (node: Node, message: string) => void): void {
  const [a, b] = params as [Expr, Expr];
  const [path, literal] = helper === "includes" ? [a as Path, b] : a.type === "PathExpression" ? [a as Path, b] : [b as Path, a];
  if (path.type !== "PathExpression" || !ownContext || path.depth > 0) return;
  const parts = path.data && path.parts[0] === "root" ? path.parts.slice(1) : path.parts;
  if (parts.length !== 2 || parts[0] !== "options") return;
  const option = scope.options.find((o) => o.name === parts[1]);
  if (!option) return; // reported as an unknown name
  const values = option.choices.map((c) => c.value);
  if (Boolean(option.multiple) !== (helper === "includes")) {
    const shown = literal.type === "StringLiteral" ? `"${(literal as hbs.AST.StringLiteral).value}"` : "value";
    report(path, option.multiple
      ? `options.${option.name} is a list (any of ${values.join(", ")}), never equal to one value: test it with (includes options.${option.name} ${shown})`
      : `options.${option.name} is one value, not a list: compare it with (eq options.${option.name} ${shown})`);
    return;
  }
  if (literal.type === "StringLiteral") {
    const v = (literal as hbs.AST.StringLiteral).value;
    if (!values.includes(v)) {
      const guess = closest(v, values);
      report(literal, `${helper === "includes" ? "looks for" : "compares options." + option.name + " with"} "${v}"${helper === "includes" ? ` in options.${option.name}` : ""}, which is not one of its choices (${values.join(", ")}), so it is never ${helper === "includes" ? "there" : "equal"}${guess ? `; did you mean "${guess}"?` : ""}`);
    }
  } else if (literal.type === "NumberLiteral" || literal.type === "BooleanLiteral") {
    const v = String((literal as hbs.AST.NumberLiteral).value);
    report(literal, `compares options.${option.name} with the ${literal.type === "NumberLiteral" ? "number" : "boolean"} ${v}; option values are strings: write "${v}"`);
  }
}

/** The candidate nearest to `word` by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
