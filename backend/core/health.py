"""Probes for orchestrators and load balancers.

- `GET /health/live`: the process answers (no database): restart the container when it fails.
- `GET /health/ready`: the database answers a ping and has what the app needs: route traffic
  here only while it succeeds (503 with `Retry-After` while the database is unreachable, and
  503 `MIGRATION_NEEDED` naming the missing indexes or data migrations while `manage migrate`
  has not run: core/migrations.py).
- `GET /health`: the original probe, the same as ready.

Ready answers `{"status": "ok"}`, with `warnings` only when there is something the operator
should fix that does not stop this instance from serving (so it stays 200: every instance would
say the same, and taking them all out of rotation would help no one): today, forwarding headers
from a peer not in TRUSTED_PROXIES (core/proxies.py).
"""

from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from backend.core.migrations import MIGRATE_COMMAND
from backend.core.modules import Module
from backend.core.openapi import NO_DATABASE


class Health(BaseModel):
    status: str


class Readiness(Health):
    warnings: list[str] = Field(default_factory=list, description="what to fix; absent when nothing")


def get_health_router(
    ping_database: Callable[[], Awaitable[object]],
    warnings: Callable[[], list[str]],
    blockers: Callable[[], Awaitable[list[str]]],
) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["meta"])

    async def readiness() -> Readiness:
        await ping_database()
        if missing := await blockers():
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail={
                    "code": "MIGRATION_NEEDED",
                    "reason": f"run `{MIGRATE_COMMAND}`: " + "; ".join(missing),
                },
                headers={"Retry-After": "10"},
            )
        return Readiness(status="ok", warnings=warnings())

    @router.get("", response_model=Readiness, response_model_exclude_defaults=True)
    async def health() -> Readiness:
        """The database answers (kept from the first version; the same as /health/ready)."""
        return await readiness()

    @router.get("/live", response_model=Health, openapi_extra=NO_DATABASE)
    async def live() -> Health:
        """The process is up and serving; touches nothing else. Use it for liveness."""
        return Health(status="ok")

    @router.get("/ready", response_model=Readiness, response_model_exclude_defaults=True)
    async def ready() -> Readiness:
        """The database answers a ping; 503 while it does not. Use it for readiness. `warnings`
        name what to fix that does not stop this instance from serving."""
        return await readiness()

    return router


class HealthModule(Module):
    """The probes, as a module of the app (`ping_database` answers once the database does;
    `warnings` is what readiness reports; `blockers` what keeps it from being ready)."""

    name = "health"

    def __init__(
        self,
        ping_database: Callable[[], Awaitable[object]],
        warnings: Callable[[], list[str]],
        blockers: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self.ping_database = ping_database
        self.warnings = warnings
        self.blockers = blockers

    def routers(self) -> Sequence[APIRouter]:
        return [get_health_router(self.ping_database, self.warnings, self.blockers)]
