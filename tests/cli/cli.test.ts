import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listTree, repoRoot, runCli, snapshotDir, tempDir } from "../helpers/cli.js";
import { manifests } from "../helpers/expected.js";

const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
const noSteps = ["--yes", "--no-install", "--no-git"];

describe("the CLI as a user runs it", () => {
  it("-V prints the version and --help documents every flag with the choices of each stack", async () => {
    const v = await runCli(["-V"]);
    expect([v.exitCode, v.stdout.trim()]).toEqual([0, pkg.version]);
    const h = await runCli(["--help"]);
    expect(h.exitCode).toBe(0);
    for (const flag of ["--stack", "--orm", "--python", "--db-name", "--db-user", "--install", "--no-install", "--git", "--no-git", "--boot", "--no-boot", "--boot-timeout", "--yes", "--force", "--dry-run", "--json", "--templates", "--version", "--help"]) {
      expect(h.stdout).toContain(flag);
    }
    // Every choice of every option, as the manifests under test declare them.
    const help = h.stdout.replace(/\s+/g, " ");
    for (const m of manifests) {
      for (const o of m.options) {
        expect(help).toContain(`${m.name}: ${o.choices.map((c) => (c.value === o.default ? `${c.value} (default)` : c.value)).join(", ")}`);
      }
    }
  });

  it("--dry-run prints the tree, marks existing files, and writes nothing", async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "my-api"));
    writeFileSync(path.join(cwd, "my-api", "README.md"), "mine");
    const before = snapshotDir(cwd);
    const r = await runCli(["my-api", "--yes", "--force", "--dry-run"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^my-api\/\n├── app\//);
    expect(r.stdout).toContain("README.md  (exists, replaced)");
    expect(r.stdout).toMatch(/│   │   └── session\.py\n/);
    expect(r.stdout).toMatch(/dry run: \d+ files would be written to .*my-api \(1 replaced\); nothing was written/);
    expect(snapshotDir(cwd)).toEqual(before);
  });

  it("--force adds the template's files, replaces same-named ones, and leaves everything else alone", async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, "my-api", "notes"), { recursive: true });
    writeFileSync(path.join(cwd, "my-api", "notes", "todo.txt"), "mine");
    writeFileSync(path.join(cwd, "my-api", "README.md"), "old readme");
    const r = await runCli(["my-api", ...noSteps, "--force", "--json"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path.join(cwd, "my-api", "notes", "todo.txt"), "utf8")).toBe("mine");
    expect(readFileSync(path.join(cwd, "my-api", "README.md"), "utf8")).not.toBe("old readme");
    const files = JSON.parse(r.stdout).files as { path: string; status: string }[];
    expect(files.find((f) => f.path === "README.md")?.status).toBe("replaced");
    expect(files.filter((f) => f.status === "replaced")).toHaveLength(1);
    expect(listTree(path.join(cwd, "my-api"))).toContain("notes/todo.txt");
  });

  it("'.' generates into the current (empty) directory, named after it, with no cd in the next steps", async () => {
    const cwd = path.join(tempDir(), "orders-api");
    mkdirSync(cwd);
    const r = await runCli([".", ...noSteps, "--json"], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answers).toMatchObject({ name: "orders-api", dbName: "orders_api", dbUser: "orders_api_user" });
    expect(out.next[0]).toBe("poetry install");
    expect(readFileSync(path.join(cwd, "pyproject.toml"), "utf8")).toContain('name = "orders-api"');
  });

  it("a nested path creates its parents; the project is named by the last segment", async () => {
    const cwd = tempDir();
    const r = await runCli(["services/billing/invoice-api", ...noSteps], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("cd services/billing/invoice-api");
    expect(JSON.parse(readFileSync(path.join(cwd, "services/billing/invoice-api/.svc-app.json"), "utf8")).answers.name).toBe("invoice-api");
  });
});
