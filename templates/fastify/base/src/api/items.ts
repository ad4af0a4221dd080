import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { NotFoundError } from "../core/errors.js";
import {
  ErrorOut,
  ItemCreate,
  ItemListQuery,
  ItemOut,
  ItemParams,
  ItemUpdate,
} from "../schema/items.js";
import * as items from "../services/items.js";

/** CRUD for /items. Registered inside the transactional scope: `request.db` is a transaction. */
export const itemRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ["items"];
  const notFound = { 404: ErrorOut, 422: ErrorOut };

  app.post(
    "/",
    { schema: { tags, body: ItemCreate, response: { 201: ItemOut, 422: ErrorOut } } },
    async (request, reply) => {
      reply.code(201);
      return items.createItem(request.db, request.body);
    },
  );

  app.get(
    "/",
    { schema: { tags, querystring: ItemListQuery, response: { 200: z.array(ItemOut) } } },
    async (request) => items.listItems(request.db, request.query),
  );

  app.get(
    "/:id",
    { schema: { tags, params: ItemParams, response: { 200: ItemOut, ...notFound } } },
    async (request) => {
      const item = await items.getItem(request.db, request.params.id);
      if (!item) throw new NotFoundError(`Item ${request.params.id} not found`);
      return item;
    },
  );

  app.patch(
    "/:id",
    {
      schema: {
        tags,
        params: ItemParams,
        body: ItemUpdate,
        response: { 200: ItemOut, ...notFound },
      },
    },
    async (request) => {
      const item = await items.updateItem(request.db, request.params.id, request.body);
      if (!item) throw new NotFoundError(`Item ${request.params.id} not found`);
      return item;
    },
  );

  app.delete(
    "/:id",
    { schema: { tags, params: ItemParams, response: { 204: z.undefined(), ...notFound } } },
    async (request, reply) => {
      const deleted = await items.deleteItem(request.db, request.params.id);
      if (!deleted) throw new NotFoundError(`Item ${request.params.id} not found`);
      reply.code(204);
    },
  );
};
