"""Settings, read once from the environment and from `.env` at the project root."""

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL

# Anchored to the project root so alembic, pytest and uvicorn read the same file from any
# working directory. Real environment variables win over the file; in the Docker image there is
# no .env at all and compose provides the variables.
ENV_FILE = Path(__file__).resolve().parents[2] / ".env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "test", "staging", "production"] = "development"
    # True echoes every SQL statement to the log.
    debug: bool = False
    web_port: int = Field(default=8000, ge=1, le=65535)

    db_host: str = "localhost"
    db_port: int = Field(default=5432, ge=1, le=65535)
    # No defaults: a service that silently talks to the wrong database is worse than one that
    # refuses to start.
    db_name: str
    db_user: str
    db_password: SecretStr
    # Seconds a request waits for the database (a pooled connection, a new connection, one
    # statement) before it answers 503: an outage is reported fast instead of hanging.
    db_timeout: float = Field(default=3.0, gt=0)

    @cached_property
    def database_url(self) -> URL:
        """The asyncpg URL; URL.create quotes characters that would break a hand-built string."""
        return URL.create(
            drivername="postgresql+asyncpg",
            username=self.db_user,
            password=self.db_password.get_secret_value(),
            host=self.db_host,
            port=self.db_port,
            database=self.db_name,
        )


settings = Settings()
