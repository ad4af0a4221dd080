"""Every router of the API, mounted once by app/main.py."""

from fastapi import APIRouter

from app.api import health, items

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(items.router)
