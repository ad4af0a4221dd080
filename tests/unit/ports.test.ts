import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { portInUse, publishedPorts } from "../../src/steps/ports.js";

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
