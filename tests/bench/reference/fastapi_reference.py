"""The FastAPI reference: the same primary-key SELECT on the same driver (asyncpg), no ORM."""

import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException

pool: asyncpg.Pool


@asynccontextmanager
async def lifespan(_app):
    global pool
    pool = await asyncpg.create_pool(
        host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
        password=os.environ["DB_PASSWORD"], database=os.environ["DB_NAME"],
        min_size=1, max_size=int(os.environ.get("BENCH_POOL_SIZE", "10")),
    )
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    row = await pool.fetchrow("SELECT id, name, description, created_at FROM items WHERE id = $1", item_id)
    if row is None:
        raise HTTPException(404)
    return dict(row)


@app.get("/health")
async def health():
    await pool.fetchval("SELECT 1")
    return {"status": "ok", "database": "ok"}
