/**
 * A template's Handlebars as plain data, and the interpreter that runs it.
 *
 * The templates pack is built from Handlebars' own parse (whitespace control applied: the text
 * pieces are what Handlebars outputs), turned by `toProgram` into this small form when the file
 * uses only what the interpreter knows: text, `{{path}}` and `{{helper args}}`, subexpressions,
 * `#if` / `#unless` / `#each` / `#with` with `{{else}}`, `@index`-style data, and partials by
 * name (with a hash, with their standalone indent). Anything else (decorators, block params,
 * `../`, dynamic partials, other block helpers) is left to Handlebars: the pack keeps its
 * precompiled spec instead. Output is Handlebars' byte for byte (the pack's test renders every
 * variant both ways). Why not Handlebars' precompiled specs for all: each is JavaScript that V8
 * must parse and compile at every scaffold, about 50 instructions a byte of template (a 400 KB
 * lock file: some 20M), while this is JSON.parse and string concatenation.
 */

/** A value: a literal, a path in the context (`d`: in the data, `@index`), or a helper call. */
export type Expr = { readonly v: string | number | boolean | null } | PathExpr | { readonly h: string; readonly a: readonly Expr[]; readonly k?: Hash };

export type PathExpr = { readonly p: readonly string[]; readonly d?: 1 };

export type Hash = Readonly<Record<string, Expr>>;

/**
 * A piece of output: text; a mustache (`s`: a plain path, which strict mode requires to exist;
 * `l`: its line and column); a block of a built-in helper (`f` its body, `i` its else); a partial
 * (`n` its name, `c` its context, `k` its hash, `t` the indent of a standalone partial).
 */
export type Node =
  | string
  | { readonly m: Expr; readonly s?: 1; readonly l?: readonly [number, number] }
  | { readonly b: "if" | "unless" | "each" | "with"; readonly a: readonly Expr[]; readonly k?: Hash; readonly f: readonly Node[]; readonly i?: readonly Node[] }
  | { readonly n: string; readonly c?: Expr; readonly k?: Hash; readonly t?: string };

export type Program = readonly Node[];

const BLOCKS = new Set(["if", "unless", "each", "with"]);

/** Not something the interpreter runs: the file keeps Handlebars' precompiled form. */
class Unsupported extends Error {}

/**
 * The program of a parsed template (Handlebars.parse), or undefined when it uses something the
 * interpreter does not run. `helpers`: the names callable as helpers (ours; the built-in blocks
 * are known here). `partials`: the names of partials that have a program themselves.
 */
export function toProgram(ast: hbs.AST.Program, helpers: ReadonlySet<string>, partials: ReadonlySet<string>): Program | undefined {
  try {
    return program(ast, helpers, partials);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function program(ast: hbs.AST.Program, helpers: ReadonlySet<string>, partials: ReadonlySet<string>): Node[] {
  if (ast.blockParams?.length) throw new Unsupported();
  const out: Node[] = [];
  const expr = (e: hbs.AST.Expression): Expr => {
    switch (e.type) {
      case "StringLiteral":
      case "NumberLiteral":
      case "BooleanLiteral":
        return { v: (e as hbs.AST.StringLiteral).value };
      case "NullLiteral":
        return { v: null };
      case "PathExpression":
        return path(e as hbs.AST.PathExpression);
      case "SubExpression": {
        const sub = e as hbs.AST.SubExpression;
        return call(sub.path, sub.params, sub.hash);
      }
      default:
        throw new Unsupported();
    }
  };
  const path = (p: hbs.AST.PathExpression): Expr => {
    if (p.depth !== 0 || p.parts.some((part) => typeof part !== "string")) throw new Unsupported();
    return p.data ? { p: p.parts, d: 1 } : { p: p.parts };
  };
  const hashOf = (hash: hbs.AST.Hash | undefined): Hash | undefined =>
    hash && hash.pairs.length > 0 ? Object.fromEntries(hash.pairs.map((pair) => [pair.key, expr(pair.value)])) : undefined;
  const helperName = (p: hbs.AST.Expression): string => {
    const name = p.type === "PathExpression" ? (p as hbs.AST.PathExpression).original : "";
    if (!helpers.has(name)) throw new Unsupported();
    return name;
  };
  const call = (p: hbs.AST.Expression, params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined): Expr => {
    const k = hashOf(hash);
    return { h: helperName(p), a: params.map(expr), ...(k ? { k } : {}) };
  };

  for (const statement of ast.body) {
    switch (statement.type) {
      case "ContentStatement": {
        const text = (statement as hbs.AST.ContentStatement).value;
        if (text === "") break;
        if (typeof out.at(-1) === "string") out[out.length - 1] += text;
        else out.push(text);
        break;
      }
      case "CommentStatement":
        break;
      case "MustacheStatement": {
        const m = statement as hbs.AST.MustacheStatement;
        const simple = m.path.type === "PathExpression" && m.params.length === 0 && !m.hash && !helpers.has((m.path as hbs.AST.PathExpression).original);
        if (simple) out.push({ m: path(m.path as hbs.AST.PathExpression), s: 1, l: [m.loc.start.line, m.loc.start.column] });
        else out.push({ m: call(m.path, m.params, m.hash) });
        break;
      }
      case "BlockStatement": {
        const b = statement as hbs.AST.BlockStatement;
        const name = b.path.type === "PathExpression" ? (b.path as hbs.AST.PathExpression).original : "";
        if (!BLOCKS.has(name) || b.params.length !== 1) throw new Unsupported();
        const k = hashOf(b.hash);
        out.push({
          b: name as "if" | "unless" | "each" | "with",
          a: b.params.map(expr),
          ...(k ? { k } : {}),
          f: b.program ? program(b.program, helpers, partials) : [],
          ...(b.inverse ? { i: program(b.inverse, helpers, partials) } : {}),
        });
        break;
      }
      case "PartialStatement": {
        const p = statement as hbs.AST.PartialStatement;
        const name = p.name.type === "PathExpression" ? (p.name as hbs.AST.PathExpression).original : undefined;
        if (name === undefined || !partials.has(name) || p.params.length > 1) throw new Unsupported();
        const k = hashOf(p.hash);
        const indent = (p as hbs.AST.PartialStatement & { indent?: string }).indent;
        out.push({ n: name, ...(p.params[0] ? { c: expr(p.params[0]) } : {}), ...(k ? { k } : {}), ...(indent ? { t: indent } : {}) });
        break;
      }
      default:
        throw new Unsupported(); // decorators, partial blocks
    }
  }
  return out;
}

/** What a program's `{{name args}}` may call: the template helpers, each given Handlebars' options last. */
export type Helpers = Readonly<Record<string, (...args: never[]) => unknown>>;

interface Frame {
  readonly root: unknown;
  readonly index?: number;
  readonly key?: string | number;
  readonly first?: boolean;
  readonly last?: boolean;
}

/** Thrown where strict mode finds a name missing, with its place (as Handlebars' exceptions carry it). */
class Missing extends Error {
  constructor(name: string, where: unknown, readonly lineNumber?: number, readonly column?: number) {
    super(`"${name}" not defined in ${String(where)}`);
  }
}

/** Runs a program on `context` (the root), with the partials' programs by name. */
export function runProgram(root: Program, context: unknown, partials: Readonly<Record<string, Program>>, helpers: Helpers): string {
  const own = (object: unknown, name: string): unknown => {
    const value = (object as Record<string, unknown>)[name]; // a TypeError on undefined, as Handlebars' strict lookups throw
    return value != null && Object.prototype.hasOwnProperty.call(object, name) ? value : value == null ? value : undefined;
  };
  const lookup = (e: PathExpr, self: unknown, data: Frame, strict?: readonly [number, number]): unknown => {
    let value: unknown = e.d ? data : self;
    const parts = e.p;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      if (strict && i === parts.length - 1 && (!value || !(name in (value as object)))) throw new Missing(name, value, strict[0], strict[1]);
      value = own(value, name);
    }
    return value;
  };
  const evaluate = (e: Expr, self: unknown, data: Frame): unknown => {
    if ("v" in e) return e.v;
    if ("p" in e) return lookup(e, self, data);
    const args = e.a.map((a) => evaluate(a, self, data));
    const hash = e.k ? hashValues(e.k, self, data) : {};
    return (helpers[e.h] as (...a: unknown[]) => unknown).call(self, ...args, { name: e.h, hash, data });
  };
  const hashValues = (k: Hash, self: unknown, data: Frame) => Object.fromEntries(Object.entries(k).map(([key, v]) => [key, evaluate(v, self, data)]));
  const empty = (value: unknown) => (!value && value !== 0) || (Array.isArray(value) && value.length === 0);

  const run = (nodes: Program, self: unknown, data: Frame): string => {
    let out = "";
    for (const node of nodes) {
      if (typeof node === "string") {
        out += node;
      } else if ("m" in node) {
        let value = node.s ? lookup(node.m as PathExpr, self, data, node.l ?? [0, 0]) : evaluate(node.m, self, data);
        if (typeof value === "function") value = (value as () => unknown).call(self);
        if (value != null) out += value;
      } else if ("b" in node) {
        out += block(node, self, data);
      } else {
        out += partial(node, self, data);
      }
    }
    return out;
  };

  const block = (node: Extract<Node, { b: string }>, self: unknown, data: Frame): string => {
    let value = evaluate(node.a[0]!, self, data);
    if (typeof value === "function") value = (value as () => unknown).call(self);
    const inverse = () => (node.i ? run(node.i, self, data) : "");
    switch (node.b) {
      case "if":
      case "unless": {
        const includeZero = node.k?.includeZero ? Boolean(evaluate(node.k.includeZero, self, data)) : false;
        const falsy = (!includeZero && !value) || empty(value);
        return falsy === (node.b === "if") ? inverse() : run(node.f, self, data);
      }
      case "with":
        return empty(value) ? inverse() : run(node.f, value, data);
      case "each": {
        let out = "";
        if (Array.isArray(value)) {
          value.forEach((item, index) => {
            out += run(node.f, item, { ...data, key: index, index, first: index === 0, last: index === value.length - 1 });
          });
          return value.length > 0 ? out : inverse();
        }
        if (value && typeof value === "object") {
          const keys = Object.keys(value);
          keys.forEach((key, index) => {
            out += run(node.f, (value as Record<string, unknown>)[key], { ...data, key, index, first: index === 0, last: index === keys.length - 1 });
          });
          return keys.length > 0 ? out : inverse();
        }
        return inverse();
      }
    }
  };

  const partial = (node: Extract<Node, { n: string }>, self: unknown, data: Frame): string => {
    let context = node.c ? evaluate(node.c, self, data) : self;
    if (node.k) context = { ...(context as object), ...hashValues(node.k, self, data) };
    const body = partials[node.n];
    if (!body) throw new Error(`The partial ${node.n} could not be found`);
    const result = run(body, context, data);
    if (!node.t) return result;
    // A standalone partial's lines take its indent, as Handlebars indents them (not an empty last line).
    const lines = result.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i] && i + 1 === lines.length) break;
      lines[i] = node.t + lines[i];
    }
    return lines.join("\n");
  };

  return run(root, context, { root: context });
}
