"""OpenTelemetry traces: a span per request, with a span per database statement under it.

Spans leave the process only when OTEL_EXPORTER_OTLP_ENDPOINT is set: then a batch processor
sends them over OTLP/HTTP to `<endpoint>/v1/traces` from a thread of its own, so a collector
that is slow or down never holds up a request. The SDK reads the other standard OTEL_* variables
from the environment (OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES...).
/health and /metrics are not traced: probes and scrapes would drown the requests.
"""

import threading

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import settings
from app.core.logger import logger

# Regular expressions, searched in the request's URL.
UNTRACED_URLS = "/health$,/metrics$"
# How long a shutdown waits for the last spans to be sent before it lets the process exit.
FLUSH_SECONDS = 3.0

provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))


def install(app: FastAPI, engine: AsyncEngine) -> None:
    """Traces the requests of `app` and the statements of `engine`; exports them if configured."""
    if settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    # Global too: spans you make with trace.get_tracer(__name__) join the request's trace.
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED_URLS,
        # No extra span for each ASGI message of a request: one server span per request.
        exclude_spans=["receive", "send"],
    )
    trace_database(engine)


def trace_database(engine: AsyncEngine) -> None:
    """A span for each statement `engine` runs, a child of the span of the request it serves.

    The instrumentation follows one set of engines at a time: this replaces the previous one
    (the tests point it at theirs).
    """
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    # Its declared range ends below SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/test_tracing.py checks the spans): without this it would refuse to instrument.
    instrumentor.instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )


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
