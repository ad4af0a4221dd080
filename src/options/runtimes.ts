import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** What a manifest option may ask the CLI to detect on this machine. */
export type RuntimeKind = "python" | "node";

/** The runtime versions (`major.minor` for Python, the major for Node) found here, and by which tools. */
export interface RuntimeScan {
  readonly kind: RuntimeKind;
  readonly found: ReadonlySet<string>;
  /** Version managers present (pyenv, uv, nvm, fnm, volta), for saying how to get a version. */
  readonly managers: readonly string[];
  /** Node: the major the CLI itself runs on. */
  readonly running?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const PYTHON_RE = /^(?:cpython-)?v?(3\.\d+)(?:\.\d+)?/;
const NODE_RE = /^v?(\d+)\.\d+\.\d+/;

/** Folder names under `dir` that look like versions, reduced by `re` to the part we compare. */
function versionsIn(dir: string, re: RegExp): string[] {
  try {
    return readdirSync(dir).map((name) => re.exec(name)?.[1]).filter((v): v is string => v !== undefined);
  } catch {
    return [];
  }
}

function onPath(env: Env, program: string): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, program)));
}

/**
 * The Pythons uv installed (its managed ones: the others are found on PATH or in pyenv's folder),
 * read from uv's install folder, as uv names it: UV_PYTHON_INSTALL_DIR, else
 * $XDG_DATA_HOME/uv/python, else ~/.local/share/uv/python. Reading a folder costs nothing, while
 * `uv python list` inspects every interpreter on PATH (seconds where pyenv's shims are).
 */
function uvPythons(env: Env, home: string): string[] {
  const dir = env.UV_PYTHON_INSTALL_DIR || path.join(env.XDG_DATA_HOME || path.join(home, ".local", "share"), "uv", "python");
  return versionsIn(dir, PYTHON_RE);
}

/**
 * Pythons installed here: pyenv's versions, `python3.X` on PATH (the system's, Homebrew's,
 * deadsnakes', pyenv's shims) and uv's managed ones. Only folders are read.
 */
export async function scanPython(env: Env): Promise<RuntimeScan> {
  const home = env.HOME ?? homedir();
  const pyenvRoot = env.PYENV_ROOT ?? path.join(home, ".pyenv");
  const found = new Set(versionsIn(path.join(pyenvRoot, "versions"), PYTHON_RE));
  const managers: string[] = [];
  if (existsSync(path.join(pyenvRoot, "versions")) || onPath(env, "pyenv")) managers.push("pyenv");
  for (let minor = 8; minor <= 20; minor++) if (onPath(env, `python3.${minor}`)) found.add(`3.${minor}`);
  if (onPath(env, "uv")) managers.push("uv");
  for (const v of uvPythons(env, home)) found.add(v);
  return { kind: "python", found, managers };
}

/** Node majors here: the running one, and those nvm, fnm and volta installed. */
export function scanNode(env: Env, runningVersion = process.versions.node): RuntimeScan {
  const home = env.HOME ?? homedir();
  const running = runningVersion.split(".")[0]!;
  const found = new Set([running]);
  const managers: string[] = [];
  const places: [string, string][] = [
    ["nvm", path.join(env.NVM_DIR ?? path.join(home, ".nvm"), "versions", "node")],
    ["fnm", path.join(env.FNM_DIR ?? path.join(home, ".local", "share", "fnm"), "node-versions")],
    ["fnm", path.join(home, ".fnm", "node-versions")],
    ["volta", path.join(env.VOLTA_HOME ?? path.join(home, ".volta"), "tools", "image", "node")],
  ];
  for (const [manager, dir] of places) {
    if (!existsSync(dir)) continue;
    if (!managers.includes(manager)) managers.push(manager);
    for (const v of versionsIn(dir, NODE_RE)) found.add(v);
  }
  return { kind: "node", found, managers, running };
}

export async function scanRuntime(kind: RuntimeKind, env: Env): Promise<RuntimeScan> {
  return kind === "python" ? scanPython(env) : scanNode(env);
}

/**
 * The default among `offered` (oldest first, as manifests list them): Node's running major when
 * offered, else the newest version found here, else the manifest's default.
 */
export function detectedDefault(scan: RuntimeScan, offered: readonly string[], manifestDefault: string): string {
  if (scan.running && offered.includes(scan.running)) return scan.running;
  const here = foundAmong(scan, offered);
  return here.length > 0 ? newest(here) : manifestDefault;
}

function newest(versions: readonly string[]): string {
  const key = (v: string) => v.split(".").map(Number);
  return [...versions].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  }).at(-1)!;
}

const NAMES: Record<RuntimeKind, string> = { python: "Python", node: "Node.js" };

/** How to get `version` with the managers present: "pyenv install 3.14", "nvm install 26", ... */
export function howToGet(scan: RuntimeScan, version: string): string {
  const commands: Record<string, string> = {
    pyenv: `pyenv install ${version}`,
    uv: `uv python install ${version}`,
    nvm: `nvm install ${version}`,
    fnm: `fnm install ${version}`,
    volta: `volta install node@${version}`,
  };
  const known = scan.managers.map((m) => commands[m]).filter(Boolean);
  if (known.length > 0) return `\`${known[0]}\``;
  return scan.kind === "python" ? `\`pyenv install ${version}\` (or your system's python${version} package)` : `\`nvm install ${version}\` (or an installer of Node.js ${version})`;
}

/** A version that is not installed here: what it is, how to get it, and the newest offered one that is here. */
export function missingRuntime(scan: RuntimeScan, flag: string, version: string, offered: readonly string[]): { what: string; get: string; instead?: string } {
  const here = foundAmong(scan, offered);
  return { what: `${NAMES[scan.kind]} ${version} is not installed here`, get: howToGet(scan, version), ...(here.length > 0 ? { instead: `--${flag} ${newest(here)}` } : {}) };
}

/** The summary's line for it. */
export function notInstalledLine(scan: RuntimeScan, flag: string, version: string, offered: readonly string[]): string {
  const m = missingRuntime(scan, flag, version, offered);
  return `${m.what}; get it with ${m.get}${m.instead ? `, or choose ${m.instead}, which is here` : ""}`;
}

/** The offered versions found here (for "(found here)" marks). */
export function foundAmong(scan: RuntimeScan, offered: readonly string[]): string[] {
  return offered.filter((v) => scan.found.has(v));
}
