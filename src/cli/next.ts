import type { Answers } from "../options/types.js";
import { probe } from "../options/probe.js";
import { postgresAnswers } from "../options/postgres.js";
import type { DatabasePath, Manifest } from "../templates/manifest.js";
import { installCommands } from "../steps/install.js";
import { busyPorts, freePortAbove } from "../steps/ports.js";
import { quote } from "../steps/runner.js";

/** One way from the fresh project to a healthy service: the commands, as a shell takes them. */
export interface NextPath {
  readonly database: DatabasePath;
  readonly needs: string;
  readonly commands: readonly string[];
}

/**
 * What to run next, for every database path the template offers, and the one this machine is
 * ready for (`database`) with the reason (`why`). Printed in the summary and given as `next` in --json.
 */
export interface NextPlan {
  readonly database: DatabasePath;
  readonly why: string;
  readonly paths: readonly NextPath[];
}

const TITLES: Record<DatabasePath, string> = { local: "a local Postgres", docker: "Docker Compose", embedded: "the embedded Postgres" };

/** What the post steps did that matters here: installed (on this machine), and the boot step's outcome if it ran. */
export interface Done {
  readonly installed: boolean;
  readonly boot?: "ok" | "failed";
  readonly env: NodeJS.ProcessEnv;
  /** The look around started early by lookAround() (a run without a boot step), to use instead of looking now. */
  readonly looked?: Promise<Chosen>;
}

/** The database path this machine is ready for, and why. */
export interface Chosen {
  readonly database: DatabasePath;
  readonly why: string;
}

/**
 * Builds the plan: each path is `cd <dir>`, the install commands when the path needs them and the
 * install step did not run, then the manifest's commands. The path is chosen by looking (a second
 * or two at most): the boot step's Compose stack, else a Postgres that answers where psql would
 * connect (PGHOST, PGPORT; see options/postgres.ts), else a Docker engine (not asked again when the boot step ran), else
 * the embedded Postgres when the template offers it, else the first path the template lists.
 * A host port the Compose file publishes that is taken here (5432 by a local Postgres, most
 * often) is moved on the docker path: its commands set the port's variable to a free one.
 */
export async function planNext(manifest: Manifest, answers: Answers, done: Done): Promise<NextPlan> {
  const cd = answers.directory === "." ? [] : [`cd ${quote(answers.directory)}`];
  const install = done.installed ? [] : (await installCommands(manifest, answers)).map((argv) => argv.map(quote).join(" "));
  // After a boot step that worked, the stack itself holds its ports.
  const moved = done.boot !== "ok" && offers(manifest, "docker") ? await movedPorts(answers.targetDir, done.env) : [];
  const vars = moved.map((m) => `${m.variable}=${m.to} `).join("");
  const why = moved.map((m) => `; ${m.host}:${m.port} (${m.variable}) is taken here: these commands use ${m.variable}=${m.to} (set it in .env to keep it)`).join("");
  const paths = pathSpecs(manifest).map((p) => {
    const move = p.database === "docker";
    return {
      database: p.database,
      needs: move ? `${p.needs}${why}` : p.needs,
      commands: [...cd, ...(p.install ? install : []), ...p.run.map((c) => (move ? `${vars}${c}` : c))],
    };
  });
  const chosen = done.boot === "ok" && offers(manifest, "docker")
    ? { database: "docker" as const, why: "the boot step started it with Docker Compose" }
    : await (done.looked ?? look(manifest, done));
  return { ...chosen, paths };
}

/**
 * Starts looking (a Postgres, then docker info) now, for a run with no boot step: the look goes
 * on while the files are written instead of after. The signal stops them when the run ends
 * without needing the answer.
 */
export function lookAround(manifest: Manifest, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<Chosen> {
  return look(manifest, { env }, signal);
}

/** The published ports, set by a variable, that another program holds here, each with a free port to use instead. */
async function movedPorts(dir: string, env: NodeJS.ProcessEnv) {
  const moved: { host: string; port: number; variable: string; to: number }[] = [];
  for (const busy of await busyPorts(dir, env)) {
    if (!busy.variable) continue;
    moved.push({ ...busy, variable: busy.variable, to: await freePortAbove(busy.host, busy.port, moved.map((m) => m.to)) });
  }
  return moved;
}

// A template without next steps still gets its way in: cd and the install commands.
function pathSpecs(manifest: Manifest): Manifest["next"] {
  return manifest.next.length > 0 ? manifest.next : [{ database: "local" as const, needs: "nothing more", install: true, run: [] }];
}

function offers(manifest: Manifest, database: DatabasePath): boolean {
  return pathSpecs(manifest).some((p) => p.database === database);
}

async function look(manifest: Manifest, done: Pick<Done, "env" | "boot">, signal?: AbortSignal): Promise<Chosen> {
  const where = `${done.env.PGHOST || "the local socket"}${done.env.PGPORT ? `:${done.env.PGPORT}` : ""}`;
  // A socket, not pg_isready: same answer (options/postgres.ts), without starting a program.
  if (offers(manifest, "local") && (await postgresAnswers(done.env, { timeoutMs: 1_000, signal }))) {
    return { database: "local", why: `a Postgres answers at ${where}` };
  }
  if (done.boot === "failed" && offers(manifest, "docker")) return { database: "docker", why: `no Postgres answers at ${where}, and the boot step failed: see its message` };
  if (offers(manifest, "docker") && (await probe(["docker", "info", "--format", "{{.ServerVersion}}"], { timeoutMs: 2_000, env: done.env, signal })).ok) {
    return { database: "docker", why: `no Postgres answers at ${where}, and a Docker engine answers docker info` };
  }
  const neither = `neither a Postgres (at ${where}) nor a Docker engine (docker info) answered`;
  if (offers(manifest, "embedded")) return { database: "embedded", why: `${neither}; it needs neither` };
  const first: DatabasePath = offers(manifest, "local") ? "local" : "docker";
  return { database: first, why: `${neither}; start one first` };
}
/** The plan as the summary prints it: the chosen path first, then the others. */
export function formatNext(plan: NextPlan): string {
  const chosen = plan.paths.find((p) => p.database === plan.database)!;
  const others = plan.paths.filter((p) => p !== chosen);
  const block = (p: NextPath) => p.commands.map((c) => `  ${c}`).join("\n");
  return [
    `Next, with ${TITLES[chosen.database]} (${plan.why}):`,
    block(chosen),
    ...others.flatMap((p) => [`Or, with ${TITLES[p.database]} (needs ${p.needs}):`, block(p)]),
  ].join("\n");
}
