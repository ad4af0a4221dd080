import type { Tx } from "../db/index.js";
import { Item } from "../models/item.js";
import {
  type ItemCreate,
  type ItemListQuery,
  type ItemOut,
  type ItemUpdate,
  toItemOut,
} from "../schema/items.js";

// Data access for items. Every function runs on the caller's transaction (an EntityManager),
// so a route's writes commit or roll back together.

export async function createItem(db: Tx, input: ItemCreate): Promise<ItemOut> {
  const items = db.getRepository(Item);
  const item = await items.save(
    items.create({ name: input.name, description: input.description ?? null }),
  );
  return toItemOut(item);
}

export async function listItems(db: Tx, { limit, offset }: ItemListQuery): Promise<ItemOut[]> {
  const rows = await db
    .getRepository(Item)
    .find({ order: { id: "ASC" }, take: limit, skip: offset });
  return rows.map(toItemOut);
}

// Reading an item by its id, the most frequent query, as one SQL statement written once from the
// entity's columns: findOneBy() would build it through the query builder on every call and then
// turn each row into an entity. The columns are named as the properties (models/item.ts), so a
// row is already an item's shape.
let byIdSql: string | undefined;

export async function getItem(db: Tx, id: number): Promise<ItemOut | undefined> {
  if (byIdSql === undefined) {
    const { tablePath, columns } = db.connection.getMetadata(Item);
    const names = columns.map((c) => `"${c.databaseName}"`).join(", ");
    byIdSql = `SELECT ${names} FROM "${tablePath}" WHERE "id" = $1`;
  }
  const [row]: Item[] = await db.query(byIdSql, [id]);
  return row ? toItemOut(row) : undefined;
}

export async function updateItem(
  db: Tx,
  id: number,
  patch: ItemUpdate,
): Promise<ItemOut | undefined> {
  const items = db.getRepository(Item);
  const item = await items.findOneBy({ id });
  if (!item) return undefined;
  // Only the fields present in the body change; `description: null` clears it.
  if (patch.name !== undefined) item.name = patch.name;
  if (patch.description !== undefined) item.description = patch.description;
  return toItemOut(await items.save(item));
}

export async function deleteItem(db: Tx, id: number): Promise<boolean> {
  const result = await db.getRepository(Item).delete({ id });
  return (result.affected ?? 0) > 0;
}
