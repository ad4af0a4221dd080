import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { busyPorts, freePortAbove, portInUse, publishedPorts } from "../../src/steps/ports.js";
import { tempDir } from "../helpers/cli.js";

describe("publishedPorts", () => {
  it("reads the short syntax the templates use, with and without a variable or host address", () => {
    const compose = [
      "services:",
      "  web:",
      "    ports:",
      '      - "127.0.0.1:${WEB_PORT:-8000}:8000"',
      "  db:",
      "    ports:",
      "      # a comment",
      '      - "127.0.0.1:${DB_PORT:-5432}:5432"',
      "      - 9090:9090",
      "      - '${METRICS_PORT}:9100/tcp'",
      "    expose:",
      '      - "3000"',
    ].join("\n");
    expect(publishedPorts(compose)).toEqual([
      { host: "127.0.0.1", variable: "WEB_PORT", fallback: "8000" },
      { host: "127.0.0.1", variable: "DB_PORT", fallback: "5432" },
      { host: "0.0.0.0", fallback: "9090" },
      { host: "0.0.0.0", variable: "METRICS_PORT" },
    ]);
  });
});

describe("portInUse", () => {
  it("is true while a program listens on the port and false once it stopped", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    expect(await portInUse("127.0.0.1", port)).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await portInUse("127.0.0.1", port)).toBe(false);
  });
});

describe("busyPorts and freePortAbove", () => {
  it("resolve each published port as Compose does (environment, then .env, then the default) and find a free one above a taken one", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port: taken } = holder.address() as { port: number };
    try {
      const dir = tempDir();
      writeFileSync(path.join(dir, "docker-compose.yml"), ['services:', '  web:', '    ports:', '      - "127.0.0.1:${WEB_PORT:-8000}:8000"', '  db:', '    ports:', '      - "127.0.0.1:${DB_PORT:-5432}:5432"'].join("\n"));
      writeFileSync(path.join(dir, ".env"), `WEB_PORT=${taken}\nDB_PORT=${taken}\n`);
      // .env names the taken port for both; the environment moves WEB_PORT elsewhere.
      const free = await freePortAbove("127.0.0.1", taken);
      expect(await busyPorts(dir, { WEB_PORT: String(free) })).toEqual([{ host: "127.0.0.1", port: taken, variable: "DB_PORT" }]);
      expect(await busyPorts(dir, { WEB_PORT: String(free), DB_PORT: String(free) })).toEqual([]);
      expect(free).toBeGreaterThan(taken);
      expect(await portInUse("127.0.0.1", free)).toBe(false);
      expect(await freePortAbove("127.0.0.1", taken, [free])).not.toBe(free);
    } finally {
      holder.close();
    }
  });
});
