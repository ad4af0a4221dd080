import type { FastifyInstance, RouteHandlerMethod } from "fastify";
import type { Database, Tx } from "./index.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The request's database: its transaction, or the pool on a read-only route (GET, HEAD). Set
     * only on routes registered after `registerSession`.
     */
    db: Tx;
  }
}

const wrapped = new WeakSet<RouteHandlerMethod>();

/**
 * One transaction per request, the contract of the FastAPI stack's `get_session`:
 * every route registered in `scope` after this call runs its handler inside
 * `database.transaction`, which commits when the handler resolves, rolls back when it throws
 * (HttpErrors included) and always releases the connection. The handler sees it as
 * `request.db`. A read-only route (GET, HEAD) reads on the pool instead: each statement is
 * atomic on its own, and BEGIN and COMMIT would double its round trips to the database.
 *
 * Handlers must return their payload (or throw) instead of calling `reply.send()`: the commit
 * then happens before the response is written, so a client never sees a 2xx for a write that
 * was lost.
 */
export function registerSession(scope: FastifyInstance, database: Database): void {
  scope.decorateRequest("db", null as unknown as Tx);
  scope.addHook("onRoute", (route) => {
    const handler = route.handler;
    // Fastify registers a HEAD twin of every GET with the same options: wrap once only.
    if (wrapped.has(handler)) return;
    const readOnly = [route.method].flat().every((method) => method === "GET" || method === "HEAD");
    const run = readOnly ? database.read : database.transaction;
    const transactional: RouteHandlerMethod = async function (request, reply) {
      return run(async (tx) => {
        request.db = tx;
        return handler.call(this, request, reply);
      });
    };
    wrapped.add(transactional);
    route.handler = transactional;
  });
}
