import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { NotFoundError } from "../core/errors.js";
import type { Database } from "../db/index.js";
import type { JobQueue } from "../jobs/queue.js";
import { ItemParams } from "../schema/items.js";
import { JobOut, JobParams } from "../schema/jobs.js";
import { getItem } from "../services/items.js";

/**
 * The job queue over HTTP: queue a job for an item, read a job. Registered outside the
 * per-request transaction: no connection is held while Redis is waited for. Errors (problem
 * details; 503 when Redis is unavailable) are answered and documented by core/errors.ts.
 */
export const jobRoutes: FastifyPluginAsyncZod<{ database: Database; jobs: JobQueue }> = async (
  app,
  { database, jobs },
) => {
  const tags = ["jobs"];

  app.post(
    "/items/:item_id/jobs",
    {
      schema: {
        tags,
        summary: "Queue summarize_item for the item; Location names the job",
        params: ItemParams,
        response: { 202: JobOut },
      },
    },
    async (request, reply) => {
      const id = request.params.item_id;
      const item = await database.read((db) => getItem(db, id));
      if (!item) throw new NotFoundError(`Item ${id} not found`);
      const job = await jobs.summarizeItem(item.id);
      reply.code(202).header("location", `/jobs/${job.id}`);
      return job;
    },
  );

  app.get(
    "/jobs/:job_id",
    {
      schema: {
        tags,
        summary: "A job: its status, attempts, and its result or last error",
        params: JobParams,
        response: { 200: JobOut },
      },
    },
    async (request) => {
      const job = await jobs.get(request.params.job_id);
      if (!job) throw new NotFoundError(`Job ${request.params.job_id} not found`);
      return job;
    },
  );
};
