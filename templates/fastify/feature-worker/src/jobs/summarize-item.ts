import type { Tx } from "../db/index.js";
import { getItem } from "../services/items.js";

/** The sample job: what it is called in the queue, what it is given and what it answers. */
export const SUMMARIZE_ITEM = "summarize_item";

export interface SummarizeItemData {
  item_id: number;
}

export interface ItemSummary {
  item_id: number;
  /** Unicode code points, as the API counts a name's length. */
  name_length: number;
  /** Words separated by whitespace; 0 without a description. */
  description_words: number;
}

/**
 * Summarises an item, read through the same service as the API's routes. An item that is gone
 * is an error: the job is retried (it may be a replica lagging behind), then fails for good.
 */
export async function summarizeItem(db: Tx, itemId: number): Promise<ItemSummary> {
  const item = await getItem(db, itemId);
  if (!item) throw new Error(`Item ${itemId} not found`);
  return {
    item_id: item.id,
    name_length: [...item.name].length,
    description_words: item.description?.split(/\s+/).filter(Boolean).length ?? 0,
  };
}
