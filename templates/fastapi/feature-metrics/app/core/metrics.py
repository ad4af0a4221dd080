"""Prometheus metrics: GET /metrics, requests by route template and status, the pool's gauges.

`http_requests_total` and `http_request_duration_seconds` are labelled with the method, the route
as declared (`/items/{item_id}`, never the raw path: a request that matched no route counts as
`unmatched`, so random paths cannot grow the label set) and the status code. Scrapes of /metrics
are not counted. The pool gauges are read from the database pool at scrape time. Each process
(each uvicorn worker) counts its own requests.
"""

from collections.abc import Iterable, Sequence
from time import perf_counter

from fastapi import FastAPI, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.session import async_session_factory

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
LABELS = ("method", "route", "status")
# The `method` of any other request (WebDAV's and the like, which the HTTP parser also takes),
# as OpenTelemetry's HTTP conventions spell it: each method string would be a series of its own.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
OTHER_METHOD = "_OTHER"

# No `*_created` series: they double what a scrape carries and no query here needs them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # (the client leaves it untyped)

REQUESTS = Counter("http_requests", "HTTP requests answered", LABELS)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, in seconds",
    LABELS,
)


class PoolCollector:
    """The gauges of the pool the request sessions use, read when /metrics is scraped."""

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        bind = async_session_factory.kw["bind"]
        pool = bind.pool if isinstance(bind, AsyncEngine) else None
        connections, maximum = self._families()
        if isinstance(pool, QueuePool):
            connections.add_metric(["idle"], pool.checkedin())
            connections.add_metric(["used"], pool.checkedout())
            # pool_size plus max_overflow (app/db/session.py): connections it may open at once.
            maximum.add_metric([], pool.size() + pool._max_overflow)
        return [connections, maximum]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "db_pool_connections",
                "Database connections open in the pool, idle or used by a request",
                labels=["state"],
            ),
            GaugeMetricFamily(
                "db_pool_max_connections", "Database connections the pool may open at most"
            ),
        )


REGISTRY.register(PoolCollector())


def _template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The declared path of the route that served the request, or `unmatched`."""
    route = scope.get("route")
    if isinstance(route, Route):
        return route.path
    # Requests answered before routing (405, 400 for a bad URL; HEAD, which app/core/errors.py
    # serves as a GET on a copy of the scope) still belong to the route of their path.
    for candidate in iter_route_contexts(routes):
        if candidate.path is not None and candidate.matches(scope)[0] != Match.NONE:
            return candidate.path
    return UNMATCHED


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request but the scrapes of /metrics."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
        # An exception that escapes the app is answered 500 by Starlette, outside this middleware.
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = perf_counter()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            labels = (method, _template(scope, self.routes), str(status))
            REQUESTS.labels(*labels).inc()
            DURATION.labels(*labels).observe(perf_counter() - started)


async def metrics() -> Response:
    # The text format Prometheus scrapes (0.0.4): what generate_latest writes.
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def install(app: FastAPI) -> None:
    """Serves GET /metrics (not in the OpenAPI document) and measures every other request."""
    app.add_api_route(METRICS_PATH, metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics, routes=app.router.routes)
