import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { NotFoundError } from "../core/errors.js";
import { ItemCreate, ItemListQuery, ItemOut, ItemParams, ItemUpdate } from "../schema/items.js";
import * as items from "../services/items.js";

/**
 * CRUD for /items. Registered inside the transactional scope: `request.db` is a transaction.
 * Errors (problem details) are answered and documented by core/errors.ts, not here.
 */
export const itemRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ["items"];

  app.post(
    "",
    { schema: { tags, body: ItemCreate, response: { 201: ItemOut } } },
    async (request, reply) => {
      reply.code(201);
      return items.createItem(request.db, request.body);
    },
  );

  app.get(
    "",
    { schema: { tags, querystring: ItemListQuery, response: { 200: z.array(ItemOut) } } },
    async (request) => items.listItems(request.db, request.query),
  );

  app.get(
    "/:item_id",
    { schema: { tags, params: ItemParams, response: { 200: ItemOut } } },
    async (request) => {
      const item = await items.getItem(request.db, request.params.item_id);
      if (!item) throw new NotFoundError(`Item ${request.params.item_id} not found`);
      return item;
    },
  );

  app.patch(
    "/:item_id",
    {
      schema: {
        tags,
        params: ItemParams,
        body: ItemUpdate,
        response: { 200: ItemOut },
      },
    },
    async (request) => {
      const item = await items.updateItem(request.db, request.params.item_id, request.body);
      if (!item) throw new NotFoundError(`Item ${request.params.item_id} not found`);
      return item;
    },
  );

  app.delete(
    "/:item_id",
    { schema: { tags, params: ItemParams, response: { 204: z.undefined() } } },
    async (request, reply) => {
      const deleted = await items.deleteItem(request.db, request.params.item_id);
      if (!deleted) throw new NotFoundError(`Item ${request.params.item_id} not found`);
      reply.code(204);
    },
  );
};
