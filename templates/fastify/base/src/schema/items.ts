import { z } from "zod";

// Request and response shapes of the items API. They validate input, serialise output and
// feed the OpenAPI document at /docs; the ORM-specific code lives in models/ and services/.

/** The largest Postgres `integer`: a larger id is a bad request, not a database error. */
const INT4_MAX = 2_147_483_647;

/**
 * Text of at most `max` characters. Lengths count Unicode code points, as Postgres `varchar(n)`
 * and JSON Schema do (zod's own max() counts UTF-16 units, so one emoji would count twice).
 */
function text(min: number, max: number) {
  return z
    .string()
    .refine((value) => [...value].length >= min, `must have at least ${min} character(s)`)
    .refine((value) => [...value].length <= max, `must have at most ${max} characters`)
    .meta({ minLength: min, maxLength: max });
}

/**
 * An integer in the URL, in its one spelling: decimal digits. `1e3`, `0x1`, `1.0`, `+1` or ` 1`
 * are refused (422) like any other invalid value, as in every stack of this API.
 */
function decimalInt<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) => (typeof value === "string" && /^-?[0-9]+$/.test(value) ? Number(value) : value),
    schema,
  );
}

const name = text(1, 100);
const description = text(0, 1000).nullish();

// Unknown fields are a client bug: 422, never dropped silently.
export const ItemCreate = z.strictObject({ name, description });
export type ItemCreate = z.infer<typeof ItemCreate>;

// PATCH: every field optional; `description: null` clears it, `name` cannot be null.
export const ItemUpdate = z.strictObject({ name: name.optional(), description });
export type ItemUpdate = z.infer<typeof ItemUpdate>;

export const ItemOut = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.iso.datetime({ offset: true }),
});
export type ItemOut = z.infer<typeof ItemOut>;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const ItemParams = z.object({ item_id: decimalInt(int(1, INT4_MAX)) });

// The same default and bounds in every stack.
export const ItemListQuery = z.object({
  limit: decimalInt(int(1, 100).default(50)),
  offset: decimalInt(int(0, INT4_MAX).default(0)),
});
export type ItemListQuery = z.infer<typeof ItemListQuery>;

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
