"""Traces: a GET /items/{item_id} makes a server span with its database spans under it."""

from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core import tracing
from app.core.config import settings
from app.db.session import engine as app_engine


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """Keeps every span the app ends, in memory (the OTLP exporter, if configured, runs too)."""
    memory = InMemorySpanExporter()
    tracing.provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@pytest.fixture
def spans(exporter: InMemorySpanExporter, engine: AsyncEngine) -> Iterator[InMemorySpanExporter]:
    """This test's spans; the test database's engine is traced as the app's own is."""
    tracing.trace_database(engine)
    exporter.clear()
    try:
        yield exporter
    finally:
        tracing.trace_database(app_engine)


def server_spans(finished: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [span for span in finished if span.kind == SpanKind.SERVER]


async def test_request_span_holds_the_database_spans(
    client: AsyncClient, spans: InMemorySpanExporter, engine: AsyncEngine
) -> None:
    created = (await client.post("/items", json={"name": "Traced"})).json()
    spans.clear()
    assert (await client.get(f"/items/{created['id']}")).status_code == 200

    finished = spans.get_finished_spans()
    [server] = server_spans(finished)
    assert server.name == "GET /items/{item_id}"
    assert server.attributes is not None
    assert server.attributes.get("http.route") == "/items/{item_id}"
    assert server.resource.attributes["service.name"] == settings.otel_service_name
    database = [span for span in finished if span.kind == SpanKind.CLIENT]
    assert database, [span.name for span in finished]
    [select] = [span for span in database if span.name == f"SELECT {engine.url.database}"]
    assert select.attributes is not None
    assert select.attributes["db.system.name"] == "postgresql"
    assert "items" in str(select.attributes["db.query.text"])
    assert server.context is not None
    for span in database:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
        assert span.context is not None
        assert span.context.trace_id == server.context.trace_id


async def test_health_and_metrics_are_not_traced(
    client: AsyncClient, spans: InMemorySpanExporter
) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/metrics")).status_code in (200, 404)
    # Nor the health check's database ping: no trace at all.
    assert spans.get_finished_spans() == ()
