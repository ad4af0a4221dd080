import { z } from "zod";

// Request and response shapes of the items API. They validate input, serialise output and
// feed the OpenAPI document at /docs; the ORM-specific code lives in models/ and services/.

const name = z.string().min(1).max(100);
const description = z.string().max(1000).nullish();

export const ItemCreate = z.object({ name, description });
export type ItemCreate = z.infer<typeof ItemCreate>;

// PATCH: every field optional; `description: null` clears it.
export const ItemUpdate = z.object({ name: name.optional(), description });
export type ItemUpdate = z.infer<typeof ItemUpdate>;

export const ItemOut = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.iso.datetime({ offset: true }),
});
export type ItemOut = z.infer<typeof ItemOut>;

// Path ids must fit Postgres `integer`: an oversized id is a 422, never a database error.
export const ItemParams = z.object({
  id: z.coerce.number().int().min(1).max(2_147_483_647),
});

export const ItemListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});
export type ItemListQuery = z.infer<typeof ItemListQuery>;

export const ErrorOut = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

/** A database row as every ORM returns it, turned into the API shape. */
export function toItemOut(row: {
  id: number;
  name: string;
  description: string | null;
  created_at: Date;
}): ItemOut {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    created_at: row.created_at.toISOString(),
  };
}
