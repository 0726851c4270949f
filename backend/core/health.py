"""Probes for orchestrators and load balancers.

- `GET /health/live`: the process answers (no database): restart the container when it fails.
- `GET /health/ready`: the database answers a ping: route traffic here only while it succeeds
  (503 with `Retry-After` while the database is unreachable).
- `GET /health`: the original probe, the same as ready.
"""

from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter
from pydantic import BaseModel

from backend.core.modules import Module
from backend.core.openapi import NO_DATABASE


class Health(BaseModel):
    status: str


def get_health_router(ping_database: Callable[[], Awaitable[object]]) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["meta"])

    @router.get("", response_model=Health)
    async def health() -> Health:
        """The database answers (kept from the first version; the same as /health/ready)."""
        await ping_database()
        return Health(status="ok")

    @router.get("/live", response_model=Health, openapi_extra=NO_DATABASE)
    async def live() -> Health:
        """The process is up and serving; touches nothing else. Use it for liveness."""
        return Health(status="ok")

    @router.get("/ready", response_model=Health)
    async def ready() -> Health:
        """The database answers a ping; 503 while it does not. Use it for readiness."""
        await ping_database()
        return Health(status="ok")

    return router


class HealthModule(Module):
    """The probes, as a module of the app (`ping_database` answers once the database does)."""

    name = "health"

    def __init__(self, ping_database: Callable[[], Awaitable[object]]) -> None:
        self.ping_database = ping_database

    def routers(self) -> Sequence[APIRouter]:
        return [get_health_router(self.ping_database)]
