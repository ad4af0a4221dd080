"""The /items endpoints over HTTP, against the test database."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import count_committed_items


async def create(client: AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post("/items", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


async def test_create_and_read(client: AsyncClient, engine: AsyncEngine) -> None:
    created = await create(client, name="Widget", description="A small one")
    assert created["name"] == "Widget"
    assert created["description"] == "A small one"
    assert isinstance(created["id"], int)
    assert isinstance(created["created_at"], str)
    # Committed: a connection of its own sees it.
    assert await count_committed_items(engine) == 1

    response = await client.get(f"/items/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_description_is_optional(client: AsyncClient) -> None:
    created = await create(client, name="Bare")
    assert created["description"] is None


async def test_list_pages_in_id_order(client: AsyncClient) -> None:
    for n in range(5):
        await create(client, name=f"item {n}")
    response = await client.get("/items", params={"limit": 2, "offset": 1})
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == ["item 1", "item 2"]
    assert len((await client.get("/items")).json()) == 5


async def test_update_changes_only_sent_fields(client: AsyncClient) -> None:
    created = await create(client, name="Old", description="kept")
    response = await client.patch(f"/items/{created['id']}", json={"name": "New"})
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["description"] == "kept"

    response = await client.patch(f"/items/{created['id']}", json={"description": None})
    assert response.status_code == 200
    assert response.json() == {**created, "name": "New", "description": None}


async def test_delete(client: AsyncClient, engine: AsyncEngine) -> None:
    created = await create(client, name="Doomed")
    response = await client.delete(f"/items/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert await count_committed_items(engine) == 0
    assert (await client.get(f"/items/{created['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)],
)
async def test_unknown_id_is_404(client: AsyncClient, method: str, body: object) -> None:
    response = await client.request(method, "/items/999999", json=body)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Item 999999 not found",
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": None},
        {"name": 42},
        {"name": "ok", "description": "x" * 1001},
        {"name": "ok", "unknown": 1},
    ],
)
async def test_invalid_create_is_422(
    client: AsyncClient, engine: AsyncEngine, body: object
) -> None:
    response = await client.post("/items", json=body)
    assert response.status_code == 422
    assert await count_committed_items(engine) == 0


async def test_invalid_update_is_422(client: AsyncClient) -> None:
    created = await create(client, name="Stays")
    for body in ({"name": None}, {"name": ""}, {"id": 5}):
        response = await client.patch(f"/items/{created['id']}", json=body)
        assert response.status_code == 422, body
    assert (await client.get(f"/items/{created['id']}")).json()["name"] == "Stays"


@pytest.mark.parametrize(
    "path",
    [
        "/items/abc",
        "/items/0",
        "/items/99999999999",
        "/items/1e3",
        "/items/0x1",
        "/items?limit=0",
        "/items?offset=-1",
        "/items?limit=1e1",
        "/items?limit=5&limit=6",
    ],
)
async def test_bad_path_or_query_is_422(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "content", "content_type", "status"),
    [
        ("PUT", "/items", b'{"name": "x"}', "application/json", 405),
        ("POST", "/items", b'{"name": "x"}', "text/plain", 415),
        ("POST", "/items", b'{"name": "' + b"x" * 1_048_576 + b'"}', "application/json", 413),
        ("POST", "/items", b'{"name": ', "application/json", 400),
        ("POST", "/items", b'{"name": NaN}', "application/json", 400),
        ("POST", "/items", b'{"name": "a\xffb"}', "application/json", 400),
        ("POST", "/items", b'{"name": "a\\u0000b"}', "application/json", 422),
        ("POST", "/items", b'{"name": "\\ud800"}', "application/json", 422),
    ],
)
async def test_the_contract_statuses(
    client: AsyncClient,
    engine: AsyncEngine,
    method: str,
    path: str,
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    """A few rows of docs/CONTRACT.md: each answer is a short problem, and nothing is stored."""
    response = await client.request(
        method, path, content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert len(response.content) < 2_000
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD, POST"
    assert await count_committed_items(engine) == 0
