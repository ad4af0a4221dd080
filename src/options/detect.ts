import type { Manifest, OptionSpec, OptionValue } from "../templates/manifest.js";
import { detectedDefault, scanRuntime, type RuntimeKind, type RuntimeScan } from "./runtimes.js";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The manifests as seen on this machine: each option that declares `detect` gets the default
 * that fits here (and, for runtimes, what was found, for the "(found here)" marks and the
 * summary). Runs once, before the parser and the resolver, so --help, the prompts and --yes
 * all show the same defaults. A flag still wins; a prompt still asks (starting there).
 */
export async function applyDetection(manifests: readonly Manifest[], env: Env): Promise<Manifest[]> {
  const kinds = new Set(manifests.flatMap((m) => m.options.map((o) => o.detect)).filter((k): k is RuntimeKind => k === "python" || k === "node"));
  const scans = new Map<RuntimeKind, RuntimeScan>(await Promise.all([...kinds].map(async (k) => [k, await scanRuntime(k, env)] as const)));
  return manifests.map((m) => ({ ...m, options: m.options.map((o) => detectOption(o, env, scans)) }));
}

function detectOption(spec: OptionSpec, env: Env, scans: ReadonlyMap<RuntimeKind, RuntimeScan>): OptionSpec {
  if (spec.detect === "package-manager") return { ...spec, default: packageManagerDefault(spec, env) };
  const scan = spec.detect ? scans.get(spec.detect) : undefined;
  if (!scan || typeof spec.default !== "string") return spec;
  return { ...spec, default: detectedDefault(scan, spec.choices.map((c) => c.value), spec.default), runtime: scan };
}

/**
 * `npm create`, `pnpm create`, `yarn create`, `bunx`, `npm exec` and `pnpm dlx` set
 * npm_config_user_agent to "<pm>/<version> ..."; that one, when it is among the choices.
 */
function packageManagerDefault(spec: OptionSpec, env: Env): OptionValue {
  const agent = /^(npm|pnpm|yarn|bun)\//.exec(env.npm_config_user_agent ?? "")?.[1];
  return agent && spec.choices.some((c) => c.value === agent) ? agent : spec.default;
}

/** True when the option is a runtime whose `value` was not found on this machine. */
export function isMissingRuntime(spec: OptionSpec, value: OptionValue | undefined): spec is OptionSpec & { runtime: RuntimeScan } {
  return spec.runtime !== undefined && typeof value === "string" && !spec.runtime.found.has(value);
}

/** " (found here)" after a runtime version that is installed here. */
export function foundMark(spec: OptionSpec, value: string): string {
  return spec.runtime?.found.has(value) ? "found here" : "";
}
