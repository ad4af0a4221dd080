import type { GeneratedAlways, Updateable } from "kysely";

// The items table as Kysely sees it. Keep it in step with src/db/migrations.
export interface ItemsTable {
  id: GeneratedAlways<number>;
  name: string;
  description: string | null;
  created_at: GeneratedAlways<Date>;
}

export type ItemChanges = Updateable<ItemsTable>;
