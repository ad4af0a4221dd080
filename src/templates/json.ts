/**
 * JSON for template authors: parse errors and field problems point at a line and column of the
 * file, not at a character offset.
 */

export interface Position {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf("\n");
  return { line: before.split("\n").length, col: offset - lastBreak };
}

/** JSON.parse, or a problem with the line and column where the text stops being JSON. */
export function parseJsonText(text: string): { value: unknown } | { problem: string; at: Position } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const message = (error as Error).message;
    const offset = Number(/at position (\d+)/.exec(message)?.[1] ?? text.length);
    const at = positionAt(text, offset);
    const rest = text.slice(offset);
    // JSON has no comments and no trailing commas; say so instead of "Expected property name".
    const hint = rest.startsWith("//") || rest.startsWith("/*")
      ? "JSON has no comments: remove the comment (the description fields say what the manifest means)"
      : /^\s*[}\]]/.test(rest) && /,\s*$/.test(text.slice(0, offset))
        ? "JSON allows no comma before } or ]: remove it"
        : message.replace(/ in JSON at position \d+.*$/, "").replace(/^Unexpected end of JSON input$/, "the file ends before the JSON does");
    return { problem: `not valid JSON: ${hint}`, at };
  }
}

/**
 * Where the value at `field` (as parseManifest names fields: `options[1].choices[0].value`,
 * `layers[2].when.orm`) starts in the JSON text. A field that is missing points at the nearest
 * enclosing value that exists. Assumes the text parses.
 */
export function locateField(text: string, field: string): Position {
  const wanted = field === "(root)" ? [] : field.split(/[.[\]]+/).filter(Boolean);
  let best = skipSpace(text, 0);
  let i = best;
  for (const key of wanted) {
    const found = childStart(text, i, key);
    if (found < 0) break;
    best = found;
    i = found;
  }
  return positionAt(text, best);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** Start of the child `key` (a member name, or an array index) of the value starting at i; -1 if none. */
function childStart(text: string, i: number, key: string): number {
  const open = text[i];
  if (open !== "{" && open !== "[") return -1;
  let index = 0;
  i = skipSpace(text, i + 1);
  while (i < text.length && text[i] !== "}" && text[i] !== "]") {
    let name = String(index);
    if (open === "{") {
      const end = endOfValue(text, i);
      name = JSON.parse(text.slice(i, end)) as string;
      i = skipSpace(text, skipSpace(text, end) + 1); // past ':'
    }
    if (name === key) return i;
    i = skipSpace(text, endOfValue(text, i));
    if (text[i] === ",") i = skipSpace(text, i + 1);
    index++;
  }
  return -1;
}

/** Index just past the JSON value starting at i. */
function endOfValue(text: string, i: number): number {
  if (text[i] === '"') {
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === "\\") j++;
      else if (text[j] === '"') return j + 1;
    }
    return text.length;
  }
  if (text[i] === "{" || text[i] === "[") {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = endOfValue(text, j) - 1;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !/[\s,}\]]/.test(text[j]!)) j++;
  return j;
}
