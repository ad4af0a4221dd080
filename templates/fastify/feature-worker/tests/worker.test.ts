import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, expect, inject, it } from "vitest";
import { heartbeatFresh } from "../src/jobs/heartbeat.js";
import { testDatabaseUrl } from "./helpers.js";

// The worker as Compose runs it: its own process, its healthcheck, SIGTERM.

/** The DB_* settings of the test database, as the worker reads them. */
function databaseEnv(url: URL): Record<string, string> {
  return {
    DB_HOST: url.hostname,
    DB_PORT: url.port || "5432",
    DB_NAME: decodeURIComponent(url.pathname.slice(1)),
    DB_USER: decodeURIComponent(url.username),
    DB_PASSWORD: decodeURIComponent(url.password),
  };
}

describe("src/worker.ts", () => {
  it("beats its heartbeat (the healthcheck passes), then stops on SIGTERM: exit 0, healthcheck fails", async () => {
    const redisUrl = inject("redisUrl");
    const queue = inject("workerQueue");
    const env = {
      ...process.env,
      ...databaseEnv(new URL(testDatabaseUrl())),
      REDIS_URL: redisUrl,
      WORKER_QUEUE: queue,
      LOG_LEVEL: "info",
    };
    const worker = spawn(process.execPath, ["--import", "tsx", "src/worker.ts"], { env });
    let output = "";
    worker.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    worker.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    const exited = once(worker, "exit");
    const healthcheck = () =>
      spawnSync(process.execPath, ["--import", "tsx", "src/worker-health.ts"], {
        env,
        encoding: "utf8",
        timeout: 20_000,
      });
    try {
      const until = Date.now() + 20_000;
      while (!(await heartbeatFresh(redisUrl, queue, 3_000)) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(healthcheck().status, output).toBe(0);
    } finally {
      worker.kill("SIGTERM");
    }
    const [code] = await exited;
    expect(code, output).toBe(0);
    expect(output).toContain("stopped");
    const after = healthcheck();
    expect(after.status).toBe(1);
    expect(after.stderr).toContain(`no heartbeat of a worker on this host for queue ${queue}`);
  }, 60_000);
});
