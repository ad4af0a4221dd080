import { TemplateError } from "../errors.js";
import type { RuntimeScan } from "../options/runtimes.js";
import { NO_VALUES } from "./conditions.js";
import { locateField } from "./json.js";

export { brokenRule, describeWhen, flagValue, isDefaultValue, NO_VALUES, whenMatches } from "./conditions.js";

/** One choice of an option, as the manifest declares it. */
export interface Choice {
  readonly value: string;
  readonly label: string;
  readonly hint?: string;
}

/**
 * An answer to one option: one of its choices, or for a `multiple` option the chosen values in
 * the manifest's order (possibly none).
 */
export type OptionValue = string | readonly string[];
/** The answers to a template's options, by option name. */
export type OptionValues = Readonly<Record<string, OptionValue>>;

/** An option of a template: one flag, one prompt, one variable `options.<name>`. */
export interface OptionSpec {
  readonly name: string;
  readonly message: string;
  readonly description: string;
  /** A choice value; for a `multiple` option a list of them (possibly empty). */
  readonly default: OptionValue;
  readonly choices: readonly Choice[];
  /**
   * Any number of the choices may be taken at once (a multi-select prompt, `--<name> a,b` or
   * `--<name> none`); templates test membership: `(includes options.<name> "a")`, `when: { "<name>": "a" }`.
   */
  readonly multiple?: boolean;
  /**
   * "package-manager": the default is the one that started the CLI (npm create, pnpm create, ...).
   * "python" / "node": the values are runtime versions; the default is one installed here.
   */
  readonly detect?: DetectKind;
  /** Set by detection on this machine (never in a manifest): the runtime versions found here. */
  readonly runtime?: RuntimeScan;
}

export const DETECT_KINDS = ["package-manager", "python", "node"] as const;
export type DetectKind = (typeof DETECT_KINDS)[number];

/**
 * A step applied when its `when` matches the answers: first it removes the `exclude` paths from
 * what earlier layers produced, then it adds the files of its folder (a layer may do only one).
 */
export interface Layer {
  /** Folder inside the template (`source`) or inside `_shared/` (`shared`); null for an exclude-only layer. */
  readonly from: { readonly kind: "template" | "shared"; readonly dir: string } | null;
  /** Folder inside the project the files land in ("" = project root). */
  readonly target: string;
  /** option name -> accepted values (`!x`: not x; `+x`: x too); every entry must match, see whenMatches. */
  readonly when: When;
  /** Project paths (as written: `alembic.ini`, `app/db/migrations/`) removed when this layer applies; a trailing `/` means the folder. */
  readonly exclude: readonly string[];
}

/** option name -> the values a condition accepts; a value written `!x` refuses x, `+x` requires it (see whenMatches). */
export type When = Readonly<Record<string, readonly string[]>>;

/**
 * A combination the template does not support, as data: answers that match `if` must also match
 * `requires`, or resolving them fails with `message`, naming the rule.
 */
export interface Rule {
  readonly name: string;
  readonly if: When;
  readonly requires: When;
  /** Why, in a few words: "the worker needs Redis in Compose". */
  readonly message: string;
}

export interface Manifest {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly order: number;
  readonly options: readonly OptionSpec[];
  readonly layers: readonly Layer[];
  /** The commands a user runs after generating, per way of running the database. */
  readonly next: readonly NextSpec[];
  /** The install step's commands; each runs when its `when` matches (no `when`: always). */
  readonly install: readonly InstallCommand[];
  /** Where the booted service answers: `path` on the host port named by `portVar` in .env; docs at `docsPath`. */
  readonly health: { readonly path: string; readonly portVar: string; readonly docsPath: string };
  /** How `pnpm templates:lock` makes each lock file: run `run` in a generated project, keep `file`. */
  readonly lock: readonly LockSpec[];
  /** Project files holding the user's state (`.env`): with --force an existing one is kept, only missing keys appended. */
  readonly keep: readonly string[];
  /** The commands the e2e tier runs in a generated project of each variant, by step. */
  readonly verify: readonly VerifyCommand[];
  /** Combinations the template does not support, checked when the answers are resolved. */
  readonly rules: readonly Rule[];
  /** From the templates pack: its Handlebars texts (install commands, explanations) precompiled, by text. */
  readonly precompiled?: Readonly<Record<string, string>>;
  /** From the templates pack: those texts as programs (render/program.ts), where the interpreter runs them. */
  readonly programs?: Readonly<Record<string, import("../render/program.js").Program>>;
}

export const VERIFY_STEPS = ["migrate", "migrate-down", "lint", "test"] as const;

/** One command of `verify`: `migrate` creates the schema, `migrate-down` drops it, `lint` and `test` must pass. */
export interface VerifyCommand {
  readonly step: (typeof VERIFY_STEPS)[number];
  readonly run: readonly string[];
  readonly when: When;
}

export interface InstallCommand {
  readonly run: readonly string[];
  readonly when: When;
  /** How to get the program when it is missing ("npm install --global pnpm@10"), shown in that case. */
  readonly get?: string;
  /**
   * Known failures: when the command fails and its output matches `output` (a regular
   * expression), the step says `say` in one line instead of showing the output. `say` is
   * Handlebars with `options` and `match` (the expression's groups).
   */
  readonly explain: readonly { readonly output: RegExp; readonly say: string }[];
}

/**
 * Where the project's database runs, each a path to a healthy service: "local", a Postgres the
 * user reaches as a superuser (PGHOST, PGUSER, ...); "docker", the Compose stack; "embedded", a
 * PostgreSQL server from a dev dependency, started by the project's own commands.
 */
export const DATABASE_PATHS = ["local", "docker", "embedded"] as const;
export type DatabasePath = (typeof DATABASE_PATHS)[number];

export interface NextSpec {
  readonly database: DatabasePath;
  /** What the path needs on the user's machine, in a few words. */
  readonly needs: string;
  /** The dependencies must be installed on this machine first (the install commands go before `run`). */
  readonly install: boolean;
  readonly run: readonly string[];
}

export interface LockSpec {
  readonly file: string;
  readonly run: readonly string[];
  readonly when: When;
  /**
   * Project files the lock command reads, the dependency file first (`pyproject.toml`): variants
   * whose inputs render the same share one generated lock, and `templates check` compares the
   * lock with the first. Empty: the dependency file is inferred from the lock's name.
   */
  readonly inputs: readonly string[];
  /**
   * `multiple` options (`features`) whose values change the dependencies without a lock layer per
   * value: each lock layer holds one lock merged from every combination of their values (one
   * generated lock per distinct `inputs`), see src/templates/lock-merge.ts.
   */
  readonly merge: readonly string[];
}

/**
 * Flags of the CLI itself (and the names a template sees besides `options`); a template option
 * may not take one of these names, nor any `no-*` name (commander reads `--no-x` as "x is false").
 */
export const RESERVED_OPTION_NAMES = new Set([
  "name", "stack", "db-name", "db-user", "yes", "force", "dry-run", "json", "help", "version",
  "install", "git", "boot", "boot-timeout", "templates", "dir", "project", "db", "generator",
]);

/** Why an option may not be called `name`, or undefined when it may. */
export function reservedNameProblem(name: string): string | undefined {
  if (RESERVED_OPTION_NAMES.has(name)) return `"${name}" is a flag of the CLI itself (--${name}); choose another name`;
  if (name.startsWith("no-")) return `"${name}" cannot be a flag: --${name} means "${name.slice(3)} is false" on the command line; choose a name without "no-"`;
  return undefined;
}

const NAME_RE = /^[a-z][a-z0-9-]*$/;

/** A lock layer is a layer whose folder is named `lock*` (`lock-npm-drizzle`): it holds lock files only. */
export function isLockLayer(dir: string): boolean {
  return dir.split("/").pop()!.startsWith("lock");
}

/**
 * Checks a parsed `template.json` and returns it typed. Every problem is reported as one
 * TemplateError naming the file and the field, e.g. `templates/x/template.json:12:18: options[1].default ...`
 * (the line and column when the file's text is given).
 */
export function parseManifest(raw: unknown, file: string, folderName: string, text?: string): Manifest {
  const fail = (field: string, problem: string): never => {
    throw new TemplateError(text === undefined
      ? `${file}: ${field} ${problem}`
      : { file, ...locateField(text, field), message: `${field} ${problem}` });
  };
  const obj = (value: unknown, field: string): Record<string, unknown> => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "must be an object");
    return value as Record<string, unknown>;
  };
  const str = (value: unknown, field: string, optional = false): string => {
    if (value === undefined && optional) return "";
    if (typeof value !== "string" || value.trim() === "") fail(field, "must be a non-empty string");
    return value as string;
  };
  const arr = (value: unknown, field: string): unknown[] => {
    if (!Array.isArray(value)) fail(field, "must be an array");
    return value as unknown[];
  };
  const relPath = (value: unknown, field: string, allowEmpty: boolean): string => {
    if (value === undefined && allowEmpty) return "";
    const p = str(value, field).replace(/\/+$/, "");
    if (p.startsWith("/") || /^[a-zA-Z]:/.test(p) || p.split(/[\\/]/).some((seg) => seg === ".." || seg === "")) {
      fail(field, `must be a relative path inside the folder (got "${p}")`);
    }
    return p === "." ? "" : p;
  };

  const root = obj(raw, "(root)");
  const known = new Set(["$schema", "name", "title", "description", "order", "options", "layers", "next", "install", "health", "lock", "keep", "verify", "rules"]);
  for (const key of Object.keys(root)) if (!known.has(key)) fail(key, "is not a known field");

  const name = str(root.name, "name");
  if (!NAME_RE.test(name)) fail("name", `must match ${NAME_RE} (got "${name}")`);
  if (name !== folderName) fail("name", `must equal the folder name "${folderName}" (got "${name}")`);
  const order = root.order === undefined ? 100 : root.order;
  if (typeof order !== "number" || !Number.isFinite(order)) fail("order", "must be a number");

  const options = arr(root.options ?? [], "options").map((rawOption, i): OptionSpec => {
    const field = `options[${i}]`;
    const o = obj(rawOption, field);
    const optName = str(o.name, `${field}.name`);
    if (!NAME_RE.test(optName)) fail(`${field}.name`, `must match ${NAME_RE} (got "${optName}")`);
    const reserved = reservedNameProblem(optName);
    if (reserved) fail(`${field}.name`, reserved);
    const choices = arr(o.choices, `${field}.choices`).map((rawChoice, j): Choice => {
      const c = obj(rawChoice, `${field}.choices[${j}]`);
      const value = str(c.value, `${field}.choices[${j}].value`);
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(value)) fail(`${field}.choices[${j}].value`, `must be lowercase letters, digits, ".", "_" or "-" (got "${value}")`);
      const hint = c.hint === undefined ? undefined : str(c.hint, `${field}.choices[${j}].hint`);
      return { value, label: str(c.label ?? value, `${field}.choices[${j}].label`), ...(hint ? { hint } : {}) };
    });
    if (choices.length === 0) fail(`${field}.choices`, "must offer at least one choice");
    const values = choices.map((c) => c.value);
    const dup = values.find((v, k) => values.indexOf(v) !== k);
    if (dup) fail(`${field}.choices`, `offers "${dup}" twice`);
    if (o.multiple !== undefined && typeof o.multiple !== "boolean") fail(`${field}.multiple`, "must be true or false");
    const multiple = o.multiple === true;
    let dflt: OptionValue;
    if (multiple) {
      // "none" is how a command line says "no value at all" (--features none).
      if (values.includes(NO_VALUES)) fail(`${field}.choices`, `cannot offer "${NO_VALUES}": on the command line --${optName} ${NO_VALUES} means no value at all`);
      if (o.detect !== undefined) fail(`${field}.detect`, "cannot be used with multiple");
      const given = arr(o.default ?? [], `${field}.default`).map((v, j) => str(v, `${field}.default[${j}]`));
      const unknown = given.find((v) => !values.includes(v));
      if (unknown !== undefined) fail(`${field}.default`, `"${unknown}" is not one of its choices (${values.join(", ")})`);
      dflt = values.filter((v) => given.includes(v));
    } else {
      dflt = str(o.default, `${field}.default`);
      if (!values.includes(dflt)) fail(`${field}.default`, `"${dflt}" is not one of its choices (${values.join(", ")})`);
    }
    const message = str(o.message, `${field}.message`);
    if (o.detect !== undefined && !DETECT_KINDS.includes(o.detect as DetectKind)) fail(`${field}.detect`, `can only be ${DETECT_KINDS.map((k) => `"${k}"`).join(", ")}`);
    return {
      name: optName, message, description: str(o.description ?? message, `${field}.description`), default: dflt, choices,
      ...(multiple ? { multiple } : {}),
      ...(o.detect ? { detect: o.detect as DetectKind } : {}),
    };
  });
  const optionNames = options.map((o) => o.name);
  const dupOption = optionNames.find((v, k) => optionNames.indexOf(v) !== k);
  if (dupOption) fail("options", `declare "${dupOption}" twice`);

  /** `when`: option name -> one value or a list, each a declared choice, or `!` and a choice (not that value), or for a `multiple` option `+` and a choice (that one too). */
  const parseWhen = (raw: unknown, field: string): Record<string, readonly string[]> => {
    const when: Record<string, readonly string[]> = {};
    for (const [key, rawValue] of Object.entries(obj(raw ?? {}, field))) {
      const spec = options.find((o) => o.name === key);
      if (!spec) fail(`${field}.${key}`, `is not a declared option (${optionNames.join(", ") || "none"})`);
      const accepted = Array.isArray(rawValue) ? rawValue : [rawValue];
      for (const v of accepted) {
        if (typeof v !== "string" || !spec!.choices.some((c) => c.value === v.replace(/^[!+]/, ""))) {
          fail(`${field}.${key}`, `"${String(v)}" is not a choice of option ${key}${typeof v === "string" && /^[!+]/.test(v) ? ` after "${v[0]}"` : ""}`);
        }
        // "+x" (x must be among the chosen) only means something for an option with several values.
        if (v.startsWith("+") && !spec!.multiple) fail(`${field}.${key}`, `"${v}": "+" is for an option that takes several values; ${key} takes one (write "${v.slice(1)}")`);
      }
      when[key] = accepted as string[];
    }
    return when;
  };

  const layers = arr(root.layers, "layers").map((rawLayer, i): Layer => {
    const field = `layers[${i}]`;
    const l = obj(rawLayer, field);
    for (const key of Object.keys(l)) if (!["source", "shared", "target", "when", "exclude"].includes(key)) fail(`${field}.${key}`, "is not a known field");
    const exclude = arr(l.exclude ?? [], `${field}.exclude`).map((p, j) => {
      const rel = relPath(p, `${field}.exclude[${j}]`, false);
      return typeof p === "string" && p.endsWith("/") ? `${rel}/` : rel;
    });
    if (l.source !== undefined && l.shared !== undefined) fail(field, 'must have one of "source" or "shared", not both');
    if (l.source === undefined && l.shared === undefined && exclude.length === 0) fail(field, 'must have "source", "shared" or "exclude"');
    const from = l.source !== undefined
      ? { kind: "template" as const, dir: relPath(l.source, `${field}.source`, false) }
      : l.shared !== undefined ? { kind: "shared" as const, dir: relPath(l.shared, `${field}.shared`, false) } : null;
    return { from, target: relPath(l.target, `${field}.target`, true), when: parseWhen(l.when, `${field}.when`), exclude };
  });
  if (layers.length === 0) fail("layers", "must list at least one layer");

  // `next`: one entry per database path; a plain list of commands is the short form of one local path.
  const rawNext = arr(root.next ?? [], "next");
  const next = rawNext.every((v) => typeof v === "string")
    ? (rawNext.length === 0 ? [] : [{ database: "local" as const, needs: "a Postgres", install: true, run: rawNext.map((v, i) => str(v, `next[${i}]`)) }])
    : rawNext.map((rawPath, i): NextSpec => {
      const field = `next[${i}]`;
      const n = obj(rawPath, field);
      for (const key of Object.keys(n)) if (!["database", "needs", "install", "run"].includes(key)) fail(`${field}.${key}`, "is not a known field");
      const database = str(n.database, `${field}.database`) as DatabasePath;
      if (!DATABASE_PATHS.includes(database)) fail(`${field}.database`, `must be one of ${DATABASE_PATHS.join(", ")} (got "${database}")`);
      if (n.install !== undefined && typeof n.install !== "boolean") fail(`${field}.install`, "must be true or false");
      const run = arr(n.run, `${field}.run`).map((v, j) => str(v, `${field}.run[${j}]`));
      return { database, needs: str(n.needs, `${field}.needs`), install: n.install === true, run };
    });
  const paths = next.map((n) => n.database);
  const dupPath = paths.find((v, k) => paths.indexOf(v) !== k);
  if (dupPath) fail("next", `lists the database path "${dupPath}" twice`);
  // An install command is an argv array, or { "run": argv, "when": {...}, "get": "...", "explain": [...] }.
  const install = arr(root.install ?? [], "install").map((cmd, i): InstallCommand => {
    const field = `install[${i}]`;
    const conditional = !Array.isArray(cmd);
    const run = arr(conditional ? obj(cmd, field).run : cmd, conditional ? `${field}.run` : field)
      .map((v, j) => str(v, `${field}${conditional ? ".run" : ""}[${j}]`));
    if (run.length === 0) fail(conditional ? `${field}.run` : field, "must name a program");
    if (!conditional) return { run, when: {}, explain: [] };
    const c = cmd as Record<string, unknown>;
    for (const key of Object.keys(c)) if (!["run", "when", "get", "explain"].includes(key)) fail(`${field}.${key}`, "is not a known field");
    const get = c.get === undefined ? undefined : str(c.get, `${field}.get`);
    const explain = arr(c.explain ?? [], `${field}.explain`).map((rawExplain, j) => {
      const e = obj(rawExplain, `${field}.explain[${j}]`);
      const source = str(e.output, `${field}.explain[${j}].output`);
      let output: RegExp;
      try {
        output = new RegExp(source, "m");
      } catch (error) {
        return fail(`${field}.explain[${j}].output`, `is not a regular expression (${(error as Error).message})`);
      }
      return { output, say: str(e.say, `${field}.explain[${j}].say`) };
    });
    return { run, when: parseWhen(c.when, `${field}.when`), ...(get ? { get } : {}), explain };
  });
  const health = obj(root.health, "health");
  const lock = arr(root.lock ?? [], "lock").map((rawLock, i): LockSpec => {
    const l = obj(rawLock, `lock[${i}]`);
    const run = arr(l.run, `lock[${i}].run`).map((v, j) => str(v, `lock[${i}].run[${j}]`));
    if (run.length === 0) fail(`lock[${i}].run`, "must name a program");
    for (const key of Object.keys(l)) if (!["file", "run", "when", "inputs", "merge"].includes(key)) fail(`lock[${i}].${key}`, "is not a known field");
    const when = parseWhen(l.when, `lock[${i}].when`);
    const inputs = arr(l.inputs ?? [], `lock[${i}].inputs`).map((v, j) => relPath(v, `lock[${i}].inputs[${j}]`, false));
    const merge = arr(l.merge ?? [], `lock[${i}].merge`).map((v, j) => {
      const field = `lock[${i}].merge[${j}]`;
      const option = options.find((o) => o.name === v);
      if (!option) return fail(field, `"${String(v)}" is not a declared option (${optionNames.join(", ") || "none"})`);
      if (!option.multiple) fail(field, `"${option.name}" takes one value: give each value its own lock layer instead (see templates/README.md, "Lock files")`);
      if (when[option.name]) fail(field, `"${option.name}" is merged into one lock, so lock[${i}].when cannot test it`);
      const tested = layers.findIndex((layer) => layer.from && isLockLayer(layer.from.dir) && layer.when[option.name]);
      if (tested >= 0) fail(field, `"${option.name}" is merged into one lock per lock layer, so the lock layer layers[${tested}] cannot test it`);
      return option.name;
    });
    if (merge.length > 0 && inputs.length === 0) fail(`lock[${i}].inputs`, `must name the files ${run[0]} reads (e.g. ["pyproject.toml"]) when merge is given: variants whose inputs render the same share one lock`);
    return { file: relPath(l.file, `lock[${i}].file`, false), run, when, inputs, merge };
  });
  const verify = arr(root.verify ?? [], "verify").map((rawCommand, i): VerifyCommand => {
    const field = `verify[${i}]`;
    const v = obj(rawCommand, field);
    for (const key of Object.keys(v)) if (!["step", "run", "when"].includes(key)) fail(`${field}.${key}`, "is not a known field");
    const step = str(v.step, `${field}.step`) as VerifyCommand["step"];
    if (!VERIFY_STEPS.includes(step)) fail(`${field}.step`, `must be one of ${VERIFY_STEPS.join(", ")} (got "${step}")`);
    const run = arr(v.run, `${field}.run`).map((a, j) => str(a, `${field}.run[${j}]`));
    if (run.length === 0) fail(`${field}.run`, "must name a program");
    return { step, run, when: parseWhen(v.when, `${field}.when`) };
  });
  const rules = arr(root.rules ?? [], "rules").map((rawRule, i): Rule => {
    const field = `rules[${i}]`;
    const r = obj(rawRule, field);
    for (const key of Object.keys(r)) if (!["name", "if", "requires", "message"].includes(key)) fail(`${field}.${key}`, "is not a known field");
    const ruleName = str(r.name, `${field}.name`);
    if (!NAME_RE.test(ruleName)) fail(`${field}.name`, `must match ${NAME_RE} (got "${ruleName}")`);
    const condition = parseWhen(r.if, `${field}.if`);
    const requires = parseWhen(r.requires, `${field}.requires`);
    if (Object.keys(condition).length === 0) fail(`${field}.if`, "must name at least one option");
    if (Object.keys(requires).length === 0) fail(`${field}.requires`, "must name at least one option");
    return { name: ruleName, if: condition, requires, message: str(r.message, `${field}.message`) };
  });
  const ruleNames = rules.map((r) => r.name);
  const dupRule = ruleNames.find((v, k) => ruleNames.indexOf(v) !== k);
  if (dupRule) fail("rules", `name "${dupRule}" twice`);

  return Object.freeze({
    name,
    title: str(root.title, "title"),
    description: str(root.description, "description"),
    order: order as number,
    options,
    layers,
    next,
    install,
    health: {
      path: str(health.path, "health.path"),
      portVar: str(health.portVar, "health.portVar"),
      docsPath: health.docsPath === undefined ? "/docs" : str(health.docsPath, "health.docsPath"),
    },
    lock,
    keep: arr(root.keep ?? [], "keep").map((v, i) => relPath(v, `keep[${i}]`, false)),
    verify,
    rules,
  });
}
