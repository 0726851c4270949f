"""The passkeys' documents (`passkeys`, `passkey_challenges`) and the shapes browsers send
(@simplewebauthn/browser's JSON of `navigator.credentials.create()` and `.get()`)."""

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, ConfigDict, Field
from pymongo import IndexModel

from backend.core.clock import utcnow

Purpose = Literal["register", "sign_in", "second_factor", "confirm"]
B64 = r"^[A-Za-z0-9_-]*={0,2}$"  # base64url, as browsers send it


class Passkey(Document):
    id: str  # type: ignore[assignment]  # the credential id, base64url
    user_id: PydanticObjectId
    name: str
    public_key: bytes  # COSE_Key
    sign_count: int = 0
    transports: list[str] = Field(default_factory=list)
    backed_up: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None

    class Settings:
        name = "passkeys"
        indexes = [IndexModel("user_id", name="user")]


class PasskeyChallenge(Document):
    id: str  # type: ignore[assignment]  # SHA-256 of the challenge
    purpose: Purpose
    user_id: PydanticObjectId | None = None
    expires_at: datetime

    class Settings:
        name = "passkey_challenges"
        indexes = [IndexModel("expires_at", expireAfterSeconds=0, name="expiry")]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")  # browsers add fields (clientExtensionResults, ...)


# The bodies have names of their own: the schema's component names do not follow the module path.
class RegistrationBody(_Loose):
    clientDataJSON: str = Field(max_length=8192, pattern=B64)
    attestationObject: str = Field(max_length=65536, pattern=B64)
    transports: list[str] = Field(default_factory=list, max_length=8)


class RegistrationResponse(_Loose):
    """What `navigator.credentials.create()` gave, as @simplewebauthn/browser sends it."""

    id: str = Field(max_length=1400, pattern=B64)  # credential ids are at most 1023 bytes
    rawId: str = Field(max_length=1400, pattern=B64)
    type: Literal["public-key"]
    response: RegistrationBody


class AuthenticationBody(_Loose):
    clientDataJSON: str = Field(max_length=8192, pattern=B64)
    authenticatorData: str = Field(max_length=8192, pattern=B64)
    signature: str = Field(max_length=2048, pattern=B64)
    userHandle: str | None = Field(None, max_length=128, pattern=B64)


class AuthenticationResponse(_Loose):
    """What `navigator.credentials.get()` gave, as @simplewebauthn/browser sends it."""

    id: str = Field(max_length=1400, pattern=B64)
    rawId: str = Field(max_length=1400, pattern=B64)
    type: Literal["public-key"]
    response: AuthenticationBody


class PasskeyRead(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool = Field(description="synced to the person's other devices by their provider")
