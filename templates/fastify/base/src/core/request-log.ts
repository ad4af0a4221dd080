import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** The health check's path: a probe asks it every few seconds, and a 200 there is not news. */
const PROBE_PATH = "/health";

/** Whether a request's line is left out: a health check that found everything up. */
function isQuiet(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.statusCode === 200 && request.url === PROBE_PATH;
}

/**
 * One log line per request, written when the response has gone out: method, path, status and
 * the time it took, with the request id Fastify binds to `request.log`. Fastify's own request
 * logging (turned off in app.ts, by its `logController`) writes two lines, one on arrival and one
 * at the end, which doubles the logging cost of a cheap request. A passing health check writes
 * none (a failing one does, besides its warning saying what is down).
 */
export function logRequests(app: FastifyInstance): void {
  // A callback hook, not an async one: no promise to settle on every request.
  app.addHook("onResponse", (request, reply, done) => {
    if (!isQuiet(request, reply)) {
      request.log.info(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          responseTime: reply.elapsedTime,
        },
        "request completed",
      );
    }
    done();
  });
}
