import { readFileSync } from "node:fs";
import pg from "pg";

/** Where a psql script connects: the embedded server, as its `postgres` superuser. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

// Values as the server sends them (`t`, `f`, numbers as text), as psql shows them.
const asText = { getTypeParser: () => (value: string) => value };

/**
 * Runs a psql script such as sql/init_db.sql the way psql would, for the embedded server, whose
 * package ships no psql. It understands what that file uses: `\set`, `\getenv`,
 * `\if`/`\else`/`\endif`, `\gset`, `\gexec`, `\connect`, `\echo`, and `:var`, `:'var'`,
 * `:"var"`, `:{?var}` in SQL. Any other meta-command is an error, so a change to the file that
 * needs more is noticed at once rather than skipped. It stops at the first error.
 */
export async function runPsqlFile(
  file: string,
  target: Target,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const text = readFileSync(file, "utf8");
  const vars = new Map<string, string>();
  const branches: { active: boolean; taken: boolean }[] = [];
  const active = () => branches.every((b) => b.active);
  let client = await connect(target, "postgres");
  let buffer = "";
  let line = 1;
  let start = 1;

  const fail = (message: string): never => {
    throw new Error(`${file}:${start}: ${message}`);
  };
  const literal = (name: string) => `'${value(name).replaceAll("'", "''")}'`;
  const identifier = (name: string) => `"${value(name).replaceAll('"', '""')}"`;
  const value = (name: string) => vars.get(name) ?? fail(`variable "${name}" is not set`);

  /** `:name`, `:'name'`, `:"name"` or `:{?name}` at text[i], as [replacement, length], or undefined. */
  const variableAt = (i: number): [string, number] | undefined => {
    if (text[i + 1] === ":" || text[i - 1] === ":") return undefined; // a :: cast
    const m =
      /^:(?:'([A-Za-z_][A-Za-z0-9_]*)'|"([A-Za-z_][A-Za-z0-9_]*)"|\{\?([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(
        text.slice(i, i + 80),
      );
    if (!m) return undefined;
    const [whole, quoted, ident, test, plain] = m;
    if (quoted) return [literal(quoted), whole.length];
    if (ident) return [identifier(ident), whole.length];
    if (test) return [vars.has(test) ? "TRUE" : "FALSE", whole.length];
    // psql leaves an unknown :name alone.
    return plain && vars.has(plain) ? [value(plain), whole.length] : undefined;
  };

  const query = async (sql: string) => {
    try {
      return await client.query({ text: sql, rowMode: "array", types: asText });
    } catch (error) {
      return fail(error instanceof Error ? error.message : String(error));
    }
  };

  // `args` is only read in an active branch: psql does not evaluate what it skips.
  const meta = async (command: string, argsOf: () => string[]) => {
    if (command === "if")
      return void branches.push({ active: active() && truth(argsOf()[0]), taken: false });
    const top = branches.at(-1);
    if (command === "else" || command === "endif") {
      if (!top) return fail(`\\${command} without \\if`);
      if (command === "endif") return void branches.pop();
      top.taken ||= top.active;
      top.active = !top.taken && branches.slice(0, -1).every((b) => b.active);
      return;
    }
    if (!active()) return;
    const args = argsOf();
    const sql = buffer.trim();
    buffer = "";
    switch (command) {
      case "set":
        return void vars.set(args[0] ?? fail("\\set needs a name"), args.slice(1).join(""));
      case "getenv": {
        const found = env[args[1] ?? ""];
        if (found !== undefined) vars.set(args[0] ?? "", found);
        return;
      }
      case "echo":
        return void console.log(args.join(" "));
      case "connect":
        await client.end();
        client = await connect(target, args[0] ?? fail("\\connect needs a database"));
        return;
      case "gset": {
        const result = await query(sql);
        if (result.rows.length !== 1)
          return fail(`\\gset needs exactly one row, got ${result.rows.length}`);
        for (const [i, field] of result.fields.entries()) {
          vars.set(field.name, String(result.rows[0]?.[i]));
        }
        return;
      }
      case "gexec":
        for (const row of (await query(sql)).rows) {
          for (const cell of row as (string | null)[]) if (cell !== null) await query(cell);
        }
        return;
      default:
        return fail(`psql command \\${command} is not supported here`);
    }
  };

  const truth = (word: string | undefined): boolean => {
    const w = (word ?? "").toLowerCase();
    if (["t", "true", "on", "y", "yes", "1"].includes(w)) return true;
    if (["f", "false", "off", "n", "no", "0"].includes(w)) return false;
    return fail(`\\if needs a boolean, got "${word}"`);
  };

  /** A meta-command's arguments: words, '...' (with '' for a quote), "..." and variables. */
  const parseArgs = (rest: string): string[] => {
    const args: string[] = [];
    for (const m of rest.matchAll(
      /'((?:[^']|'')*)'|"((?:[^"]|"")*)"|:(?:'(\w+)'|"(\w+)"|\{\?(\w+)\}|(\w+))|(\S+)/g,
    )) {
      const [, single, double, litVar, idVar, testVar, plainVar, word] = m;
      if (single !== undefined) args.push(single.replaceAll("''", "'"));
      else if (double !== undefined) args.push(double.replaceAll('""', '"'));
      else if (litVar ?? idVar ?? plainVar)
        args.push(value((litVar ?? idVar ?? plainVar) as string));
      else if (testVar) args.push(vars.has(testVar) ? "TRUE" : "FALSE");
      else args.push(word ?? "");
    }
    return args;
  };

  try {
    let i = 0;
    while (i < text.length) {
      const c = text[i] as string;
      if (buffer.trim() === "") start = line;
      if (c === "\n") line++;
      const rest = text.slice(i);
      // A quoted string, a dollar-quoted body or a comment is copied as it is.
      const opaque =
        /^(?:'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|(\$[A-Za-z_]*\$)[\s\S]*?\1)/.exec(
          rest,
        );
      if (opaque) {
        buffer += opaque[0];
        line += (opaque[0].match(/\n/g) ?? []).length;
        i += opaque[0].length;
      } else if (c === "\\") {
        const end = text.indexOf("\n", i);
        const command = text.slice(i + 1, end < 0 ? undefined : end);
        const [name = ""] = command.split(/\s+/, 1);
        await meta(name, () => parseArgs(command.slice(name.length)));
        i = end < 0 ? text.length : end;
      } else if (c === ";") {
        const sql = `${buffer};`;
        buffer = "";
        if (active()) await query(sql);
        i++;
      } else if (c === ":" && active() && variableAt(i)) {
        const [replacement, length] = variableAt(i) as [string, number];
        buffer += replacement;
        i += length;
      } else {
        buffer += c;
        i++;
      }
    }
    if (branches.length > 0) fail("\\if without \\endif");
  } finally {
    await client.end();
  }
}

async function connect(target: Target, database: string): Promise<pg.Client> {
  const client = new pg.Client({ ...target, database });
  // Notices (RAISE NOTICE, "already exists, skipping") are psql's quiet chatter: dropped.
  client.on("notice", () => {});
  await client.connect();
  return client;
}
