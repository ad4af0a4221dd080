"""The API's error contract, in one place (CONTRACT.md in the generated README says what it is).

Every error is an RFC 9457 problem (`application/problem+json`) with the same status for the same
request as the other stacks of create-svc-app: 400 malformed JSON or bad encoding, 413 a body over
MAX_BODY_BYTES, 415 a body that is not JSON, 422 a schema violation, 404 unknown id or route, 405
with the full `Allow` list, 503 with `Retry-After` when the database cannot serve the request.
Routes only raise HTTPException (or let database errors through); this module does the rest.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logger import logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Bodies larger than this are refused with 413 before they are read to the end or parsed.
MAX_BODY_BYTES = 1024 * 1024
# JSON nested deeper than this is refused with 400: no body of this API needs more.
MAX_JSON_DEPTH = 32
# What a 503 tells clients: try again in this many seconds.
RETRY_AFTER_SECONDS = 2
# An error names the field and the reason; it never echoes more of the input than this.
EXCERPT_CHARS = 40
# Methods whose body is checked when they carry one (DELETE too, as Fastify parses it).
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# SQLSTATE classes that mean "the database cannot serve this now", not "the request is wrong":
# connection exception, invalid authorization (login refused), invalid catalog name (database
# missing), insufficient resources (too many connections), operator intervention (statement
# timeout, shutdown).
UNAVAILABLE_SQLSTATE = ("08", "28", "3D", "53", "57")

Problem = dict[str, Any]


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # ASCII escapes: whatever a message holds, the response is valid UTF-8 JSON.
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    body: Problem = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=headers)


def excerpt(text: str) -> str:
    """A short, printable piece of client input, safe to put in a message."""
    safe = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else "?" for c in text)
    return safe if len(safe) <= EXCERPT_CHARS else safe[: EXCERPT_CHARS - 3] + "..."


def field_error(location: Iterable[object], reason: str) -> dict[str, str]:
    return {"field": excerpt(".".join(str(part) for part in location)), "reason": excerpt(reason)}


# --- Database outages -------------------------------------------------------------------------


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database is down, unreachable or saturated."""
    seen: BaseException | None = exc
    for _ in range(10):  # causes can form a loop; a few links are enough
        if seen is None:
            return False
        # OSError includes TimeoutError (asyncio's too): refused, unreachable, or no answer in time.
        if isinstance(seen, OSError | PoolTimeoutError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    where = f"{request.method} {request.url.path}"
    if database_unavailable(exc):
        # An outage, not a bug in the request: 503, so clients and load balancers retry later.
        logger.error("%s: database unavailable: %r", where, exc)
        return problem(
            503,
            "The database is unavailable, try again later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.error("%s: unhandled error", where, exc_info=exc)
    return problem(500, "Internal Server Error")


# --- Errors raised by FastAPI and the routes --------------------------------------------------


async def _http_error(_request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "Nothing is served at this path"
    return problem(exc.status_code, detail, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(err["loc"], err["msg"]) for err in exc.errors()]
    return problem(422, "The request does not match the schema", errors=errors)


# --- What reaches the routes: URL, method, media type, size and text of the body --------------


class RejectedError(Exception):
    def __init__(self, response: ProblemResponse) -> None:
        self.response = response


def _allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at this path (asked through the routes' public matcher)."""
    methods = {
        method
        for method in PROBED_METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return methods


def _check_url(scope: Scope) -> None:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    try:
        unquote_to_bytes(raw_path.decode("ascii")).decode("utf-8")
        unquote_to_bytes(query.decode("ascii").replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedError(problem(400, "The URL is not valid percent-encoded UTF-8")) from None
    keys = [key for key, _ in parse_qsl(query.decode("ascii"), keep_blank_values=True)]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        errors = [field_error(("query", key), "must be given at most once") for key in repeated]
        raise RejectedError(problem(422, "A query parameter is repeated", errors=errors))


def _check_media_type(content_type: str) -> None:
    media_type, _, params = content_type.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.IGNORECASE)
    if media_type.strip().lower() != "application/json" or (
        charset and charset.group(1).lower() != "utf-8"
    ):
        raise RejectedError(problem(415, "The body must be application/json (UTF-8)"))


def _text_errors(document: Any) -> list[dict[str, str]]:
    """NUL and unpaired surrogates anywhere in the body (keys too); too deep nesting."""
    errors: list[dict[str, str]] = []
    stack: list[tuple[tuple[object, ...], Any]] = [(("body",), document)]
    while stack:
        location, value = stack.pop()
        if len(location) > MAX_JSON_DEPTH:
            detail = f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels"
            raise RejectedError(problem(400, detail))
        if isinstance(value, str) and _bad_text(value):
            errors.append(field_error(location, "must not contain NUL or unpaired surrogates"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if _bad_text(key):
                    errors.append(field_error(location, "has a key with NUL or surrogates"))
                stack.append(((*location, key), item))
        elif isinstance(value, list):
            stack.extend(((*location, i), item) for i, item in enumerate(value))
    return errors


def _bad_text(text: str) -> bool:
    # json.loads joins a valid surrogate pair into one character: any surrogate left is unpaired.
    return any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check_json_body(body: bytes) -> None:
    """Raises RejectedError unless `body` is strict JSON (UTF-8, no NaN/Infinity) of clean text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedError(problem(400, "The body is not valid UTF-8")) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid"
        raise RejectedError(problem(400, f"The body is not valid JSON ({reason})")) from None
    errors = _text_errors(document)
    if errors:
        detail = "The body holds text that cannot be stored"
        raise RejectedError(problem(422, detail, errors=errors))


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    length = headers.get("content-length", "")
    has_body = (length.isdigit() and int(length) > 0) or "transfer-encoding" in headers
    if not has_body:
        return b""
    _check_media_type(headers.get("content-type", ""))
    too_large = problem(413, f"The body is larger than {MAX_BODY_BYTES} bytes")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise RejectedError(too_large)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RejectedError(too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if body:
        check_json_body(body)
    return body


class RequestContract:
    """ASGI middleware: checks what the routes cannot see before a route runs.

    Wrong method -> 405 with every method the path allows (and HEAD wherever GET is allowed),
    URL encoding, repeated query keys, then for bodies: size, media type, UTF-8, strict JSON.
    A body that passes is handed to the route unchanged.
    """

    def __init__(self, app: ASGIApp, routes: Callable[[], Iterable[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        try:
            _check_url(scope)
            routes = self.routes()
            # Most requests use a method their path serves: one match says so, and only the
            # others pay for probing every method (to answer 405 with Allow).
            served = method in PROBED_METHODS and any(
                route.matches(scope)[0] == Match.FULL for route in routes
            )
            allowed = {method} if served else _allowed_methods(routes, scope)
            if allowed and method not in allowed:
                allow = ", ".join(sorted(allowed))
                raise RejectedError(problem(405, f"Allowed: {allow}", headers={"Allow": allow}))
            body = await _read_body(scope, receive) if allowed and method in BODY_METHODS else None
        except RejectedError as rejected:
            await rejected.response(scope, receive, send)
            return
        if body is not None:
            receive = _replay(body, receive)
        if method == "HEAD" and allowed:
            # Answered as the GET would be, without its body.
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        await self.app(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _without_body(send: Send) -> Send:
    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send


# --- The OpenAPI document lists every problem a route can answer ------------------------------


PROBLEM_SCHEMA: Problem = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


# Documents the rule check_json_body enforces: no string of a body may hold NUL.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _document_text_rule(schema: Any) -> None:
    """Adds the no-NUL pattern to every free-text string of a JSON schema."""
    if isinstance(schema, list):
        for item in schema:
            _document_text_rule(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys():
            schema["pattern"] = NO_NUL_PATTERN
        for value in schema.values():
            _document_text_rule(value)


def _problem_responses(operation: Problem, uses_database: bool) -> dict[str, Problem]:
    statuses = {"400": "Bad encoding in the URL, or malformed JSON"}
    if "requestBody" in operation:
        statuses["413"] = f"Body larger than {MAX_BODY_BYTES} bytes"
        statuses["415"] = "Body is not application/json"
    if operation.get("parameters") or "requestBody" in operation:
        statuses["422"] = "The request does not match the schema"
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses["404"] = "Not found"
    headers: dict[str, Problem] = {}
    if uses_database:
        statuses["503"] = "The database is unavailable"
        headers["503"] = {"Retry-After": {"schema": {"type": "integer"}}}
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": ref}},
            **({"headers": headers[status]} if status in headers else {}),
        }
        for status, description in statuses.items()
    }


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            _document_text_rule(components)
            components["Problem"] = PROBLEM_SCHEMA
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    # /health reports an outage in its own 503 body.
                    problems = _problem_responses(operation, uses_database=path != "/health")
                    for status, response in problems.items():
                        responses.setdefault(status, response)
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def install(app: FastAPI) -> None:
    """Makes `app` keep the contract: handlers, the request checks and the OpenAPI document."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error in (SQLAlchemyError, OSError, Exception):
        app.add_exception_handler(error, _unexpected)
    app.add_middleware(RequestContract, routes=lambda: app.router.routes)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
