import { integer, pgTable, timestamp, varchar } from "drizzle-orm/pg-core";

// The items table. Change it here, then run `npm run db:generate` to write the migration.
// Column keys are the SQL names, so rows come back in the API's snake_case shape.
export const items = pgTable("items", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  name: varchar({ length: 100 }).notNull(),
  description: varchar({ length: 1000 }),
  created_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
