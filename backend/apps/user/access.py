"""What the account routes need from the auth app, which hands it in when it is built (the user
app imports no other app)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from fastapi import Response
from fastapi_users import FastAPIUsers

from backend.apps.user.email_change import HolderCheck
from backend.apps.user.models import User

Users = FastAPIUsers[User, PydanticObjectId]


@dataclass(frozen=True)
class AccountAccess:
    """What the account routes need from the auth app, which hands it in (the user app imports no
    other app).

    `users`: FastAPI Users, authenticating through the auth app's sessions. `confirmed`: a
    dependency giving the session (anything with `.user`) when it signed in, or confirmed it is
    me, within the last few minutes, else 403 CONFIRMATION_REQUIRED, which
    `confirmation_responses` documents. `clear_cookies` signs a browser out. `maybe_session`: a
    dependency giving the request's session or None; `prove_holder` decides whether a request
    holds an account (its session, or its password).
    """

    users: Users
    confirmed: Callable[..., Any]
    confirmation_responses: dict[int | str, dict[str, Any]]
    clear_cookies: Callable[[Response], None]
    maybe_session: Callable[..., Any]
    prove_holder: HolderCheck
