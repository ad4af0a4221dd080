"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import get_session

# scope="function" runs get_session's commit before the response is sent, not after: a client
# that gets 201 can read its item at once, and a failing commit becomes an error response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
