/**
 * Files a template marks `keep` (its manifest's `keep` list) hold state the user made, such as
 * `.env` with the project's passwords: with --force an existing one is never rewritten. Only
 * the settings the template has and the file lacks are added, at its end.
 */

/** What became of a kept file: `appended` names the keys added to its end (none: untouched). */
export interface KeptFile {
  readonly path: string;
  readonly appended: readonly string[];
}

const KEY_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * The existing `.env`-style text, byte for byte, followed by every `KEY=value` line of the
 * rendered one whose key it lacks (each with the comment lines just above it in the template).
 * Pure: no IO. When nothing is missing, `content` is `existing` itself.
 */
export function appendMissingKeys(existing: string, rendered: string, by = "create-svc-app --force"): { content: string; appended: string[] } {
  const present = new Set(existing.split(/\r?\n/).map((line) => KEY_LINE.exec(line)?.[1]).filter(Boolean));
  const lines = rendered.split(/\r?\n/);
  const added: string[] = [];
  const appended: string[] = [];
  lines.forEach((line, i) => {
    const key = KEY_LINE.exec(line)?.[1];
    if (!key || present.has(key)) return;
    let first = i;
    while (first > 0 && lines[first - 1]!.trimStart().startsWith("#")) first--;
    added.push(...lines.slice(first, i + 1));
    appended.push(key);
    present.add(key);
  });
  if (appended.length === 0) return { content: existing, appended };
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  const note = `# Added by ${by}: settings the template has that this file lacked.`;
  return { content: `${existing}${separator}${note}\n${added.join("\n")}\n`, appended };
}
