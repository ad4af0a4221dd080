import { defineConfig } from "vitest/config";

// Three tiers (see README): unit and cli run in `pnpm test`, e2e in `pnpm test:e2e`.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["tests/unit/**/*.test.ts"], setupFiles: ["tests/helpers/cleanup.ts"] } },
      { test: { name: "cli", include: ["tests/cli/**/*.test.ts"], globalSetup: ["tests/helpers/tools-setup.ts"], setupFiles: ["tests/helpers/cleanup.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          setupFiles: ["tests/helpers/cleanup.ts"],
          env: { SVC_TEMP_LENIENT: "1" },
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // Variants install real dependencies: one at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
