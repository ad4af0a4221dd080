import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cliPath, repoRoot, runCli, snapshotDir, tempDir } from "../helpers/cli.js";

/** A copy of the bundled templates that a test may break, used through --templates. */
function templatesCopy(): string {
  const dir = path.join(tempDir("svc-tpl-"), "templates");
  cpSync(path.join(repoRoot, "templates"), dir, { recursive: true });
  return dir;
}

/** A one-stack templates folder whose base layer is given as path -> content. */
function customTemplates(files: Record<string, string>): string {
  const root = path.join(tempDir("svc-tpl-"), "templates");
  const manifest = {
    name: "demo", title: "Demo", description: "fault injection", options: [],
    layers: [{ source: "base" }], next: [], install: [], health: { path: "/health", portVar: "WEB_PORT" },
  };
  mkdirSync(path.join(root, "demo", "base"), { recursive: true });
  writeFileSync(path.join(root, "demo", "template.json"), JSON.stringify(manifest));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, "demo", "base", rel)), { recursive: true });
    writeFileSync(path.join(root, "demo", "base", rel), content);
  }
  return root;
}

/**
 * CPU seconds a process has used (Linux: utime + stime in /proc/<pid>/stat, in clock ticks of
 * 1/100 s). Unlike wall time it does not stretch on a loaded machine: starting the CLI costs a
 * few tenths of a second of CPU, rendering the slow template several seconds.
 */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Starts the CLI, sends `signal` once `ready()` says so, and returns its result. */
async function interrupt(args: string[], cwd: string, ready: (pid: number) => boolean, signal: NodeJS.Signals) {
  // No forced kill after the signal: on a loaded machine the render it interrupts may take longer
  // than execa's 5 s grace, and a SIGKILL would hide the CLI's own answer.
  const child = execa(process.execPath, [cliPath, ...args], { cwd, reject: false, env: { CI: "true" }, timeout: 50_000, forceKillAfterDelay: false });
  for (let i = 0; i < 6000 && !ready(child.pid!); i++) await new Promise((r) => setTimeout(r, 5));
  if (!ready(child.pid!)) {
    child.kill("SIGKILL");
    throw new Error("the moment to interrupt never came");
  }
  child.kill(signal);
  return child;
}

describe("faults leave the target directory byte for byte as it was", () => {
  it("a broken manifest is one error naming the file and the field, exit 1, nothing written", async () => {
    const templates = templatesCopy();
    const file = path.join(templates, "fastapi", "template.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"default": "sqlalchemy"', '"default": "peewee"'));
    const cwd = tempDir();
    const before = snapshotDir(cwd);
    const r = await runCli(["my-api", "--yes", "--templates", templates], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: .*fastapi\/template\.json: options\[0\]\.default "peewee" is not one of its choices \(sqlalchemy, sqlmodel\)$/);
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it("a template using an unknown variable fails naming the template file, nothing written", async () => {
    const templates = customTemplates({ "README.md.hbs": "# {{project.nmae}}\n" });
    const cwd = tempDir();
    const r = await runCli(["my-api", "--yes", "--templates", templates], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe('error: templates/demo/base/README.md.hbs: "nmae" not defined in [object Object] - 1:4');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each(["SIGINT", "SIGTERM"] as const)("%s while rendering a slow template: exit 130, nothing written", async (signal) => {
    // 40 000 substitutions keep the renderer busy for a few seconds.
    const templates = customTemplates({ "big.txt.hbs": "{{project.name}} ".repeat(40_000) });
    const cwd = tempDir();
    const before = snapshotDir(cwd);
    const started = Date.now();
    // Once the CLI has used more CPU than starting takes (its signal handlers are set), while it
    // renders: on a loaded machine, a second of wall time can pass before it even runs.
    const r = await interrupt(["my-api", "--yes", "--no-git", "--templates", templates], cwd, (pid) => cpuSeconds(pid) > 1, signal);
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(String(r.stderr)).toContain("Cancelled");
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it.each(["SIGINT", "SIGTERM"] as const)("%s while writing: the staged files are removed, exit 130", async (signal) => {
    const files = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`data/d${i % 60}/f${i}.txt`, `file ${i}\n`]));
    const templates = customTemplates(files);
    const cwd = tempDir();
    writeFileSync(path.join(cwd, "unrelated.txt"), "keep me");
    const before = snapshotDir(cwd);
    const staging = () => readdirSync(cwd).some((n) => n.startsWith(".my-api.svc-app-"));
    const r = await interrupt(["my-api", "--yes", "--no-git", "--templates", templates], cwd, staging, signal);
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it("SIGINT while writing into an existing directory with --force restores what was replaced", async () => {
    const files = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`data/d${i % 60}/f${i}.txt`, `new ${i}\n`]));
    const templates = customTemplates({ ...files, "README.md": "template readme\n" });
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "my-api", "data", "d0"), { recursive: true });
    writeFileSync(path.join(cwd, "my-api", "README.md"), "my own readme");
    writeFileSync(path.join(cwd, "my-api", "data", "d0", "f0.txt"), "my own data");
    const before = snapshotDir(cwd);
    // Interrupt once files start moving into the project (the first replaced file is backed up).
    const moving = () => readdirSync(cwd).some((n) => n.endsWith(".backup"));
    const r = await interrupt(["my-api", "--yes", "--no-git", "--force", "--templates", templates], cwd, moving, "SIGINT");
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(snapshotDir(cwd)).toEqual(before);
  });
});
