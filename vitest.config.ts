import { defineConfig } from "vitest/config";

// Four tiers (see README): unit and cli run in `pnpm test`, e2e in `pnpm test:e2e`, boot in `pnpm test:boot`.
// SVC_TEMPLATES=<dir> makes every tier test a copy of that templates folder (templates-setup.ts).
const templatesSetup = "tests/helpers/templates-setup.ts";
export default defineConfig({
  test: {
    // A test file per core (vitest's default leaves one core free): unit and cli files wait on
    // subprocesses as much as they compute (2 cores: `pnpm test` 490 s -> 327 s). The e2e and boot
    // tiers run their files one at a time regardless (fileParallelism below).
    maxWorkers: "100%",
    projects: [
      { test: { name: "unit", include: ["tests/unit/**/*.test.ts"], globalSetup: [templatesSetup], setupFiles: ["tests/helpers/cleanup.ts"] } },
      { test: { name: "cli", include: ["tests/cli/**/*.test.ts"], globalSetup: [templatesSetup, "tests/helpers/tools-setup.ts"], setupFiles: ["tests/helpers/cleanup.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: [templatesSetup],
          setupFiles: ["tests/helpers/cleanup.ts"],
          env: { SVC_TEMP_LENIENT: "1" },
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // Variants install real dependencies: one at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
      {
        test: {
          // pnpm bench:service: measures generated services under load; asserts nothing about speed.
          name: "bench",
          include: ["tests/bench/**/*.test.ts"],
          globalSetup: [templatesSetup],
          setupFiles: ["tests/helpers/cleanup.ts"],
          env: { SVC_TEMP_LENIENT: "1" },
          testTimeout: 1_800_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: "boot",
          include: ["tests/boot/**/*.test.ts"],
          // Sets up the container engine and the stand-in base images (scripts/boot/setup.sh).
          globalSetup: ["tests/boot/engine-setup.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // Image builds on a 2-core machine: one variant at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
