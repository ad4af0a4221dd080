import { Command, CommanderError, InvalidArgumentError } from "commander";
import { UserError } from "../errors.js";
import { isDefaultValue, NO_VALUES, type Manifest, type OptionSpec } from "../templates/manifest.js";
import { foundMark } from "../options/detect.js";
import type { Flags } from "../options/types.js";
import { DEFAULT_BOOT_TIMEOUT_SECONDS } from "../options/resolve.js";

export interface ParsedCommand {
  readonly flags: Flags;
  /** Set when --help or --version printed something and nothing else should run. */
  readonly exitEarly: boolean;
}

/**
 * Builds the commander program from the templates found, so `--stack`, every template option
 * and `--help` come from the manifests; then parses argv. Unknown flags and excess arguments
 * are errors. Never calls process.exit: problems become UserError.
 */
export function parseArgs(argv: readonly string[], manifests: readonly Manifest[], version: string, write: (text: string) => void): ParsedCommand {
  const program = new Command("create-svc-app")
    .usage("[directory] [options]")
    .description("Scaffold a backend service on Postgres with Docker, migrations, a Makefile and tests.")
    .argument("[directory]", 'where to create the project; its last segment is the project name ("." = here)')
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show this help")
    .option("--stack <name>", `stack: ${manifests.map((m) => `${m.name}${m === manifests[0] ? " (default)" : ""}`).join(", ")}`);

  const optionNames = addTemplateOptions(program, manifests);

  program
    .option("--db-name <name>", "database name (default: from the project name, my-api -> my_api)")
    .option("--db-user <name>", "database user (default: <db-name>_user)")
    .option("--install", "install dependencies after generating (default: yes)")
    .option("--no-install", "do not install dependencies")
    .option("--git", "git init and make the first commit (default: yes)")
    .option("--no-git", "do not initialise a git repository")
    .option("--boot", "docker compose up and wait for /health (default: ask; no with --yes)")
    .option("--no-boot", "do not boot the service")
    .option("--boot-timeout <seconds>", `how long to wait for /health (default: ${DEFAULT_BOOT_TIMEOUT_SECONDS})`, parseSeconds)
    .option("--templates <dir>", "use the templates in <dir> instead of the bundled ones (for template authors)")
    .option("-y, --yes", "take the defaults for everything not given; never prompt")
    .option("--force", "write into a non-empty directory (only the template's files; nothing else is touched)")
    .option("--dry-run", "print the files that would be written (marking those it would replace) and write nothing")
    .option("--json", "print one JSON object with the result on stdout (messages go to stderr)")
    .addHelpText("after", HELP_AFTER);
  strictProgram(program, write);

  // A flag and its negation, or a step with --dry-run, contradict each other: say so instead of
  // letting the last one win silently.
  for (const step of ["install", "git", "boot"]) {
    if (argv.includes(`--${step}`) && argv.includes(`--no-${step}`)) throw new UserError(`--${step} and --no-${step} contradict each other; give one`);
    if (argv.includes(`--${step}`) && argv.includes("--dry-run")) throw new UserError(`--dry-run writes nothing, so --${step} cannot run; drop one of them`);
  }

  // `create-svc-app help` asks for help; it is not a project called "help" (use ./help for that).
  if (parseOrExit(program, argv[0] === "help" ? ["--help", ...argv.slice(1)] : argv)) return { flags: emptyFlags(), exitEarly: true };

  const o = program.opts<Record<string, unknown>>();
  const options: Record<string, string | undefined> = {};
  for (const name of optionNames) options[name] = o[camelCase(name)] as string | undefined;
  const flags: Flags = {
    directory: program.args[0],
    stack: o.stack as string | undefined,
    dbName: o.dbName as string | undefined,
    dbUser: o.dbUser as string | undefined,
    options,
    install: o.install as boolean | undefined,
    git: o.git as boolean | undefined,
    boot: o.boot as boolean | undefined,
    bootTimeout: o.bootTimeout as number | undefined,
    yes: Boolean(o.yes),
    force: Boolean(o.force),
    dryRun: Boolean(o.dryRun),
    json: Boolean(o.json),
  };
  return { flags, exitEarly: false };
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 3600) throw new InvalidArgumentError("use a whole number of seconds from 1 to 3600");
  return n;
}

/**
 * One flag per template option name (--orm, --python, ...); the allowed values depend on the
 * stack, so they are checked by the resolver, and listed per stack here. Returns the names.
 */
export function addTemplateOptions(program: Command, manifests: readonly Manifest[]): string[] {
  const optionNames = [...new Set(manifests.flatMap((m) => m.options.map((o) => o.name)))];
  for (const name of optionNames) {
    const perStack = manifests
      .map((m) => ({ m, spec: m.options.find((o) => o.name === name) }))
      .filter((x) => x.spec)
      .map(({ m, spec }) => `${m.name}: ${[...spec!.choices.map((c) => choiceWithMarks(spec!, c.value)), ...(spec!.multiple && spec!.default.length === 0 ? [`${NO_VALUES} (default)`] : [])].join(", ")}`);
    // A shared flag (--orm) reads differently per stack: use the stack's own words only when they agree.
    const specs = manifests.flatMap((m) => m.options).filter((o) => o.name === name);
    const description = specs.every((o) => o.description === specs[0]!.description)
      ? specs[0]!.description
      : specs[0]!.message.replace(/^which\s+/i, "").replace(/\?$/, "");
    const detects = specs.some((o) => o.detect === "package-manager") ? "; the default follows `npm create` / `pnpm create`"
      : specs.some((o) => o.detect === "node") ? "; the default is the running Node's, else the newest found here"
      : specs.some((o) => o.detect === "python") ? "; the default is the newest found here" : "";
    // An option that takes several values is one comma-separated flag: --features ci,worker.
    const multiple = specs.some((o) => o.multiple) ? `; several separated by commas, or ${NO_VALUES}` : "";
    program.option(`--${name} <${multiple ? "list" : "value"}>`, `${description} [${perStack.join("; ")}${multiple}${detects}]`);
  }
  return optionNames;
}

/**
 * Commander's message in our one-line form: "option '--x <v>' argument 'y' is invalid. <why>"
 * becomes `--x "y" is not valid: <why>`, like the resolver's own messages.
 */
function commanderMessage(error: CommanderError): string {
  const text = error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
  const invalid = /^option '(--[\w-]+)[^']*' argument '(.*)' is invalid\. (.*)$/.exec(text);
  return invalid ? `${invalid[1]} "${invalid[2]}" is not valid: ${invalid[3]}` : text;
}

/** "3.13 (default, found here)": the default and, for runtimes, the versions installed here. */
function choiceWithMarks(spec: OptionSpec, value: string): string {
  const marks = [isDefaultValue(spec, value) ? "default" : "", foundMark(spec, value)].filter(Boolean);
  return marks.length > 0 ? `${value} (${marks.join(", ")})` : value;
}

const HELP_AFTER = `
Commands:
  update [directory]     bring a project made by create-svc-app to the current template, keeping your changes (see update --help)
  templates check [dir]  for template authors: render every combination of a templates folder and report each problem at its line

Examples:
  create-svc-app my-api                                  ask the questions, write ./my-api
  create-svc-app my-api --yes                            take every default (FastAPI, SQLAlchemy)
  create-svc-app orders --stack fastify --orm kysely --pm pnpm --yes
  create-svc-app my-api --yes --dry-run                  show the files it would write
  create-svc-app my-api --yes --json --no-install        for scripts: one JSON object on stdout

Exit codes:
  0    done
  1    a post step failed (the project is complete and kept), or a template is broken
  2    bad input: one line names the flag or value and what is allowed
  130  cancelled (Esc, Ctrl-C or a signal); nothing is left on disk before the project is in place
`;

/** Unknown options and extra arguments are errors; output goes through `write`; never exits. */
export function strictProgram(program: Command, write: (text: string) => void): Command {
  return program
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: write,
      writeErr: () => {}, // errors are rethrown by parseOrExit and printed once by the top-level handler
    });
}

/**
 * Parses argv with a program built by strictProgram: true when --help or --version printed
 * something and nothing else should run; a parse error becomes one UserError line.
 */
export function parseOrExit(program: Command, argv: readonly string[]): boolean {
  try {
    program.parse([...argv], { from: "user" });
    return false;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return true;
      throw new UserError(`${commanderMessage(error)} (see --help)`);
    }
    throw error;
  }
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function emptyFlags(): Flags {
  return { options: {}, yes: false, force: false, dryRun: false, json: false };
}
