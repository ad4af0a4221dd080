import type { FastifyInstance } from "fastify";

/**
 * One log line per request, written when the response has gone out: method, path, status and
 * the time it took, with the request id Fastify binds to `request.log`. Fastify's own request
 * logging (turned off in app.ts, by its `logController`) writes two lines, one on arrival and one
 * at the end, which doubles the logging cost of a cheap request.
 */
export function logRequests(app: FastifyInstance): void {
  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        responseTime: reply.elapsedTime,
      },
      "request completed",
    );
  });
}
