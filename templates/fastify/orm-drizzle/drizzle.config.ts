import { defineConfig } from "drizzle-kit";

// `npm run db:generate` diffs src/models against migrations/meta and writes the next SQL file;
// `npm run migrate` applies it. The credentials are only needed by drizzle-kit's push and
// studio; they are passed as parts, so no password needs escaping.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/models/items.ts",
  out: "./migrations",
  dbCredentials: {
    host: process.env.DB_HOST ?? "localhost",
    port: Number(process.env.DB_PORT ?? 5432),
    database: process.env.DB_NAME ?? "",
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    ssl: false,
  },
});
