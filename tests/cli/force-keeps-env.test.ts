import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers/cli.js";

const noSteps = ["--yes", "--no-install", "--no-git"];

describe.each(["fastapi", "fastify"])("--force over an existing %s project", (stack) => {
  it("keeps .env byte for byte (mode too), appends only the keys it lacks, and says so", async () => {
    const cwd = tempDir();
    const first = await runCli(["my-api", ...noSteps, "--stack", stack], { cwd });
    expect(first.exitCode, first.stderr).toBe(0);
    const envPath = path.join(cwd, "my-api", ".env");
    // The user's own settings: another password, a key of their own, and an older .env without
    // POSTGRES_PASSWORD (as generated before the Compose superuser had a password of its own).
    const mine = readFileSync(envPath, "utf8")
      .replace(/^DB_PASSWORD=.*$/m, 'DB_PASSWORD="chosen by me #1"')
      .replace(/^# The Compose database's.*\nPOSTGRES_PASSWORD=.*\n/m, "")
      .concat("MY_OWN_SETTING=1");
    writeFileSync(envPath, mine);
    chmodSync(envPath, 0o640);

    const dry = await runCli(["my-api", ...noSteps, "--stack", stack, "--force", "--dry-run", "--json"], { cwd });
    expect(JSON.parse(dry.stdout).files.find((f: { path: string }) => f.path === ".env").status).toBe("would-keep");

    const forced = await runCli(["my-api", ...noSteps, "--stack", stack, "--force"], { cwd });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("Kept your .env as it was, appending the settings it lacked: POSTGRES_PASSWORD");
    const after = readFileSync(envPath, "utf8");
    expect(after.startsWith(`${mine}\n`)).toBe(true);
    expect(after.slice(mine.length)).toMatch(/^\n# Added by create-svc-app --force: [^\n]*\n# The Compose database's [^\n]*\nPOSTGRES_PASSWORD=[A-Za-z0-9_-]{32}\n$/);
    expect(statSync(envPath).mode & 0o777).toBe(0o640);
    expect(forced.stdout).not.toContain(/^POSTGRES_PASSWORD=(.+)$/m.exec(after)![1]);

    // Nothing missing any more: the next --force leaves it exactly as it is.
    const again = await runCli(["my-api", ...noSteps, "--stack", stack, "--force", "--json"], { cwd });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).files.find((f: { path: string }) => f.path === ".env").status).toBe("kept");
    expect(again.stderr).toContain("Kept your .env as it was");
    expect(readFileSync(envPath, "utf8")).toBe(after);
  });
});
