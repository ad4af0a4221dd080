import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Creates a throwaway database for the run, migrates it and drops it afterwards.
    globalSetup: ["tests/global-setup.ts"],
    // The suites share one database; running them one after another keeps counts predictable.
    fileParallelism: false,
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
