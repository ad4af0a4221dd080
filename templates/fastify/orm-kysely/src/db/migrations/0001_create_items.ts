import { type Kysely, sql } from "kysely";

// Migrations take an untyped Kysely: they must keep compiling after the app's types move on.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("items")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("name", "varchar(100)", (col) => col.notNull())
    .addColumn("description", "varchar(1000)")
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("items").execute();
}
