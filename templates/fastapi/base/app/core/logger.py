"""One application logger, configured once, writing to stderr next to uvicorn's own logs."""

import logging
import sys

from app.core.config import settings

LOGGER_NAME = "app"


def _build_logger() -> logging.Logger:
    log = logging.getLogger(LOGGER_NAME)
    # Re-importing the module (uvicorn --reload, pytest) must not stack up handlers.
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if settings.debug else logging.INFO)
    # Our handler is enough; propagating to the root logger would print every line twice.
    log.propagate = False
    return log


logger = _build_logger()
