"""Passwords: the policy, and hashing that neither stalls the event loop nor piles up.

FastAPI Users calls its (synchronous) password helper from async code: one argon2 verify
(~170 ms with the default m=64 MiB, t=3, p=4) would stall every other request on the worker.
`ThreadedPasswordsMixin` overrides the few manager methods that hash or verify so that the work
runs in the app's `HashingPool` (backend/core/hashing.py): a few low-priority threads and a
short queue, 503 beyond it, and for each client (the manager's `client`, the address of the
request it serves) a bounded share of it. Everything else stays FastAPI Users' own code.

A reset link's fingerprint of the password (so the link dies once the password changes) is an
HMAC of the stored hash, not FastAPI Users' argon2 hash of it: asking for a reset then costs no
place in the hashing pool, so a client flooding forgot-password cannot make anyone's login 503.
"""

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import exceptions, models
from fastapi_users.jwt import generate_jwt
from fastapi_users.manager import BaseUserManager
from fastapi_users.password import PasswordHelper, PasswordHelperProtocol
from jwt import PyJWTError
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from pydantic import SecretStr
from zxcvbn_rs_py import Feedback, zxcvbn

from backend.apps.user.link_tokens import decode_with_any
from backend.config import Settings
from backend.core.hashing import HashingPool

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024  # argon2 takes any length without truncating; the cap bounds the work
PASSWORD_MIN_SCORE = 3  # zxcvbn: "safely unguessable", about 10^8 guesses or more
ESTIMATE_MAX_LENGTH = 72  # what the estimator reads at most; what follows can only add strength
# The characters zxcvbn reads as letters ("p@$$w0rd"), as its l33t matcher does.
L33T_LOOKALIKES = {
    "a": "4@",
    "b": "8",
    "c": "({[<",
    "e": "3",
    "g": "69",
    "i": "1!|",
    "l": "1|7",
    "o": "0",
    "s": "$5",
    "t": "+7",
    "x": "%",
    "z": "2",
}
# Dictionary look-ups the estimator may make for one password (see `estimate_work`): the slowest
# inputs a search could build within it take ~35 ms of CPU on the 2-core development machine.
ESTIMATE_WORK_BUDGET = 100_000

# The estimator builds its dictionaries on first use (~0.1 s): at import, not in a request.
zxcvbn("warm-up")


@dataclass(frozen=True)
class PasswordJudgement:
    """The policy's verdict on a password: `problem` is None when it may be used."""

    problem: str | None  # why not, in words a person can act on: what register/reset/change answer
    score: int  # zxcvbn's 0-4, below PASSWORD_MIN_SCORE whenever there is a problem
    warning: str | None
    suggestions: tuple[str, ...]


def judge_password(password: str, email: str | None) -> PasswordJudgement:
    """The password policy, the one function register, reset, change and the strength check use.

    `email` is the owner's address (None or empty when it is not known yet: then only the
    password itself is judged). Costs at most a few tens of milliseconds whatever the input.
    """
    local_part = email.split("@", 1)[0].lower() if email else ""
    estimate = zxcvbn(judged_part(password), user_inputs=[email, local_part] if email else [])
    feedback = estimate.feedback
    score = int(estimate.score)
    problem = None
    if len(password) < PASSWORD_MIN_LENGTH:
        problem = f"Password should be at least {PASSWORD_MIN_LENGTH} characters."
    elif len(password) > PASSWORD_MAX_LENGTH:
        problem = f"Password should be at most {PASSWORD_MAX_LENGTH} characters."
    elif email and (
        email.lower() in password.lower() or (len(local_part) >= 3 and local_part in password.lower())
    ):
        problem = "Password must not contain your email address."
    elif score < PASSWORD_MIN_SCORE:
        problem = f"Password is too easy to guess. {advice(feedback) or 'Use a longer passphrase.'}"
    return PasswordJudgement(
        problem=problem,
        score=min(score, PASSWORD_MIN_SCORE - 1) if problem else score,
        warning=str(feedback.warning) if feedback and feedback.warning is not None else None,
        suggestions=tuple(str(part) for part in feedback.suggestions) if feedback else (),
    )


def password_problem(password: str, email: str) -> str | None:
    """Why `password` may not be used by the owner of `email`, in words a person can act on."""
    return judge_password(password, email).problem


def judged_part(password: str) -> str:
    """The longest start of `password` the estimator can judge within its work budget.

    zxcvbn (the Rust one too, which holds the GIL) looks every substring up in its dictionaries:
    as written, reversed, and once more for each way of reading the l33t look-alikes present as
    letters, and those ways multiply: `c` alone has four look-alikes. A crafted 72-character string
    of all twenty look-alikes costs ~800 readings x 72^2 look-ups, half a second of CPU. Ordinary
    passwords, a few substitutions included, stay far below the budget and are judged on their
    first 72 characters; only strings dense in different look-alikes are judged on a shorter start
    (14 characters at the least), which is what a random string looks like, and scores so.
    """
    end = min(len(password), ESTIMATE_MAX_LENGTH)
    while end > PASSWORD_MIN_LENGTH and estimate_work(password[:end]) > ESTIMATE_WORK_BUDGET:
        end -= 1
    return password[:end]


def estimate_work(text: str) -> int:
    """zxcvbn's dictionary work for `text`: substrings x readings (its count of readings is
    this product, or up to twice it when `1`, `|` or `7`, each two letters' look-alike, appear)."""
    present = set(text)
    readings = math.prod(max(1, len(present.intersection(chars))) for chars in L33T_LOOKALIKES.values())
    return len(text) ** 2 * (readings + 2)


def advice(feedback: Feedback | None) -> str:
    """zxcvbn's warning and suggestions as sentences ("This is a top-10 common password. ...")."""
    if feedback is None:
        return ""
    return " ".join(str(part) for part in (feedback.warning, *feedback.suggestions) if part is not None)


def argon2_password_helper(settings: Settings) -> PasswordHelper:
    """argon2id with the settings' parameters (OWASP ASVS V2.4.4); verifies legacy bcrypt too.

    A stored hash names its own parameters, so hashes made with other ones still verify, and
    `verify_and_update` re-hashes them with these at the owner's next login.
    """
    argon2 = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    return PasswordHelper(PasswordHash((argon2, BcryptHasher())))


def get_password_helper() -> PasswordHelperProtocol | None:
    """Dependency: a password helper to use instead of the settings' argon2id one (None: keep it).

    The seam to hash differently without touching the settings: tests put a cheap, a counting or
    a waiting helper here; an app could put a peppered one.
    """
    return None


class ThreadedPasswordsMixin(BaseUserManager[models.UP, models.ID]):
    """Every hash and verify of the manager, in the hashing pool: 503 when that is full."""

    hashing: HashingPool
    # The reset links' keys, one per configured JWT secret; the first is reset_password_token_secret.
    reset_password_token_secrets: list[str]
    # Whose request this manager serves (its real address): each client gets a bounded share of
    # the pool's places (core/hashing.py). None for work on no client's behalf (commands, jobs).
    client: str | None = None

    async def hash_password(self, password: str) -> str:
        return await self.hashing.run(self.password_helper.hash, password, client=self.client)

    async def verify_password(self, password: str, hashed: str) -> tuple[bool, str | None]:
        return await self.hashing.run(
            self.password_helper.verify_and_update, password, hashed, client=self.client
        )

    async def create(self, user_create: Any, safe: bool = False, request: Request | None = None) -> models.UP:
        await self.validate_password(user_create.password, user_create)
        if await self.user_db.get_by_email(user_create.email) is not None:
            raise exceptions.UserAlreadyExists()
        user_dict = user_create.create_update_dict() if safe else user_create.create_update_dict_superuser()
        user_dict["hashed_password"] = await self.hash_password(user_dict.pop("password"))
        created_user = await self.user_db.create(user_dict)
        await self.on_after_register(created_user, request)
        return created_user

    async def authenticate(self, credentials: OAuth2PasswordRequestForm) -> models.UP | None:
        user = await self.user_db.get_by_email(credentials.username)
        if user is None:
            # Hash anyway so an unknown email costs what a wrong password costs.
            await self.hash_password(credentials.password)
            return None
        verified, new_hash = await self.verify_password(credentials.password, user.hashed_password)
        if not verified:
            return None
        if new_hash is not None:  # parameters or algorithm changed: upgrade the stored hash
            user = await self.user_db.update(user, {"hashed_password": new_hash})
        return user

    def password_fingerprint(self, hashed_password: str, secret: Any = None) -> str:
        """What a reset link carries of the password: an HMAC of its stored hash, keyed by the
        reset links' own secret (`secret`, the one the link was made with; the first by default).
        Any change of the password (or of its hash) changes it."""
        secret = secret or self.reset_password_token_secret
        key = (secret.get_secret_value() if isinstance(secret, SecretStr) else secret).encode()
        digest = hmac.new(key, b"reset-fingerprint\x00" + hashed_password.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    async def fingerprint_matches(self, hashed_password: str, fingerprint: str, secret: Any = None) -> bool:
        if fingerprint.startswith("$"):
            # A link mailed before this release carries FastAPI Users' argon2 hash of the hash:
            # still honoured (for its hour), at its old cost.
            valid, _ = await self.verify_password(hashed_password, fingerprint)
            return valid
        return hmac.compare_digest(self.password_fingerprint(hashed_password, secret), fingerprint)

    async def forgot_password(self, user: models.UP, request: Request | None = None) -> None:
        if not user.is_active:
            raise exceptions.UserInactive()
        token = generate_jwt(
            {
                "sub": str(user.id),
                # For the address it is mailed to: once the account moves, the link is dead.
                "email": user.email,
                "password_fgpt": self.password_fingerprint(user.hashed_password),
                "aud": self.reset_password_token_audience,
            },
            self.reset_password_token_secret,
            self.reset_password_token_lifetime_seconds,
        )
        await self.on_after_forgot_password(user, token, request)

    async def reset_token_user(self, token: str) -> models.UP:
        """The account a reset link may still reset: InvalidResetPasswordToken when it is
        unknown, expired or used, UserInactive when the account is deactivated. (The reset page
        asks first, so a dead link does not show a form; no password hashing either way.)"""
        try:
            data, secret = decode_with_any(
                token, self.reset_password_token_secrets, [self.reset_password_token_audience]
            )
            user = await self.get(self.parse_id(data["sub"]))
            fingerprint = data["password_fgpt"]
        except (PyJWTError, KeyError, TypeError, exceptions.InvalidID, exceptions.UserNotExists):
            raise exceptions.InvalidResetPasswordToken() from None
        if data.get("email") != user.email:  # mailed to an address the account has left
            raise exceptions.InvalidResetPasswordToken()
        # The token carries a fingerprint of the password hash: it dies once the password changes.
        matches = isinstance(fingerprint, str) and await self.fingerprint_matches(
            user.hashed_password, fingerprint, secret
        )
        if not matches:
            raise exceptions.InvalidResetPasswordToken()
        if not user.is_active:
            raise exceptions.UserInactive()
        return user

    async def reset_password(self, token: str, password: str, request: Request | None = None) -> models.UP:
        user = await self.reset_token_user(token)
        updated_user = await self._update(user, {"password": password})
        await self.on_after_reset_password(user, request)
        return updated_user

    async def _update(self, user: models.UP, update_dict: dict[str, Any]) -> models.UP:
        update_dict = dict(update_dict)
        password = update_dict.pop("password", None)
        if password is not None:
            await self.validate_password(password, user)
            update_dict["hashed_password"] = await self.hash_password(password)
        return await super()._update(user, update_dict)
