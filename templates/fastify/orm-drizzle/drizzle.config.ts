import { defineConfig } from "drizzle-kit";

// `npm run db:generate` diffs src/models against migrations/meta and writes the next SQL file;
// `npm run migrate` applies it. The URL is only needed by drizzle-kit's push and studio.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/models/items.ts",
  out: "./migrations",
  dbCredentials: { url: process.env.DATABASE_URL ?? "" },
});
