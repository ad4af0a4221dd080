import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { RETRY_AFTER_SECONDS } from "../core/errors.js";
import type { Database } from "../db/index.js";
import { HealthDown, HealthOk } from "../schema/health.js";

/**
 * GET /health: 200 when the database answers, 503 when it does not. It runs outside the
 * per-request transaction so that a dead database is reported, never thrown; the process
 * keeps serving and the check turns green again once the database is back.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (
  app,
  { database },
) => {
  app.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness and database check",
        response: { 200: HealthOk, 503: HealthDown },
      },
    },
    async (request, reply) => {
      try {
        await database.ping();
        return { status: "ok" as const, database: "ok" as const };
      } catch (err) {
        request.log.warn({ err }, "health check: database unreachable");
        return reply
          .code(503)
          .header("retry-after", String(RETRY_AFTER_SECONDS))
          .send({ status: "error", database: "unreachable" });
      }
    },
  );
};
