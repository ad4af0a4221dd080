import type { Answers } from "../options/types.js";
import { isMissingRuntime } from "../options/detect.js";
import { fillText } from "../render/texts.js";
import { missingRuntime } from "../options/runtimes.js";
import { whenMatches, type InstallCommand, type Manifest } from "../templates/manifest.js";
import { FIRST_COMMIT_SUBJECT } from "../update/base.js";
import { waitForHealth } from "./health.js";
import { busyPorts, composeVariable } from "./ports.js";
import { quote, runCommand, type CommandResult } from "./runner.js";
import { applicableInstalls } from "./install.js";

export { installCommands } from "./install.js";

export type StepName = "install" | "git" | "boot";
export type StepStatus = "ok" | "failed" | "skipped" | "interrupted";

/** What a step did, for the human report and --json. */
export interface StepReport {
  readonly name: StepName;
  readonly status: StepStatus;
  readonly durationMs: number;
  /** Every command it ran, in order, as a shell would show it. */
  readonly commands: readonly string[];
  /** One line (or a few) for the user: why it was skipped or failed, or what is now running. */
  readonly message: string;
  /** The tail of a failed command's output, or of `docker compose logs`. */
  readonly output?: string;
}

export interface StepContext {
  readonly answers: Answers;
  readonly manifest: Manifest;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

interface StepDefinition {
  readonly name: StepName;
  readonly label: string;
  readonly enabled: (answers: Answers, manifest: Manifest) => boolean;
  readonly run: (ctx: StepContext, log: CommandLog) => Promise<Omit<StepReport, "name" | "durationMs" | "commands">>;
}

/** Runs a command and remembers it for the report. */
class CommandLog {
  readonly commands: string[] = [];
  constructor(private readonly ctx: StepContext) {}
  async run(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    const result = await runCommand(argv, { cwd: this.ctx.answers.targetDir, signal: this.ctx.signal, timeoutMs });
    this.commands.push(result.command);
    return result;
  }
}

const inDir = (answers: Answers, command: string) => (answers.directory === "." ? command : `cd ${quote(answers.directory)} && ${command}`);


/** The manifest's one-line explanation of a failed command's output, when one matches. */
async function explained(manifest: Manifest, explain: InstallCommand["explain"], output: string, answers: Answers): Promise<string | undefined> {
  for (const e of explain) {
    const match = e.output.exec(output);
    if (match) return fillText(manifest, e.say, { options: answers.options, match: [...match] });
  }
  return undefined;
}


/**
 * Why an install failed, in one line, when the answers chose a runtime version that detection did
 * not find here: then that is the cause (pyenv: "version `3.14' is not installed", or Poetry's
 * traceback about the interpreter), and the user needs the way to get it, not the traceback.
 * Only for Python: a virtualenv needs the interpreter, while npm and pnpm install with whatever
 * Node runs them, so a failed Node install has another cause.
 */
function missingRuntimeCause(manifest: Manifest, answers: Answers) {
  const spec = manifest.options.find((o) => o.detect === "python" && isMissingRuntime(o, answers.options[o.name]));
  return spec?.runtime && missingRuntime(spec.runtime, spec.name, String(answers.options[spec.name]), spec.choices.map((c) => c.value));
}

const install: StepDefinition = {
  name: "install",
  label: "Installing dependencies",
  enabled: (a, m) => a.steps.install && m.install.some((cmd) => whenMatches(cmd, a.options)),
  async run(ctx, log) {
    for (const { argv, get, explain } of await applicableInstalls(ctx.manifest, ctx.answers)) {
      const r = await log.run(argv);
      if (r.interrupted) return { status: "interrupted", message: `interrupted during ${r.command}` };
      if (r.missing) {
        return { status: "failed", message: `${argv[0]} is not installed; ${get ? `get it with ${get}` : "install it"}, then run: ${inDir(ctx.answers, r.command)}` };
      }
      const known = r.ok ? undefined : await explained(ctx.manifest, explain, r.tail, ctx.answers);
      if (known) return { status: "failed", message: `${r.command} failed: ${known}; then run: ${inDir(ctx.answers, r.command)}` };
      const runtime = r.ok ? undefined : missingRuntimeCause(ctx.manifest, ctx.answers);
      if (runtime) {
        const instead = runtime.instead ? ` (or create the project again with ${runtime.instead}, which is here)` : "";
        return { status: "failed", message: `${r.command} failed: ${runtime.what}; get it with ${runtime.get}, then run: ${inDir(ctx.answers, r.command)}${instead}` };
      }
      if (!r.ok) return { status: "failed", message: `${r.command} exited with code ${r.exitCode}`, output: r.tail };
    }
    return { status: "ok", message: "dependencies installed" };
  },
};

const FALLBACK_IDENTITY = ["-c", "user.name=create-svc-app", "-c", "user.email=create-svc-app@localhost.invalid"];

const git: StepDefinition = {
  name: "git",
  label: "Initialising git",
  enabled: (a) => a.steps.git,
  async run(ctx, log) {
    const version = await log.run(["git", "--version"]);
    if (!version.ok) return { status: "skipped", message: "git was not found; no repository was created" };
    const inside = await log.run(["git", "rev-parse", "--is-inside-work-tree"]);
    if (inside.ok && inside.tail.trim() === "true") {
      return { status: "skipped", message: "the project is already inside a git work tree; nothing was initialised" };
    }
    const configured = await log.run(["git", "config", "--get", "init.defaultBranch"]);
    const branch = configured.ok && configured.tail.trim() ? configured.tail.trim() : "main";
    for (const argv of [["git", "init", "--quiet", "--initial-branch", branch], ["git", "add", "--all"]]) {
      const r = await log.run(argv);
      if (r.interrupted) return { status: "interrupted", message: `interrupted during ${r.command}` };
      if (!r.ok) return { status: "failed", message: `${r.command} exited with code ${r.exitCode}`, output: r.tail };
    }
    const name = await log.run(["git", "config", "user.name"]);
    const email = await log.run(["git", "config", "user.email"]);
    const hasIdentity = name.ok && email.ok && name.tail.trim() !== "" && email.tail.trim() !== "";
    const message = `${FIRST_COMMIT_SUBJECT} (${ctx.manifest.name})`;
    const commit = await log.run(["git", ...(hasIdentity ? [] : FALLBACK_IDENTITY), "commit", "--quiet", "--no-verify", "-m", message]);
    if (commit.interrupted) return { status: "interrupted", message: "interrupted during git commit" };
    if (!commit.ok) {
      return { status: "skipped", message: `repository initialised on ${branch}, but the first commit failed (${commit.tail.split("\n")[0]}); commit it yourself`, output: commit.tail };
    }
    return {
      status: "ok",
      message: hasIdentity
        ? `repository initialised on ${branch} with one commit`
        : `repository initialised on ${branch}; no git identity is configured, so the first commit is by "create-svc-app" (after setting yours: git commit --amend --reset-author)`,
    };
  },
};

const boot: StepDefinition = {
  name: "boot",
  label: "Booting with Docker Compose",
  enabled: (a) => a.steps.boot,
  async run(ctx, log) {
    const { answers, manifest } = ctx;
    const later = inDir(answers, "docker compose up --build -d");
    const compose = await log.run(["docker", "compose", "version"]);
    if (!compose.ok) {
      return { status: "failed", message: `Docker Compose is not available (${compose.missing ? "docker was not found" : "docker compose version failed"}); install Docker with the Compose plugin, then run: ${later}` };
    }
    const daemon = await log.run(["docker", "info", "--format", "{{.ServerVersion}}"]);
    if (!daemon.ok) return { status: "failed", message: `the Docker daemon is not running (docker info failed); start Docker, then run: ${later}` };
    // A port held by another program fails `up` half-way with an engine-specific message, or
    // worse, lets that program answer the health check: name it before anything starts.
    const [busy] = await busyPorts(ctx.answers.targetDir, ctx.env);
    if (busy) {
      const fix = busy.variable ? `set ${busy.variable} in .env to a free port` : "free it";
      return { status: "failed", message: `port ${busy.host}:${busy.port}${busy.variable ? ` (${busy.variable})` : ""} is already in use by another program; ${fix}, then run: ${later}` };
    }
    const up = await log.run(["docker", "compose", "up", "--build", "--detach"]);
    if (up.interrupted) return { status: "interrupted", message: `interrupted during docker compose up; stop what started with: ${inDir(answers, "docker compose down")}` };
    if (!up.ok) return { status: "failed", message: `docker compose up exited with code ${up.exitCode}`, output: `${up.tail}\n${await composeLogs(log)}`.trim() };

    const port = await webPort(ctx);
    const base = `http://127.0.0.1:${port}`;
    const health = await waitForHealth(`${base}${manifest.health.path}`, { timeoutMs: answers.steps.bootTimeoutSeconds * 1000, signal: ctx.signal });
    if (health.interrupted) return { status: "interrupted", message: `interrupted while waiting for ${manifest.health.path}; the containers are still running: ${inDir(answers, "docker compose down")}` };
    if (!health.ok) {
      return {
        status: "failed",
        message: `${base}${manifest.health.path} did not answer 200 within ${answers.steps.bootTimeoutSeconds}s (last: ${health.last}); the containers are still running: ${inDir(answers, "docker compose down")}`,
        output: await composeLogs(log),
      };
    }
    return {
      status: "ok",
      message: [
        `healthy after ${(health.elapsedMs / 1000).toFixed(1)}s`,
        `API:  ${base}`,
        `Docs: ${base}${manifest.health.docsPath}`,
        `Logs: ${inDir(answers, "docker compose logs -f")}`,
        `Stop: ${inDir(answers, "docker compose down")}`,
      ].join("\n"),
    };
  },
};

async function composeLogs(log: CommandLog): Promise<string> {
  const r = await log.run(["docker", "compose", "logs", "--no-color", "--tail", "50"], 30_000);
  return r.tail;
}

/**
 * The host port of the web service: as Docker Compose does, the environment wins over `.env`,
 * then the template's default from `.env.example`.
 */
async function webPort(ctx: StepContext): Promise<string> {
  return (await composeVariable(ctx.answers.targetDir, ctx.env, ctx.manifest.health.portVar, [".env", ".env.example"])) ?? "8000";
}

export const STEPS: readonly StepDefinition[] = [install, git, boot];

export interface StepHooks {
  start(label: string): void;
  end(report: StepReport): void;
}

/**
 * Runs the enabled steps in order. A failed step does not stop the next one (a failed install
 * still deserves a git repository), except boot, which needs nothing after it; an interrupted
 * step stops everything. The generated project is never removed.
 */
export async function runSteps(ctx: StepContext, hooks: StepHooks): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (const step of STEPS) {
    if (!step.enabled(ctx.answers, ctx.manifest)) continue;
    if (ctx.signal.aborted) break;
    hooks.start(step.label);
    const log = new CommandLog(ctx);
    const started = Date.now();
    const outcome = await step.run(ctx, log);
    const report: StepReport = { name: step.name, durationMs: Date.now() - started, commands: log.commands, ...outcome };
    reports.push(report);
    hooks.end(report);
    if (report.status === "interrupted") break;
  }
  return reports;
}
