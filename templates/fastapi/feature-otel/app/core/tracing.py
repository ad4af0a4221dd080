"""OpenTelemetry traces: a span per request, with a span per database statement under it.

The request spans are FastAPI's own (its built-in OpenTelemetry support, given this module's
tracer provider); the statement spans come from SQLAlchemy's engine events, below. Spans leave
the process only when OTEL_EXPORTER_OTLP_ENDPOINT is set: then a batch processor sends them over
OTLP/HTTP to `<endpoint>/v1/traces` from a thread of its own, so a collector that is slow or down
never holds up a request. The SDK reads the other standard OTEL_* variables from the environment
(OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES...).
/health and /metrics are not traced: probes and scrapes would drown the requests.
"""

import threading
from collections.abc import MutableMapping
from typing import Any
from weakref import WeakKeyDictionary

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, StatusCode
from sqlalchemy import Connection, event
from sqlalchemy.engine import ExceptionContext, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import settings
from app.core.logger import logger

UNTRACED_PATHS = frozenset({"/health", "/metrics"})
# How long a shutdown waits for the last spans to be sent before it lets the process exit.
FLUSH_SECONDS = 3.0

# The sampler is the SDK's: OTEL_TRACES_SAMPLER if set, else every trace (parent-based).
provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))
_tracer = provider.get_tracer(__name__)


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def start() -> TelemetryConfig:
    """Starts exporting (if configured); returns the settings for `FastAPI(telemetry=...)`."""
    if settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    # Global too: spans you make with trace.get_tracer(__name__) join the request's trace.
    trace.set_tracer_provider(provider)
    return {
        "tracer_provider": provider,
        # One span per request. FastAPI can add one for each dependency, the endpoint and the
        # serialisation ("operation_spans": True), at a cost on every request; its own metrics and
        # logs need providers this project does not set up (GET /metrics is the metrics feature).
        "operation_spans": False,
        "metrics": False,
        "logs": False,
        # This module sets up the exporter; FASTAPI_OTEL_AUTO_CONFIGURE would add a second one.
        "auto_configure": False,
        "exclude": _untraced,
    }


# The span of each statement in flight, by the execution it belongs to.
_statement_spans: WeakKeyDictionary[ExecutionContext, Span] = WeakKeyDictionary()


def _start_statement(
    conn: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    # Only inside a traced request (or a span of your own): statements outside any, such as the
    # health check's ping or start-up work, would each make a trace of their own.
    if context is None or not trace.get_current_span().is_recording():
        return
    url = conn.engine.url
    operation = statement.split(None, 1)[0].upper() if statement else "SQL"
    _statement_spans[context] = _tracer.start_span(
        f"{operation} {url.database}",
        kind=SpanKind.CLIENT,
        # OpenTelemetry's database conventions. The text is parameterised ($1...): no values.
        attributes={
            "db.system.name": "postgresql",
            "db.namespace": url.database or "",
            "db.operation.name": operation,
            "db.query.text": statement,
            "server.address": url.host or "",
            "server.port": url.port or 5432,
        },
    )


def _end_statement(
    _conn: Connection,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    if context is not None and (span := _statement_spans.pop(context, None)) is not None:
        span.end()


def _fail_statement(failure: ExceptionContext) -> None:
    context = failure.execution_context
    if context is not None and (span := _statement_spans.pop(context, None)) is not None:
        error = failure.original_exception
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(StatusCode.ERROR, str(error))
        span.end()


_LISTENERS = (
    ("before_cursor_execute", _start_statement),
    ("after_cursor_execute", _end_statement),
    ("handle_error", _fail_statement),
)
_traced: list[AsyncEngine] = []


def trace_database(engine: AsyncEngine) -> None:
    """A span for each statement `engine` runs, a child of the span of the request it serves.

    One engine is traced at a time: this replaces the previous one (the tests point it at theirs).
    """
    for previous in _traced:
        for name, listener in _LISTENERS:
            event.remove(previous.sync_engine, name, listener)
    _traced[:] = [engine]
    for name, listener in _LISTENERS:
        event.listen(engine.sync_engine, name, listener)


def shutdown() -> None:
    """Sends the spans still queued, waiting FLUSH_SECONDS at most for an unreachable collector."""
    flushing = threading.Thread(target=provider.shutdown, name="otel-shutdown", daemon=True)
    flushing.start()
    flushing.join(FLUSH_SECONDS)
    if flushing.is_alive():
        logger.warning(
            "tracing: the collector at %s did not take the last spans within %.0f s; dropped",
            settings.otel_exporter_otlp_endpoint,
            FLUSH_SECONDS,
        )
