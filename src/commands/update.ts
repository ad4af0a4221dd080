import { randomBytes } from "node:crypto";
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { CancelledError, UserError } from "../errors.js";
import { clackPrompter } from "../cli/prompts.js";
import { parseUpdateArgs, type UpdateFlags } from "../cli/update-program.js";
import { applyDetection } from "../options/detect.js";
import { resolveAnswers } from "../options/resolve.js";
import type { Answers, Secrets } from "../options/types.js";
import { renderTemplate, type FileMap } from "../render/render.js";
import { loadManifests, loadTemplate } from "../templates/registry.js";
import { flagValue, type Manifest } from "../templates/manifest.js";
import { writeProject } from "../write/writer.js";
import { deleteRef, resolveCommit, stageConflicts, uncommitted, updateRef, workTreeOf, writeBlobs, type Unmerged } from "../git/git.js";
import { baseFiles, baseRef, commitBase, findBase } from "../update/base.js";
import { lockFilesOf, regenerateLocks, type LockOutcome } from "../update/locks.js";
import { planUpdate, type PlannedFile, type Version } from "../update/plan.js";
import { readRecord, recoverSecret, type GenerationRecord } from "../update/record.js";
import { installCommands } from "../steps/steps.js";
import { quote } from "../steps/runner.js";
import { printJson, templatesFlag, type CommandContext } from "./context.js";

/**
 * `create-svc-app update [dir]`: read how the project was made, find its base, render the
 * current template, plan every file three ways, regenerate lock files, then write it all at
 * once through the writer and record conflicts and the new base in git. Returns the exit code.
 */
export async function updateCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { io, reporter, signal } = ctx;
  const templatesRoot = templatesFlag(argv, io.cwd) ?? io.templatesRoot;
  // Defaults follow this machine, as for create (an option the new template adds may be asked).
  const manifests = await applyDetection(await loadManifests(templatesRoot), io.env);
  const parsed = parseUpdateArgs(argv, manifests, (text) => io.stdout.write(text));
  if (parsed.exitEarly) return 0;
  const { flags } = parsed;

  // 1. The project: how it was made, and whether git can keep its base and its conflicts.
  const targetDir = path.resolve(io.cwd, flags.directory);
  const shown = flags.directory === "." ? "the current directory" : flags.directory;
  const stat = await lstat(targetDir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`${shown} is not a directory; give the folder of a project made by create-svc-app`);
  const record = await readRecord(targetDir, shown);
  const manifest = manifests.find((m) => m.name === record.stack);
  if (!manifest) throw new UserError(`${shown} was made with the "${record.stack}" template, which ${templatesRoot} does not have (it has: ${manifests.map((m) => m.name).join(", ")})`);
  const tree = await workTreeOf(targetDir);
  if (tree && !flags.force && !flags.dryRun) {
    const dirty = await uncommitted(targetDir);
    if (dirty.length > 0) {
      const some = dirty.slice(0, 3).map((l) => l.slice(3)).join(", ");
      throw new UserError(`${shown} has uncommitted changes (${dirty.length}: ${some}${dirty.length > 3 ? ", ..." : ""}); commit or stash them so the update can be undone, or pass --force`);
    }
  }
  if (ctx.interactive && !flags.yes) reporter.intro(`${pkg.name} ${pkg.version} update`);
  const answers = await updateAnswers(record, flags, manifest, manifests, targetDir, ctx);

  // 2. The three trees. The database password is the project's own, found in its files.
  const template = await loadTemplate(templatesRoot, manifest, answers.options);
  const found = tree ? await findBase(targetDir, tree.prefix) : undefined;
  const markers = secretMarkers();
  const marked = renderTemplate({ template, answers, secrets: markers, generatorVersion: pkg.version });
  const keep = new Set([...marked.values()].filter((f) => f.keep).map((f) => f.path));
  const ours = await readProject(targetDir, [...marked.keys(), ...(found?.files.keys() ?? [])], keep);
  const secrets = projectSecrets(marked, markers, ours, keep, found?.files);
  const theirs = renderTemplate({ template, answers, secrets, generatorVersion: pkg.version });
  let base: ReadonlyMap<string, Version>;
  let baseSource: string;
  if (flags.baseTemplates !== undefined) {
    const root = path.resolve(io.cwd, flags.baseTemplates);
    const old = (await loadManifests(root)).find((m) => m.name === record.stack);
    if (!old) throw new UserError(`--base-templates ${flags.baseTemplates} has no "${record.stack}" template`);
    const recorded = { ...answers, options: record.options };
    const rendered = renderTemplate({ template: await loadTemplate(root, old, record.options), answers: recorded, secrets, generatorVersion: record.generatorVersion });
    base = baseFiles(rendered);
    baseSource = `--base-templates ${flags.baseTemplates}`;
  } else if (found) {
    base = found.files;
    baseSource = found.source;
  } else {
    throw new UserError(tree
      ? `${shown} has no recorded base (no ${baseRef(tree.prefix)}, and no first commit by create-svc-app): give the templates it was made with (create-svc-app ${record.generatorVersion}) as --base-templates <dir>`
      : `${shown} is not in a git work tree, so no base is recorded: give the templates it was made with (create-svc-app ${record.generatorVersion}) as --base-templates <dir>`);
  }
  for (const [p, v] of await readProject(targetDir, [...base.keys()].filter((p) => !ours.has(p)), keep)) ours.set(p, v);
  if (signal.aborted) throw new CancelledError();

  // 3. The plan, then lock files regenerated from the merged manifests (before anything is written).
  const labels = { ours: "yours", base: `as generated (create-svc-app ${record.generatorVersion})`, theirs: `new template (create-svc-app ${pkg.version})` };
  let plan = planUpdate({
    base,
    ours: new Map([...ours].filter((e): e is [string, Version] => e[1] !== undefined)),
    theirs: new Map([...theirs.values()].map((f) => [f.path, { content: f.content, mode: f.mode }])),
    userState: keep,
    lockFiles: new Set(lockFilesOf(manifest, answers.options).map((l) => l.file)),
    merge: { diff3: flags.diff3, labels },
  });
  const locks = flags.dryRun ? [] : await regenerateLocks(plan, manifest, answers.options, targetDir, signal);
  plan = plan.map((f) => withLock(f, locks, manifest, answers));
  const conflicts = plan.filter((f) => f.status === "conflict").map((f) => f.path);
  const summary = { record, answers, manifest, plan, baseSource, conflicts, locks };

  if (flags.dryRun) {
    await report(ctx, summary, true);
    return conflicts.length > 0 ? 1 : 0;
  }

  // 4. Write everything at once; git records the conflicts and the new base last, or nothing changes.
  const files: FileMap = new Map(plan.filter((f) => f.write).map((f) => [f.path, { path: f.path, content: f.write!.content, mode: f.write!.mode, source: "(update)" }]));
  const finish = tree ? await gitFinish(targetDir, tree, plan, base, theirs, answers) : undefined;
  await writeProject(io.fs, {
    targetDir,
    target: { kind: "non-empty", entries: 1 },
    files,
    force: true,
    remove: plan.filter((f) => f.remove).map((f) => f.path),
    signal,
    ...(finish ? { finish } : {}),
  });
  await report(ctx, summary, false);
  if (!tree) reporter.warn(`${shown} is not in a git work tree: the new base is not recorded, so the next update needs --base-templates again`);
  return conflicts.length > 0 ? 1 : 0;
}

/**
 * The answers of the update: the recorded ones, changed by the option flags given; an option the
 * template added since is asked (on a terminal), defaulted (--yes) or reported missing.
 */
async function updateAnswers(record: GenerationRecord, flags: UpdateFlags, manifest: Manifest, manifests: readonly Manifest[], targetDir: string, ctx: CommandContext): Promise<Answers> {
  const options: Record<string, string | undefined> = {};
  for (const spec of manifest.options) {
    const value = record.options[spec.name];
    // As the command line says it (a list as ci,worker or none), so the resolver checks it as a flag.
    const recorded = value === undefined ? undefined : flagValue(value);
    const gone = value === undefined ? [] : (typeof value === "string" ? [value] : value).filter((v) => !spec.choices.some((c) => c.value === v));
    if (gone.length > 0 && flags.options[spec.name] === undefined) {
      const choose = spec.multiple ? `--${spec.name} <${spec.choices.map((c) => c.value).join(",")}|none>` : `--${spec.name} <${spec.choices.map((c) => c.value).join("|")}>`;
      throw new UserError(`the project's ${spec.name} "${gone.join(",")}" is no longer offered by the template; choose ${spec.multiple ? "again" : "one"} with ${choose}`);
    }
    options[spec.name] = recorded;
  }
  for (const [name, value] of Object.entries(flags.options)) if (value !== undefined) options[name] = value;
  // The name is the recorded one, even if the folder was renamed since.
  return resolveAnswers(
    { directory: record.name, stack: record.stack, dbName: record.dbName, dbUser: record.dbUser, options, yes: flags.yes, force: true, dryRun: true, json: flags.json },
    {
      manifests,
      cwd: path.dirname(targetDir),
      fs: ctx.io.fs,
      interactive: ctx.interactive,
      noPrompts: ctx.noPrompts,
      prompter: clackPrompter({ get input() { return ctx.io.stdin; }, output: ctx.human, signal: ctx.signal }),
    },
  );
}

/** The project's files at these paths (absent: undefined); a folder or link where a file belongs is refused. */
async function readProject(targetDir: string, paths: readonly string[], keep: ReadonlySet<string>): Promise<Map<string, Version | undefined>> {
  const out = new Map<string, Version | undefined>();
  for (const p of new Set(paths)) {
    const abs = path.join(targetDir, p);
    const st = await lstat(abs).catch(() => undefined);
    if (!st) {
      out.set(p, undefined);
      continue;
    }
    if (!st.isFile()) throw new UserError(`${p} is ${st.isDirectory() ? "a folder" : "not a regular file"} in the project, where the template has a file; move it aside and update again`);
    // Modes compare as git sees them (executable or not); a user-state file keeps its own (.env: 0600).
    out.set(p, { content: await readFile(abs), mode: keep.has(p) ? st.mode & 0o777 : st.mode & 0o111 ? 0o755 : 0o644 });
  }
  return out;
}

const SECRET_NAMES: Record<keyof Secrets, string> = { dbPassword: "database password", postgresPassword: "Postgres superuser password" };

/** A marker per secret, for a render that shows where each secret is written. */
function secretMarkers(): Secrets {
  const marker = (name: string) => `svcapp${name}${randomBytes(8).toString("hex")}`;
  return { dbPassword: marker("db"), postgresPassword: marker("pg") };
}

/**
 * The project's own secrets (its database password): each found again in `.env`, else in the
 * project's or the base's files that carry it. One that no file carries but `.env` (a secret a
 * newer template adds) is new; one a tracked file needs but that cannot be found is refused.
 */
function projectSecrets(marked: FileMap, markers: Secrets, ours: ReadonlyMap<string, Version | undefined>, keep: ReadonlySet<string>, base?: ReadonlyMap<string, Version>): Secrets {
  const contents = (m: ReadonlyMap<string, Version | undefined>) => new Map([...m].map(([p, v]) => [p, v?.content]));
  const sources = [contents(new Map([...ours].filter(([p]) => keep.has(p)))), contents(ours), ...(base ? [contents(base)] : [])];
  const secrets: Record<string, string> = {};
  for (const [name, marker] of Object.entries(markers) as [keyof Secrets, string][]) {
    const found = recoverSecret(marked, marker, sources);
    const carriers = [...marked.values()].filter((f) => !f.keep && f.content.includes(marker)).map((f) => f.path);
    if (!found && carriers.length > 0) {
      throw new UserError(`cannot find this project's ${SECRET_NAMES[name]} (the template writes it into ${carriers.join(", ")}); restore .env, then update again`);
    }
    secrets[name] = found ?? randomBytes(24).toString("base64url");
  }
  return secrets as unknown as Secrets;
}

function withLock(f: PlannedFile, locks: readonly LockOutcome[], manifest: Manifest, answers: Answers): PlannedFile {
  if (!f.regenerate) return f;
  const outcome = locks.find((l) => l.path === f.path);
  const command = lockFilesOf(manifest, answers.options).find((l) => l.file === f.path)!.run.join(" ");
  if (!outcome) return { ...f, note: `would be regenerated: ${command}` };
  if (outcome.content) return { ...f, write: { content: outcome.content, mode: f.write?.mode ?? 0o644 }, note: `regenerated: ${command}` };
  return { ...f, note: outcome.problem! };
}

/**
 * Prepares the git side (blobs and the new base commit: objects only) and returns what the
 * writer runs once the files are in place: move the base ref, then mark the conflicts unmerged
 * in the index. If marking fails, the ref is put back and the writer undoes the files.
 */
async function gitFinish(
  dir: string,
  tree: { top: string; prefix: string },
  plan: readonly PlannedFile[],
  base: ReadonlyMap<string, Version>,
  theirs: FileMap,
  answers: Answers,
): Promise<() => Promise<void>> {
  const ref = baseRef(tree.prefix);
  const newBase = baseFiles(theirs);
  const unchangedBase = newBase.size === base.size && [...newBase].every(([p, v]) => base.get(p)?.content.equals(v.content) && base.get(p)?.mode === v.mode);
  const old = await resolveCommit(dir, ref);
  const commit = unchangedBase && old ? undefined : await commitBase(dir, theirs, answers, pkg.version, old);

  const conflicted = plan.filter((f) => f.sides);
  const versions = conflicted.flatMap((f) => [f.sides!.base, f.sides!.ours, f.sides!.theirs]);
  const oids = await writeBlobs(dir, versions.filter((v): v is Version => v !== undefined).map((v) => v.content));
  let k = 0;
  const entry = (v: Version | undefined) => (v ? { oid: oids[k++]!, mode: v.mode } : undefined);
  const unmerged: Unmerged[] = conflicted.map((f) => {
    const [b, o, t] = [entry(f.sides!.base), entry(f.sides!.ours), entry(f.sides!.theirs)];
    return { path: f.path, ...(b ? { base: b } : {}), ...(o ? { ours: o } : {}), ...(t ? { theirs: t } : {}) };
  });

  return async () => {
    if (commit) await updateRef(dir, ref, commit, old ?? null);
    try {
      await stageConflicts(tree.top, tree.prefix, unmerged);
    } catch (error) {
      if (commit) await (old ? updateRef(dir, ref, old) : deleteRef(dir, ref)).catch(() => undefined);
      throw error;
    }
  };
}

const ORDER = ["conflict", "merged", "updated", "added", "removed", "kept", "unchanged"] as const;

async function report(
  ctx: CommandContext,
  s: { record: GenerationRecord; answers: Answers; manifest: Manifest; plan: readonly PlannedFile[]; baseSource: string; conflicts: string[]; locks: readonly LockOutcome[] },
  dryRun: boolean,
): Promise<void> {
  const changed = Object.fromEntries(Object.entries(s.answers.options).filter(([k, v]) => s.record.options[k] !== v).map(([k, v]) => [k, { from: s.record.options[k] ?? null, to: v }]));
  if (ctx.json) {
    printJson(ctx.io.stdout, {
      ok: s.conflicts.length === 0,
      dryRun,
      stack: s.answers.stack,
      base: s.baseSource,
      generator: { from: s.record.generatorVersion, to: pkg.version },
      changedAnswers: changed,
      files: s.plan.map((f) => ({ path: f.path, status: f.status, ...(f.note ? { note: f.note } : {}) })),
      conflicts: s.conflicts,
    });
    return;
  }
  const answerChanges = Object.entries(changed).map(([k, c]) => `${k} ${c.from ?? "(new)"} -> ${c.to}`);
  const shownFiles = s.plan.filter((f) => f.status !== "unchanged").sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || a.path.localeCompare(b.path));
  ctx.reporter.info([
    `${dryRun ? "Plan for updating" : "Updating"} ${s.record.name} (${s.manifest.title}${answerChanges.length ? `; ${answerChanges.join(", ")}` : ""}), base: ${s.baseSource}`,
    ...shownFiles.map((f) => `  ${f.status.padEnd(9)} ${f.path}${f.note ? `  (${f.note})` : ""}`),
  ].join("\n"));
  const counts = ORDER.map((st) => [st, s.plan.filter((f) => f.status === st).length] as const).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`);
  const flagged = s.plan.filter((f) => f.regenerate && !f.note?.startsWith("regenerated") && !dryRun);
  if (dryRun) ctx.reporter.info(`dry run: ${counts.join(", ")}; nothing was changed`);
  else if (s.plan.every((f) => !f.write && !f.remove)) ctx.reporter.success(`Already up to date with the template: ${counts.join(", ")}`);
  else if (s.conflicts.length === 0) ctx.reporter.success(`Updated: ${counts.join(", ")}`);
  for (const f of flagged) ctx.reporter.warn(`${f.path}: ${f.note}`);
  const lockChanged = s.plan.some((f) => f.regenerate && f.write);
  const install = (await installCommands(s.manifest, s.answers)).map((argv) => argv.map(quote).join(" "));
  if (!dryRun && lockChanged && install.length > 0) ctx.reporter.info(`The dependencies changed; install them: ${install.join(" && ")}`);
  if (s.conflicts.length > 0) {
    ctx.reporter.warn(`${s.conflicts.length} file${s.conflicts.length === 1 ? "" : "s"} with conflicts ${dryRun ? "would be left" : "to resolve (marked unmerged in git; resolve, then git add)"}:`);
    ctx.human.write(`${s.conflicts.join("\n")}\n`);
  }
  if (ctx.interactive) ctx.reporter.outro(s.conflicts.length > 0 && !dryRun ? "Resolve the conflicts, git add them, then commit" : "Done");
}
