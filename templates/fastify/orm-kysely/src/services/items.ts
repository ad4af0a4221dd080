import type { CompiledQuery, Selectable } from "kysely";
import type { Tx } from "../db/index.js";
import type { ItemChanges, ItemsTable } from "../models/items.js";
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
  const row = await db
    .insertInto("items")
    .values({ name: input.name, description: input.description ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toItemOut(row);
}

export async function listItems(db: Tx, { limit, offset }: ItemListQuery): Promise<ItemOut[]> {
  const rows = await db
    .selectFrom("items")
    .selectAll()
    .orderBy("id")
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map(toItemOut);
}

// Reading an item by its id, compiled to SQL once: the statement is the same for every id and on
// every handle (the pool or a transaction), so a call only swaps in its id, the one parameter.
let byId: CompiledQuery<Selectable<ItemsTable>> | undefined;

export async function getItem(db: Tx, id: number): Promise<ItemOut | undefined> {
  byId ??= db.selectFrom("items").selectAll().where("id", "=", 0).compile();
  const { rows } = await db.executeQuery<Selectable<ItemsTable>>({ ...byId, parameters: [id] });
  const [row] = rows;
  return row && toItemOut(row);
}

export async function updateItem(
  db: Tx,
  id: number,
  patch: ItemUpdate,
): Promise<ItemOut | undefined> {
  // Only the fields present in the body change; `description: null` clears it.
  const changes: ItemChanges = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.description !== undefined) changes.description = patch.description;
  if (Object.keys(changes).length === 0) return getItem(db, id);
  const row = await db
    .updateTable("items")
    .set(changes)
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
  return row && toItemOut(row);
}

export async function deleteItem(db: Tx, id: number): Promise<boolean> {
  const result = await db.deleteFrom("items").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
