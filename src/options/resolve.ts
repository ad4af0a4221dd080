import path from "node:path";
import { CancelledError, UserError } from "../errors.js";
import { brokenRule, describeWhen, flagValue, isDefaultValue, NO_VALUES, whenMatches, type Manifest, type OptionSpec, type OptionValue } from "../templates/manifest.js";
import { foundMark } from "./detect.js";
import { inspectTarget, type TargetState } from "../write/target.js";
import type { FsLike } from "../write/fs.js";
import type { Answers, Flags, Prompter, StepChoices } from "./types.js";
import {
  checkDbIdentifier,
  checkProjectName,
  defaultDbName,
  defaultDbUser,
  suggestProjectName,
  toPyPackage,
  toTitle,
} from "./names.js";

export const DEFAULT_DIRECTORY = "my-api";
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 180;

export interface ResolveContext {
  readonly manifests: readonly Manifest[];
  readonly cwd: string;
  readonly fs: FsLike;
  /** A person can answer prompts (a TTY, and not CI). */
  readonly interactive: boolean;
  /** Why nobody can be asked, for the error that lists the missing flags ("--json is set", ...). */
  readonly noPrompts?: string;
  readonly prompter: Prompter;
}

/**
 * Turns flags into Answers. Every question follows one rule, in this order:
 * the flag if given (validated), else a prompt if interactive, else the default with --yes,
 * else it is reported missing. Missing answers end in one UserError naming the flags.
 */
export async function resolveAnswers(flags: Flags, ctx: ResolveContext): Promise<Answers> {
  const { manifests, interactive, prompter } = ctx;
  const ask = interactive && !flags.yes;
  const missing: string[] = [];

  // 1. Directory and project name, checked before any other question so a bad name fails fast.
  let directory = flags.directory;
  if (directory === undefined) {
    if (ask) {
      directory = await prompter.text({
        message: "Project name",
        placeholder: DEFAULT_DIRECTORY,
        defaultValue: DEFAULT_DIRECTORY,
        validate: (value) => projectNameProblem(path.basename(path.resolve(ctx.cwd, value || DEFAULT_DIRECTORY))),
      });
      directory = directory.trim() || DEFAULT_DIRECTORY;
    } else if (flags.yes) {
      directory = DEFAULT_DIRECTORY;
    } else {
      missing.push("<directory>");
    }
  }
  const named = directory === undefined ? undefined : nameFromDirectory(directory, ctx.cwd, "directory");

  // 2. The target directory, before the stack questions: a non-empty one needs --force or a
  // confirmation (a dry run writes nothing, so it only marks the files it would replace).
  let force = flags.force;
  const shown = directory === "." ? "the current directory" : (directory ?? "");
  const target: TargetState | undefined = named && await inspectTarget(ctx.fs, named.targetDir, shown);
  if (target?.kind === "non-empty" && !force && !flags.dryRun) {
    if (!ask) {
      throw new UserError(`${shown} is not empty (${target.entries} entries); pass --force to add the template's files to it (nothing else is touched)`);
    }
    force = await prompter.confirm({
      message: `${shown} is not empty. Add the template's files to it? Files with the same names are replaced; nothing else is touched.`,
      initialValue: false,
    });
    if (!force) throw new CancelledError();
  }

  // 3. Stack.
  const defaultStack = manifests[0]!;
  let manifest: Manifest | undefined;
  if (flags.stack !== undefined) {
    manifest = manifests.find((m) => m.name === flags.stack);
    if (!manifest) throw new UserError(`--stack "${flags.stack}" is not a stack; choose one of: ${manifests.map((m) => m.name).join(", ")}`);
  } else if (manifests.length === 1) {
    manifest = defaultStack;
  } else if (ask) {
    const stack = await prompter.select({
      message: "Stack",
      options: manifests.map((m) => ({ value: m.name, label: m.title, hint: m.name === defaultStack.name ? "default" : "" })),
      initialValue: defaultStack.name,
    });
    manifest = manifests.find((m) => m.name === stack)!;
  } else if (flags.yes) {
    manifest = defaultStack;
  } else {
    missing.push(`--stack <${manifests.map((m) => m.name).join("|")}>`);
  }

  // 4. Template options: refuse flags the stack does not offer, then answer each option.
  const chosen = manifest ?? defaultStack;
  for (const [name, value] of Object.entries(flags.options)) {
    if (value === undefined || chosen.options.some((o) => o.name === name)) continue;
    const offeredBy = manifests.filter((m) => m.options.some((o) => o.name === name)).map((m) => m.name);
    const own = chosen.options.map((o) => `--${o.name}`).join(", ") || "none";
    throw new UserError(`--${name} does not apply to --stack ${chosen.name} (it belongs to ${offeredBy.join(", ")}; ${chosen.name} takes ${own})`);
  }
  const options: Record<string, OptionValue> = {};
  for (const spec of chosen.options) {
    const given = flags.options[spec.name];
    if (given !== undefined) {
      options[spec.name] = checkChoice(spec, given, chosen, manifests);
    } else if (ask && manifest) {
      const choices = spec.choices.map((c) => ({ value: c.value, label: c.label, hint: [isDefaultValue(spec, c.value) ? "default" : (c.hint ?? ""), foundMark(spec, c.value)].filter(Boolean).join(", ") }));
      options[spec.name] = spec.multiple
        ? inManifestOrder(spec, await prompter.multiselect({ message: spec.message, options: choices, initialValues: spec.default as readonly string[] }))
        : await prompter.select({ message: spec.message, options: choices, initialValue: spec.default as string });
    } else if (flags.yes) {
      options[spec.name] = spec.default;
    } else {
      missing.push(spec.multiple
        ? `--${spec.name} <${spec.choices.map((c) => c.value).join(",")}|${NO_VALUES}>`
        : `--${spec.name} <${spec.choices.map((c) => c.value).join("|")}>`);
    }
  }

  if (missing.length > 0 || directory === undefined || named === undefined || target === undefined || manifest === undefined) {
    throw new UserError(
      `cannot ask questions here (${ctx.noPrompts ?? "stdin is not a terminal"}): give ${missing.join(", ")}, or --yes to take the defaults`,
    );
  }

  // Combinations the template does not support, from its rule table.
  const broken = brokenRule(manifest, options);
  if (broken) throw new UserError(ruleMessage(manifest, broken, options));

  // Database names: flags or derived (the database from the project name, the user from the database), never asked.
  const { targetDir, projectName } = named;
  const dbName = checkDb(flags.dbName, defaultDbName(projectName), "db-name");
  const dbUser = checkDb(flags.dbUser, defaultDbUser(dbName), "db-user");

  // 5. Steps after writing.
  const steps = await resolveSteps(flags, ask, prompter);

  return deepFreeze({
    directory,
    targetDir,
    target,
    projectName,
    pyPackage: toPyPackage(projectName),
    title: toTitle(projectName),
    stack: manifest.name,
    options,
    dbName,
    dbUser,
    force,
    steps,
  });
}

async function resolveSteps(flags: Flags, ask: boolean, prompter: Prompter): Promise<StepChoices> {
  const bootTimeoutSeconds = flags.bootTimeout ?? DEFAULT_BOOT_TIMEOUT_SECONDS;
  // A dry run writes nothing, so there is nothing to install, commit or boot: do not ask.
  if (flags.dryRun) return { install: false, git: false, boot: false, bootTimeoutSeconds };
  const decide = async (given: boolean | undefined, message: string, askDefault: boolean, plainDefault: boolean) =>
    given ?? (ask ? prompter.confirm({ message, initialValue: askDefault }) : plainDefault);
  const install = await decide(flags.install, "Install dependencies?", true, true);
  const git = await decide(flags.git, "Initialise a git repository?", true, true);
  const boot = await decide(flags.boot, "Boot it with Docker Compose and wait for /health?", false, false);
  return { install, git, boot, bootTimeoutSeconds };
}

/** The project name is the last segment of the directory; `.` is the current directory. */
export function nameFromDirectory(directory: string, cwd: string, flag: string): { targetDir: string; projectName: string } {
  if (directory.trim() === "") throw new UserError(`${flag} is empty; give a project name such as "${DEFAULT_DIRECTORY}"`);
  const targetDir = path.resolve(cwd, directory);
  const projectName = path.basename(targetDir);
  const problem = projectNameProblem(projectName);
  if (problem) throw new UserError(`invalid project name "${projectName}": ${problem}`);
  return { targetDir, projectName };
}

/** Why a project name is refused, with a near valid name when there is one; undefined when fine. */
function projectNameProblem(name: string): string | undefined {
  const check = checkProjectName(name);
  if (check.ok) return undefined;
  const suggestion = suggestProjectName(name);
  return `${check.reason}${suggestion ? `; try "${suggestion}"` : ""}`;
}

function checkChoice(spec: OptionSpec, value: string, manifest: Manifest, all: readonly Manifest[]): OptionValue {
  const allowed = spec.choices.map((c) => c.value).join(", ");
  const offered = (v: string) => spec.choices.some((c) => c.value === v);
  const elsewhere = (v: string) => all.find((m) => m !== manifest && m.options.some((o) => o.name === spec.name && o.choices.some((c) => c.value === v)));
  if (spec.multiple) {
    // --features ci,worker (any order, spaces allowed) or --features none.
    const values = value.split(",").map((v) => v.trim());
    if (values.length === 1 && values[0] === NO_VALUES) return [];
    const bad = values.find((v) => !offered(v));
    if (bad === undefined) return inManifestOrder(spec, values);
    const other = elsewhere(bad);
    const shown = bad === "" ? `"${value}" has an empty item` : `"${bad}" is not offered by --stack ${manifest.name}${other ? ` (it belongs to --stack ${other.name})` : ""}`;
    throw new UserError(`--${spec.name} ${shown}; give ${NO_VALUES}, or any of ${allowed} separated by commas`);
  }
  if (offered(value)) return value;
  const other = elsewhere(value);
  const note = other ? ` (it belongs to --stack ${other.name})` : "";
  throw new UserError(`--${spec.name} "${value}" is not offered by --stack ${manifest.name}${note}; choose one of: ${allowed}`);
}

/** The chosen values of a `multiple` option, once each, in the manifest's order (so the same choice renders the same). */
function inManifestOrder(spec: OptionSpec, values: readonly string[]): string[] {
  return spec.choices.map((c) => c.value).filter((v) => values.includes(v));
}

/** One line naming the rule, what it needs and what was given: the options of its `requires` that do not hold. */
export function ruleMessage(manifest: Manifest, rule: Manifest["rules"][number], options: Readonly<Record<string, OptionValue>>): string {
  const given = Object.keys(rule.requires)
    .filter((key) => !whenMatches({ when: { [key]: rule.requires[key]! } }, options))
    .map((key) => `--${key} ${options[key] === undefined ? "(none)" : flagValue(options[key])}`);
  return `rule "${rule.name}" of --stack ${manifest.name}: ${rule.message} (${describeWhen(rule.if, manifest)} requires ${describeWhen(rule.requires, manifest)}; got ${given.join(" ")})`;
}

function checkDb(given: string | undefined, fallback: string, flag: "db-name" | "db-user"): string {
  const value = given ?? fallback;
  const check = checkDbIdentifier(value, flag);
  if (!check.ok) {
    throw new UserError(given === undefined
      ? `the ${flag} derived from the project name ("${value}") is not usable: ${check.reason}; pass --${flag}`
      : `--${flag} "${value}" is not valid: ${check.reason}`);
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
