import { asc, eq, sql } from "drizzle-orm";
import type { Tx } from "../db/index.js";
import { items } from "../models/items.js";
import {
  type ItemCreate,
  type ItemListQuery,
  type ItemOut,
  type ItemUpdate,
  toItemOut,
} from "../schema/items.js";

// Data access for items. Every function runs on the caller's transaction, so a route's
// writes commit or roll back together.

export async function createItem(db: Tx, input: ItemCreate): Promise<ItemOut> {
  const [row] = await db
    .insert(items)
    .values({ name: input.name, description: input.description ?? null })
    .returning();
  if (!row) throw new Error("INSERT ... RETURNING returned no row");
  return toItemOut(row);
}

export async function listItems(db: Tx, { limit, offset }: ItemListQuery): Promise<ItemOut[]> {
  const rows = await db.select().from(items).orderBy(asc(items.id)).limit(limit).offset(offset);
  return rows.map(toItemOut);
}

// Reading an item by its id, prepared once per database handle: Drizzle then skips building the
// query and its SQL on every call, and Postgres parses and plans the named statement once per
// connection. Reads run on the pool (one handle for the process); a transaction is a new handle
// each time, so it prepares its own.
const byIdStatements = new WeakMap<Tx, ReturnType<typeof prepareById>>();

function prepareById(db: Tx) {
  return db
    .select()
    .from(items)
    .where(eq(items.id, sql.placeholder("id")))
    .prepare("item_by_id");
}

export async function getItem(db: Tx, id: number): Promise<ItemOut | undefined> {
  let byId = byIdStatements.get(db);
  if (!byId) {
    byId = prepareById(db);
    byIdStatements.set(db, byId);
  }
  const [row] = await byId.execute({ id });
  return row && toItemOut(row);
}

export async function updateItem(
  db: Tx,
  id: number,
  patch: ItemUpdate,
): Promise<ItemOut | undefined> {
  // Only the fields present in the body change; `description: null` clears it.
  const changes: Partial<typeof items.$inferInsert> = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.description !== undefined) changes.description = patch.description;
  if (Object.keys(changes).length === 0) return getItem(db, id);
  const [row] = await db.update(items).set(changes).where(eq(items.id, id)).returning();
  return row && toItemOut(row);
}

export async function deleteItem(db: Tx, id: number): Promise<boolean> {
  const deleted = await db.delete(items).where(eq(items.id, id)).returning({ id: items.id });
  return deleted.length > 0;
}
