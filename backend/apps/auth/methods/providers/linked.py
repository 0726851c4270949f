"""Provider identities linked to accounts, and the routes that list and unlink them.

`GET /auth/oauth/accounts` lists the signed-in user's linked providers; `DELETE
/auth/oauth/accounts/{provider}` unlinks one, unless it is their last way to sign in (no
password set and no other provider). Linking happens at the end of a provider's flow (routes.py).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from beanie import Document, PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.activity.log import security_log
from backend.apps.auth.methods.providers.clients import Provider
from backend.apps.user.models import User
from backend.core.clock import utcnow


class OAuthAccount(Document):
    """One provider identity linked to one user."""

    user_id: PydanticObjectId
    provider: str
    subject: str
    email: str | None = None
    linked_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "oauth_accounts"
        indexes = [
            IndexModel(
                [("provider", ASCENDING), ("subject", ASCENDING)], unique=True, name="provider_subject"
            ),
            IndexModel([("user_id", ASCENDING)], name="user"),
        ]


async def delete_oauth_accounts_of(user_id: PydanticObjectId) -> None:
    await OAuthAccount.get_pymongo_collection().delete_many({"user_id": user_id})


class LinkedAccount(BaseModel):
    provider: str
    label: str
    email: str | None
    linked_at: datetime


class LinkedAccounts(BaseModel):
    has_password: bool
    accounts: list[LinkedAccount]


def get_linked_accounts_router(
    current_active_user: Callable[..., Any], providers: dict[str, Provider], letters: ActivityLetters
) -> APIRouter:
    router = APIRouter(prefix="/auth/oauth", tags=["auth"])
    CurrentUser = Annotated[User, Depends(current_active_user)]

    def label(name: str) -> str:
        return providers[name].label if name in providers else name

    @router.get("/accounts", response_model=LinkedAccounts, summary="My linked providers")
    async def linked_accounts(user: CurrentUser) -> LinkedAccounts:
        found = await OAuthAccount.find({"user_id": user.id}).sort("linked_at").to_list()
        return LinkedAccounts(
            has_password=getattr(user, "password_set", True),
            accounts=[
                LinkedAccount(
                    provider=a.provider, label=label(a.provider), email=a.email, linked_at=a.linked_at
                )
                for a in found
            ],
        )

    @router.delete(
        "/accounts/{provider}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            404: {"description": "PROVIDER_NOT_LINKED"},
            409: {"description": "LAST_SIGN_IN_METHOD: set a password first"},
        },
        summary="Unlink a provider",
    )
    async def unlink(provider: str, user: CurrentUser, request: Request) -> Response:
        links = await OAuthAccount.find({"user_id": user.id}).to_list()
        mine = [a for a in links if a.provider == provider]
        if not mine:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="PROVIDER_NOT_LINKED")
        if not getattr(user, "password_set", True) and len(links) == len(mine):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail={
                    "code": "LAST_SIGN_IN_METHOD",
                    "reason": f"{label(provider)} is your only way to sign in: set a password first "
                    "(use “Forgot password”), then unlink it.",
                },
            )
        await OAuthAccount.get_pymongo_collection().delete_many({"user_id": user.id, "provider": provider})
        await security_log.record(user.id, "provider_unlinked", request, provider=provider)
        await letters.send_security_notice(
            user,
            f"{label(provider)} was unlinked from your account",
            f"You can no longer sign in with {label(provider)}.",
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
