/**
 * Files that hold the user's secrets and local state (the database password in `.env`). A
 * generator writes them once and never replaces them; a newer template may only add the keys
 * they lack. One rule, used by every command that writes into an existing project.
 */
export const USER_STATE_FILES: ReadonlySet<string> = new Set([".env"]);

export function isUserState(projectPath: string): boolean {
  return USER_STATE_FILES.has(projectPath.slice(projectPath.lastIndexOf("/") + 1));
}

const KEY_RE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/;

/** The keys a dotenv text assigns, in order. */
export function dotenvKeys(text: string): string[] {
  return text.split(/\r?\n/).flatMap((line) => KEY_RE.exec(line)?.[1] ?? []);
}

/**
 * The user's file byte for byte, followed by the rendered file's assignments of keys it lacks.
 * Returns the keys added (none: the text is unchanged).
 */
export function appendMissingKeys(existing: string, rendered: string): { text: string; added: string[] } {
  const have = new Set(dotenvKeys(existing));
  const lines = rendered.split(/\r?\n/).filter((line) => {
    const key = KEY_RE.exec(line)?.[1];
    if (!key || have.has(key)) return false;
    have.add(key);
    return true;
  });
  if (lines.length === 0) return { text: existing, added: [] };
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  return { text: `${existing}${separator}${lines.join("\n")}\n`, added: lines.map((l) => KEY_RE.exec(l)![1]!) };
}
