import validateNpmName from "validate-npm-package-name";

/** Python's hard keywords (lowercase ones: project names are lowercase): a package named after one cannot be imported. */
const PYTHON_KEYWORDS = new Set([
  "and", "as", "assert", "async", "await", "break", "class", "continue",
  "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
  "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
]);

/** Names Postgres gives itself; a project database or role must not take them. */
const RESERVED_DB_NAMES = new Set(["postgres", "template0", "template1"]);
const RESERVED_DB_USERS = new Set(["postgres", "public", "current_user", "session_user", "current_role"]);

export type Check = { ok: true } | { ok: false; reason: string };

/** `my-api` -> `my_api`: the project name as a Python identifier. */
export function toPyPackage(name: string): string {
  return name.replace(/[-.]/g, "_");
}

/** `my-api` -> `My Api`. */
export function toTitle(name: string): string {
  return name
    .split(/[-._]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(" ");
}

/**
 * A project name must be a valid new npm package name (unscoped) and map to a valid,
 * importable Python package name: lowercase letters, digits, "-", "." and "_", starting with a letter.
 */
export function checkProjectName(name: string): Check {
  if (name.trim() === "") return { ok: false, reason: "it is empty" };
  if (name.length > 214) return { ok: false, reason: `it is ${name.length} characters long (npm allows 214)` };
  if (/[A-Z]/.test(name)) return { ok: false, reason: "it has capital letters (npm names are lowercase)" };
  if (!/^[a-z][a-z0-9._-]*$/.test(name)) {
    return { ok: false, reason: 'use lowercase letters, digits, "-", "." and "_" (URL-friendly), starting with a letter' };
  }
  const npm = validateNpmName(name);
  if (!npm.validForNewPackages) {
    const why = [...(npm.errors ?? []), ...(npm.warnings ?? [])][0] ?? "npm rejects it";
    return { ok: false, reason: why.replace(/^name /, "a package name ") };
  }
  if (/[-._]$/.test(name)) return { ok: false, reason: 'it ends with "-", "." or "_"' };
  const py = toPyPackage(name);
  if (PYTHON_KEYWORDS.has(py)) return { ok: false, reason: `"${py}" is a Python keyword` };
  return { ok: true };
}

/** A near name that passes checkProjectName, or undefined when none can be derived. */
export function suggestProjectName(input: string): string | undefined {
  let s = input
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .trim()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/[-._]+$/, "")
    .slice(0, 214)
    .replace(/[-._]+$/, "");
  if (PYTHON_KEYWORDS.has(toPyPackage(s))) s = `${s}-app`;
  return s && s !== input && checkProjectName(s).ok ? s : undefined;
}

/** A Postgres identifier we can write unquoted-safe into SQL, URLs and shell commands. */
export function checkDbIdentifier(value: string, kind: "db-name" | "db-user"): Check {
  if (!/^[a-z_][a-z0-9_]*$/.test(value)) {
    return { ok: false, reason: "use lowercase letters, digits and _, starting with a letter or _" };
  }
  if (value.length > 63) return { ok: false, reason: `it is ${value.length} characters long (Postgres allows 63)` };
  if (value.startsWith("pg_")) return { ok: false, reason: 'the "pg_" prefix is reserved by Postgres' };
  const reserved = kind === "db-name" ? RESERVED_DB_NAMES : RESERVED_DB_USERS;
  if (reserved.has(value)) return { ok: false, reason: `"${value}" is reserved by Postgres` };
  return { ok: true };
}

/** The database a project name suggests: `my-api` -> `my_api`. */
export function defaultDbName(name: string): string {
  return toPyPackage(name).replace(/[^a-z0-9_]/g, "_").slice(0, 58);
}

/** The role of a database, as --help and the README say: `<db-name>_user` (63 characters at most). */
export function defaultDbUser(dbName: string): string {
  return `${dbName.slice(0, 58)}_user`;
}
