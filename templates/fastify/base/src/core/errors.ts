import { STATUS_CODES } from "node:http";
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
  RouteOptions,
} from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from "fastify-type-provider-zod";

// The API's error contract, in one place (CONTRACT.md in the README says what it is). Every error
// is an RFC 9457 problem (application/problem+json) with the same status for the same request as
// the other stacks of create-svc-app: 400 malformed JSON or bad encoding, 413 a body over
// MAX_BODY_BYTES, 415 a body that is not JSON, 422 a schema violation, 404 unknown id or route,
// 405 with the full Allow list, 503 with Retry-After when the database cannot serve the request.
// Routes only throw HttpErrors (or let database errors through); this module does the rest.

export const PROBLEM_MEDIA_TYPE = "application/problem+json";
/** Bodies larger than this are refused with 413 before they are read to the end or parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** JSON nested deeper than this is refused with 400: no body of this API needs more. */
const MAX_JSON_DEPTH = 32;
/** What a 503 tells clients: try again in this many seconds. */
export const RETRY_AFTER_SECONDS = 2;
/** An error names the field and the reason; it never echoes more of the input than this. */
const EXCERPT_CHARS = 40;

export interface FieldError {
  field: string;
  reason: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

/** An error that maps to an HTTP response; thrown from handlers so the transaction rolls back. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
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

export function problem(status: number, detail: string, errors?: FieldError[]): Problem {
  const title = STATUS_CODES[status] ?? "Error";
  const body: Problem = { type: "about:blank", title, status, detail };
  return errors === undefined ? body : { ...body, errors };
}

/** A short, printable piece of client input, safe to put in a message. */
export function excerpt(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/g, "?");
  return safe.length <= EXCERPT_CHARS ? safe : `${safe.slice(0, EXCERPT_CHARS - 3)}...`;
}

function fieldError(location: (string | number)[], reason: string): FieldError {
  return { field: excerpt(location.join(".")), reason: excerpt(reason) };
}

function sendProblem(reply: FastifyReply, body: Problem, headers: Record<string, string> = {}) {
  return reply.code(body.status).headers(headers).type(PROBLEM_MEDIA_TYPE).send(body);
}

// --- Database outages --------------------------------------------------------------------------

// Connection-level failures from pg/Node: the database is down or unreachable, not a bug.
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN"]);
// SQLSTATE classes that mean "the database cannot serve this now": connection exception, invalid
// authorization (login refused), invalid catalog name (database missing), insufficient resources
// (too many connections), operator intervention (statement timeout, shutdown).
const UNAVAILABLE_SQLSTATE = /^(08|28|3D|53|57)/;
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error/i;

export function isDatabaseUnreachable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 10) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (UNREACHABLE.has(code) || UNAVAILABLE_SQLSTATE.test(code))) {
    return true;
  }
  if (UNAVAILABLE_MESSAGE.test(error.message)) return true;
  // TypeORM keeps the pg error as driverError; others use the standard cause.
  const inner = (error as { driverError?: unknown }).driverError ?? error.cause;
  return isDatabaseUnreachable(inner, depth + 1);
}

// --- Errors raised by Fastify and the routes ---------------------------------------------------

const LOCATIONS: Record<string, string> = { querystring: "query", params: "path", body: "body" };

function validationErrors(error: FastifyError): FieldError[] {
  const where = LOCATIONS[error.validationContext ?? "body"] ?? "body";
  return (error.validation ?? []).flatMap((issue) => {
    const path = issue.instancePath.split("/").filter(Boolean);
    const keys = (issue.params as { keys?: unknown }).keys;
    // Unknown fields: one error per field, named like any other.
    if (issue.keyword === "unrecognized_keys" && Array.isArray(keys)) {
      return keys.map((key) => fieldError([where, ...path, String(key)], "is not allowed"));
    }
    return [fieldError([where, ...path], issue.message ?? "is invalid")];
  });
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = validationErrors(error);
    return sendProblem(reply, problem(422, "The request does not match the schema", errors));
  }
  if (error instanceof HttpError) {
    return sendProblem(
      reply,
      problem(error.statusCode, error.message, error.errors),
      error.headers,
    );
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, "response does not match its schema");
    return sendProblem(reply, problem(500, "Internal Server Error"));
  }
  if (isDatabaseUnreachable(error)) {
    request.log.error({ err: error }, "database unavailable");
    const retry = { "retry-after": String(RETRY_AFTER_SECONDS) };
    return sendProblem(reply, problem(503, "The database is unavailable, try again later"), retry);
  }
  // Fastify's own client errors carry a 4xx status and a message that is safe to show.
  const status = error.statusCode ?? 500;
  if (status === 413) {
    return sendProblem(reply, problem(413, `The body is larger than ${MAX_BODY_BYTES} bytes`));
  }
  if (status === 415) {
    return sendProblem(reply, problem(415, "The body must be application/json (UTF-8)"));
  }
  if (status >= 400 && status < 500) {
    return sendProblem(reply, problem(status, excerpt(error.message)));
  }
  request.log.error({ err: error }, "unhandled error");
  return sendProblem(reply, problem(500, "Internal Server Error"));
}

/** Errors Fastify raises before routing (a URL that is not valid percent-encoded UTF-8). */
export const frameworkErrors: FastifyServerOptions["frameworkErrors"] = (error, _req, reply) => {
  const detail =
    error.code === "FST_ERR_BAD_URL" ? "The URL is not valid percent-encoded UTF-8" : "Bad request";
  return sendProblem(reply, problem(400, detail));
};

// --- What reaches the routes: URL, method, media type, size and text of the body ---------------

/** NUL and unpaired surrogates anywhere in the body (keys too); nesting too deep is a 400. */
function textErrors(document: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: [(string | number)[], unknown][] = [[["body"], document]];
  while (stack.length > 0) {
    const [location, value] = stack.pop() as [(string | number)[], unknown];
    if (location.length > MAX_JSON_DEPTH) {
      throw new HttpError(400, `The JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (typeof value === "string") {
      if (badText(value)) {
        errors.push(fieldError(location, "must not contain NUL or unpaired surrogates"));
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        stack.push([[...location, i], item]);
      });
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (badText(key)) errors.push(fieldError(location, "has a key with NUL or surrogates"));
        stack.push([[...location, key], item]);
      }
    }
  }
  return errors;
}

// NUL, or a surrogate that is not half of a pair.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it looks for
const BAD_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function badText(text: string): boolean {
  return BAD_TEXT.test(text);
}

/** Strict JSON: UTF-8 (no BOM), no NaN/Infinity, only text that Postgres stores as it was sent. */
export function parseJsonBody(body: Buffer, contentType: string): unknown {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset && charset.toLowerCase() !== "utf-8") {
    throw new HttpError(415, "The body must be application/json (UTF-8)");
  }
  if (body.length === 0) return undefined; // a missing body is a 422 of the schema
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new HttpError(400, "The body is not valid UTF-8");
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The body is not valid JSON (${excerpt((error as Error).message)})`);
  }
  const errors = textErrors(document);
  if (errors.length > 0) {
    throw new HttpError(422, "The body holds text that cannot be stored", errors);
  }
  return document;
}

/**
 * An empty path segment (`/items/`, `/items//1`) is a path nothing serves: 404, not an empty id.
 * A query key given twice is refused, not silently read as its first, last or every value.
 */
function checkUrl(request: FastifyRequest): void {
  const [path = "", query = ""] = request.url.split("?");
  const keys = [...new URLSearchParams(query).keys()];
  const repeated = [...new Set(keys.filter((key, i) => keys.indexOf(key) !== i))].sort();
  if (repeated.length > 0) {
    const errors = repeated.map((key) => fieldError(["query", key], "must be given at most once"));
    throw new HttpError(422, "A query parameter is repeated", errors);
  }
  if (path !== "/" && path.split("/").slice(1).includes("")) {
    throw new HttpError(404, "Nothing is served at this path");
  }
}

/**
 * Makes `app` keep the contract: error and 404 handlers, the strict JSON parser, the query check,
 * and 405 with the full Allow list on every path. Call before registering routes; the returned
 * function adds the 405 routes once every route is registered.
 */
export function installContract(app: FastifyInstance): () => void {
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) =>
    sendProblem(reply, problem(404, "Nothing is served at this path")),
  );
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, request.headers["content-type"] ?? ""));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook("onRequest", async (request) => checkUrl(request));

  const methodsByPath = new Map<string, Set<string>>();
  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByPath.set(route.url, methods);
  });
  return () => {
    for (const [url, methods] of [...methodsByPath]) {
      // Fastify adds a HEAD twin to every GET, and does not report every GET twin it adds itself
      // (the `/docs/` of a prefixed `/docs`): a HEAD means a GET.
      if (methods.has("HEAD")) methods.add("GET");
      const allow = [...methods].sort().join(", ");
      const others = app.supportedMethods.filter((method) => !methods.has(method));
      if (others.length === 0) continue;
      const refuse = async () => {
        throw new HttpError(405, `Allowed: ${allow}`, undefined, { allow });
      };
      // Refused in onRequest, before any body is read: the method is the first thing wrong.
      app.route({
        method: others,
        url,
        schema: { hide: true },
        onRequest: refuse,
        handler: refuse,
      });
    }
  };
}

// --- The OpenAPI document lists every problem a route can answer --------------------------------

const PROBLEM_SCHEMA = {
  type: "object",
  required: ["type", "title", "status", "detail"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["field", "reason"],
        properties: { field: { type: "string" }, reason: { type: "string" } },
      },
    },
  },
};

// Documents the rule parseJsonBody enforces: no string of a body may hold NUL.
const NO_NUL = "^[^\\u0000]*$";

/** Adds the no-NUL pattern to every free-text string of a JSON schema (a request body). */
export function documentTextRule(schema: unknown): void {
  if (Array.isArray(schema)) {
    for (const item of schema) documentTextRule(item);
  } else if (schema !== null && typeof schema === "object") {
    const node = schema as Record<string, unknown>;
    const freeText = node.type === "string" && !node.format && !node.enum && !node.pattern;
    if (freeText) node.pattern = NO_NUL;
    for (const value of Object.values(node)) documentTextRule(value);
  }
}

/** The problem responses of a route, from what its schema accepts (for @fastify/swagger). */
export function problemResponses(
  schema: { body?: unknown; params?: unknown; querystring?: unknown },
  usesDatabase: boolean,
): Record<string, unknown> {
  const statuses: Record<string, string> = { 400: "Bad encoding in the URL, or malformed JSON" };
  if (schema.body) {
    statuses[413] = `Body larger than ${MAX_BODY_BYTES} bytes`;
    statuses[415] = "Body is not application/json";
  }
  if (schema.body || schema.params || schema.querystring) {
    statuses[422] = "The request does not match the schema";
  }
  if (schema.params) statuses[404] = "Not found";
  if (usesDatabase) statuses[503] = "The database is unavailable";
  const content = { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_SCHEMA } };
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      status === "503"
        ? { description, content, headers: { "Retry-After": { schema: { type: "integer" } } } }
        : { description, content },
    ]),
  );
}
