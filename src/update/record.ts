import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import type { FileMap } from "../render/render.js";
import type { OptionValue, OptionValues } from "../templates/manifest.js";

export const RECORD_FILE = ".svc-app.json";

/** What `.svc-app.json` says about how the project was made. */
export interface GenerationRecord {
  readonly generatorVersion: string;
  readonly stack: string;
  readonly name: string;
  readonly dbName: string;
  readonly dbUser: string;
  /** Template options by name (orm, python, ...); a `multiple` option's is a list. */
  readonly options: OptionValues;
}

/** Reads the project's `.svc-app.json`; a project without one (or with a broken one) is refused. */
export async function readRecord(targetDir: string, shown: string): Promise<GenerationRecord> {
  let text: string;
  try {
    text = await readFile(path.join(targetDir, RECORD_FILE), "utf8");
  } catch {
    throw new UserError(`${shown} has no ${RECORD_FILE}: it was not made by create-svc-app (or the file was deleted); update needs it to know the template and answers`);
  }
  let raw: { generator?: { version?: unknown }; template?: unknown; answers?: Record<string, unknown> };
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${shown}/${RECORD_FILE} is not valid JSON (${(error as Error).message}); restore it from git`);
  }
  const answers = raw.answers ?? {};
  const str = (v: unknown, field: string) => {
    if (typeof v !== "string" || v === "") throw new UserError(`${shown}/${RECORD_FILE}: ${field} is missing; restore the file from git`);
    return v;
  };
  const { name, stack, "db-name": dbName, "db-user": dbUser, ...rest } = answers;
  const options: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(rest)) {
    // A list is the answer to an option that takes several values (features); it may be empty.
    const list = Array.isArray(value) && value.every((v) => typeof v === "string" && v !== "");
    options[key] = list ? (value as string[]) : str(value, `answers.${key}`);
  }
  return {
    generatorVersion: typeof raw.generator?.version === "string" ? raw.generator.version : "unknown",
    stack: str(raw.template ?? stack, "template"),
    name: str(name, "answers.name"),
    dbName: str(dbName, "answers.db-name"),
    dbUser: str(dbUser, "answers.db-user"),
    options,
  };
}

/**
 * A secret the template renders (the database password) is found again in the project: the
 * template rendered with a marker value shows which lines carry it (`DB_PASSWORD=<marker>`);
 * the same line in one of the project's files gives the value. Returns undefined when no file
 * has such a line.
 */
export function recoverSecret(marked: FileMap, marker: string, sources: readonly ReadonlyMap<string, Buffer | undefined>[]): string | undefined {
  for (const source of sources) {
    for (const file of marked.values()) {
      const text = source.get(file.path)?.toString("utf8");
      if (!text) continue;
      for (const line of file.content.toString("utf8").split("\n")) {
        const at = line.indexOf(marker);
        if (at < 0) continue;
        const before = line.slice(0, at);
        const after = line.slice(at + marker.length);
        for (const candidate of text.split("\n")) {
          if (candidate.length > before.length + after.length && candidate.startsWith(before) && candidate.endsWith(after)) {
            const value = candidate.slice(before.length, candidate.length - after.length);
            if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
          }
        }
      }
    }
  }
  return undefined;
}
