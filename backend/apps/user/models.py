"""The user document and the schemas the API reads and writes."""

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from fastapi_users import exceptions, schemas
from fastapi_users_db_beanie import BeanieBaseUser, BeanieUserDatabase
from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from backend.core.clock import utcnow
from backend.core.email_address import normalize_email
from backend.core.schemas import PartialUpdate


class User(BeanieBaseUser, Document):
    created_at: datetime = Field(default_factory=utcnow)
    # Ids of the live sessions (the auth app's sessions/): checked on every request, never exposed.
    session_ids: list[str] = Field(default_factory=list)
    # False for accounts made by signing in with a provider, until a password is set by reset.
    password_set: bool = True
    # When the address was last proved (None: never, or before this field existed). An account
    # never proved is one its address's owner may refuse, and that expires (unverified.py).
    verified_at: datetime | None = None
    # When the "verify or this account goes" reminder was mailed (unverified.py).
    verify_reminded_at: datetime | None = None

    @property
    def has_password(self) -> bool:
        """As UserRead shows it."""
        return self.password_set

    @property
    def never_verified(self) -> bool:
        """No one has ever proved this account's address: whoever made it may not own it."""
        return not self.is_verified and self.verified_at is None

    class Settings(BeanieBaseUser.Settings):
        name = "users"
        indexes = [
            *BeanieBaseUser.Settings.indexes,
            # Unverified accounts by age, for their reminder and their expiry (unverified.py).
            IndexModel([("is_verified", ASCENDING), ("created_at", ASCENDING)], name="unverified_by_age"),
            # The superusers alone (a handful of entries), for "is another one left?" (superusers.py).
            IndexModel(
                [("is_superuser", ASCENDING)],
                name="superusers",
                partialFilterExpression={"is_superuser": True},
            ),
        ]


def verified_now() -> dict[str, Any]:
    """The fields that mark an account's address proved, as of now."""
    return {"is_verified": True, "verified_at": utcnow()}


class UserRead(schemas.BaseUser[PydanticObjectId]):
    created_at: datetime
    has_password: bool = Field(
        True, description="false for accounts made through a provider until a password is set"
    )


class UserCreate(schemas.CreateUpdateDictModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str


class NoPassword(BaseModel):
    """A change to the account that says where the password is changed, should it name one."""

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "the password is changed with POST /users/me/password, which asks for the current one"
            )
        return data


class UserUpdate(NoPassword, PartialUpdate, schemas.CreateUpdateDictModel):
    """PATCH /users/{id}: superusers change the email and flags. Never the password.

    Users change their own address with PATCH /users/me (email_change.py).
    """

    email: EmailStr | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    is_verified: bool | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str
    new_password: str


class SuperuserCreate(UserCreate):
    """Used by the first-superuser bootstrap, never exposed over HTTP."""

    is_superuser: bool
    is_verified: bool


class UserDatabase(BeanieUserDatabase[User]):
    """FastAPI Users' Beanie adapter with normalised emails and field-level updates."""

    async def get_by_email(self, email: str) -> User | None:
        return await super().get_by_email(normalize_email(email))

    async def create(self, create_dict: dict[str, Any]) -> User:
        create_dict = {**create_dict, "email": normalize_email(create_dict["email"])}
        if create_dict.get("is_verified"):
            create_dict = {**verified_now(), **create_dict}
        try:
            return await super().create(create_dict)
        except DuplicateKeyError:  # lost a race with a concurrent registration
            raise exceptions.UserAlreadyExists() from None

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        # $set only the changed fields, atomically, and read the result back: the stock
        # adapter's save() replaces the whole document, which undoes concurrent changes and
        # re-creates a user deleted meanwhile. A user deleted meanwhile is UserNotExists (404).
        if "email" in update_dict:
            update_dict = {**update_dict, "email": normalize_email(update_dict["email"])}
        if update_dict.get("is_verified") and not user.is_verified:
            update_dict = {**update_dict, **verified_now()}
        try:
            document = await User.get_pymongo_collection().find_one_and_update(
                {"_id": user.id}, {"$set": update_dict}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            raise exceptions.UserAlreadyExists() from None
        if document is None:
            raise exceptions.UserNotExists()
        return User.model_validate(document)
