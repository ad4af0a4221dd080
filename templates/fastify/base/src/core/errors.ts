import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from "fastify-type-provider-zod";

/** An error that maps to an HTTP response; thrown from handlers so the transaction rolls back. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export class NotFoundError extends HttpError {
  constructor(message = "Not found") {
    super(404, message);
  }
}

/** The one JSON error shape of the API: Fastify's own, plus `details` for validation errors. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
}

function body(statusCode: number, message: string, details?: unknown): ErrorBody {
  const error = STATUS_CODES[statusCode] ?? "Error";
  return details === undefined
    ? { statusCode, error, message }
    : { statusCode, error, message, details };
}

// Connection-level failures from pg/Node: the database is down or unreachable, not a bug.
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN"]);

export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    // SQLSTATE class 08 (connection exception) and 57P0x (server shutting down).
    if (UNREACHABLE.has(code) || code.startsWith("08") || code.startsWith("57P0")) return true;
  }
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) {
    return true;
  }
  return error.cause !== undefined && isDatabaseUnreachable(error.cause);
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  // Invalid body, query or path parameters: 422, like the FastAPI stack.
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((issue) => ({
      location: error.validationContext,
      path: issue.instancePath,
      message: issue.message,
    }));
    return reply.code(422).send(body(422, "Request validation failed", details));
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, "response does not match its schema");
    return reply.code(500).send(body(500, "Internal Server Error"));
  }
  if (isDatabaseUnreachable(error)) {
    request.log.error({ err: error }, "database unreachable");
    return reply.code(503).send(body(503, "Database unreachable"));
  }
  // Fastify's own client errors (malformed JSON, unsupported media type, body too large)
  // and our HttpErrors carry a 4xx status that is safe to show.
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send(body(status, error.message));
  }
  request.log.error({ err: error }, "unhandled error");
  return reply.code(500).send(body(500, "Internal Server Error"));
}
