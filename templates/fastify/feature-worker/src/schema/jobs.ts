import { z } from "zod";

// Request and response shapes of the job routes (src/api/jobs.ts).

export const JobStatus = z.enum(["queued", "running", "retrying", "succeeded", "failed"]);
export type JobStatus = z.infer<typeof JobStatus>;

export const ItemSummary = z.object({
  item_id: z.number().int(),
  name_length: z.number().int(),
  description_words: z.number().int(),
});

export const JobOut = z.object({
  id: z.string(),
  name: z.string(),
  item_id: z.number().int(),
  status: JobStatus,
  /** How many times it has started. */
  attempts: z.number().int(),
  /** Once it has succeeded. */
  result: ItemSummary.nullable(),
  /** The last failure's message. */
  error: z.string().nullable(),
});
export type JobOut = z.infer<typeof JobOut>;

// The same rule in every stack: any id the queue could have made, and nothing that needs escaping.
export const JobParams = z.object({
  job_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"),
});
