import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { formatProblem, UserError } from "../errors.js";
import { checkStack, type Finding, type RenderedVariant } from "../check/model.js";
import { checkOutputs, findTools } from "../check/outputs.js";
import { readManifests } from "../templates/registry.js";
import { printJson, type CommandContext } from "./context.js";

/**
 * `create-svc-app templates check [dir]`: for template authors. Renders every combination of
 * every stack in memory and reports each problem as `file:line:col: message`. Exit 0 when
 * clean, 1 with findings, 2 for bad usage.
 */
export async function templatesCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  let action: { dir?: string } | undefined;
  const program = new Command("create-svc-app templates")
    .description("Tools for template authors.")
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: () => {} });
  program
    .command("check [dir]")
    .description("render every combination of options in memory and report each problem as file:line:col (exit 0 clean, 1 with findings)")
    .option("--json", "print the findings as one JSON object on stdout")
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: () => {} })
    .action((dir?: string) => {
      action = { dir };
    });
  if (argv.length === 0) {
    io.stdout.write(program.helpInformation());
    return 0;
  }
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (["commander.helpDisplayed", "commander.help", "commander.version"].includes(error.code)) return 0;
      throw new UserError(`${error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ")} (see create-svc-app templates --help)`);
    }
    throw error;
  }
  if (!action) return 0; // `help` printed the help

  const root = action.dir ? path.resolve(io.cwd, action.dir) : io.templatesRoot;
  const started = Date.now();
  const report = await checkTemplates(root, io.env);
  const seconds = (Date.now() - started) / 1000;
  if (ctx.json) {
    printJson(io.stdout, { ok: report.findings.length === 0, root, ...report, seconds });
  } else {
    for (const f of report.findings) io.stdout.write(`${formatProblem(f)} [${f.check}]\n`);
    for (const s of report.skipped) io.stderr.write(`skipped: ${s}\n`);
    const what = `${report.templates.join(", ") || "no template"} (${report.variants} combinations) in ${seconds.toFixed(1)}s`;
    io.stdout.write(report.findings.length === 0 ? `templates check: no findings in ${what}\n` : `templates check: ${report.findings.length} finding${report.findings.length === 1 ? "" : "s"} in ${what}\n`);
  }
  return report.findings.length === 0 ? 0 : 1;
}

export interface CheckReport {
  readonly templates: string[];
  readonly variants: number;
  readonly findings: Finding[];
  /** Checks this machine could not run, and why. */
  readonly skipped: string[];
}

/** Every check of every template under root. */
export async function checkTemplates(root: string, env: NodeJS.ProcessEnv): Promise<CheckReport> {
  const { manifests, broken } = await readManifests(root);
  const findings: Finding[] = broken.map((e) => ({ check: "manifest", ...(e.problem ?? { file: root, message: e.message }) }));
  const rendered: RenderedVariant[] = [];
  for (const manifest of manifests) {
    const stack = await checkStack(root, manifest, pkg.version);
    findings.push(...stack.findings);
    rendered.push(...stack.rendered);
  }
  if (manifests.length === 0 && broken.length === 0) findings.push({ check: "manifest", file: root, message: "no template here: a template is a folder with a template.json" });
  const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const outputs = await checkOutputs(rendered, await findTools(packageRoot, env));
  return { templates: manifests.map((m) => m.name), variants: rendered.length, findings: [...findings, ...outputs.findings], skipped: outputs.skipped };
}
