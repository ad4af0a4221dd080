"""GET /metrics: what Prometheus scrapes, counted by route template and status."""

from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def increase(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_counts_requests_under_their_route_template(client: AsyncClient) -> None:
    created = (await client.post("/items", json={"name": "Counted"})).json()
    route = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(f"/items/{created['id']}")).status_code == 200
    assert (await client.get("/items/987654321")).status_code == 404
    after = await scrape(client)

    assert increase(before, after, "http_requests_total", **route) == 3
    missing = {**route, "status": "404"}
    assert increase(before, after, "http_requests_total", **missing) == 1
    count = value(after, "http_request_duration_seconds_count", **route)
    assert increase(before, after, "http_request_duration_seconds_count", **route) == 3
    assert value(after, "http_request_duration_seconds_bucket", **route, le="+Inf") == count
    assert value(after, "http_request_duration_seconds_sum", **route) > 0
    # The raw path is never a label.
    assert not any(("route", f"/items/{created['id']}") in labels for _, labels in after)


async def test_unknown_paths_count_as_unmatched(client: AsyncClient) -> None:
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    before = await scrape(client)
    for path in ("/nope", "/items/1/extra", "/random/path/42"):
        assert (await client.get(path)).status_code == 404
    after = await scrape(client)
    assert increase(before, after, "http_requests_total", **unmatched) == 3


async def test_other_methods_share_one_label(client: AsyncClient) -> None:
    before = await scrape(client)
    for method in ("PROPFIND", "MKCOL"):
        assert (await client.request(method, "/items")).status_code == 405
    after = await scrape(client)
    other = {"method": "_OTHER", "route": "/items", "status": "405"}
    assert increase(before, after, "http_requests_total", **other) == 2
    assert not any(("method", "PROPFIND") in labels for _, labels in after)


async def test_head_and_refused_methods_count_under_the_route(client: AsyncClient) -> None:
    created = (await client.post("/items", json={"name": "Headed"})).json()
    before = await scrape(client)
    assert (await client.head(f"/items/{created['id']}")).status_code == 200
    assert (await client.put(f"/items/{created['id']}", json={"name": "x"})).status_code == 405
    after = await scrape(client)
    for method, status in (("HEAD", "200"), ("PUT", "405")):
        labels = {"method": method, "route": "/items/{item_id}", "status": status}
        assert increase(before, after, "http_requests_total", **labels) == 1


async def test_scrapes_are_not_counted(client: AsyncClient) -> None:
    await scrape(client)
    samples = await scrape(client)
    assert not any(("route", "/metrics") in labels for _, labels in samples)


async def test_pool_gauges(client: AsyncClient) -> None:
    assert (await client.get("/items")).status_code == 200
    samples = await scrape(client)
    assert value(samples, "db_pool_max_connections") > 0
    # The list request returned its connection to the pool: one idle, none used.
    assert value(samples, "db_pool_connections", state="idle") >= 1
    assert ("db_pool_connections", frozenset({("state", "used")})) in samples


async def test_not_in_the_openapi_document(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths
