"""Failed sign-ins: counted on the login's limits (one lockout for passwords, codes and proofs),
and summarised in the account's log (log.py).

The counters are per account and per IP (`RATE_LIMIT_LOGIN_ACCOUNT`, `RATE_LIMIT_LOGIN_IP`):
wrong passwords, second-factor codes, "confirm it is you" proofs and link passwords all count on
the same ones, toward the same lockout, during which even the right password is not tried. So
does a wrong current password in a password change (`count_toward_lockout`), which is logged as
`password_change_refused` rather than as a failed sign-in: the one asking is signed in.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from beanie import PydanticObjectId
from fastapi import Request

from backend.apps.auth.activity.log import FailureKind, security_log
from backend.apps.user.models import User
from backend.config import Rate, Settings
from backend.core.ratelimit import RateLimiter, client_ip

T = TypeVar("T")
LOGIN_ACCOUNT_RULE = "login:account"  # the per-account login limit
LOGIN_IP_RULE = "login:ip"


async def count_failed_login(
    limiter: RateLimiter,
    limits: Sequence[tuple[str, str, Rate]],
    user_id: PydanticObjectId | None,
    request: Request,
    kind: FailureKind,
) -> None:
    """A failed sign-in: counted on the login limits (429 past one) and, when it names an existing
    account, in that account's log."""
    if user_id is not None:
        await security_log.sign_in_failed(user_id, request, kind)
    await count_toward_lockout(limiter, limits, user_id, request)


async def count_toward_lockout(
    limiter: RateLimiter,
    limits: Sequence[tuple[str, str, Rate]],
    user_id: PydanticObjectId | None,
    request: Request,
) -> None:
    """One failure on the login limits (429 past one), whatever the caller logged it as. The
    failure that brings the account to its limit, after which the limiter refuses even the right
    password, is the account's one `locked_out` event of that window (each count is reached by
    exactly one request: the counter's `$inc` is atomic)."""
    for rule, subject, rate in limits:
        hits = await limiter.hit(rule, subject, rate)
        if user_id is not None and rule == LOGIN_ACCOUNT_RULE and hits == rate.count:
            await security_log.record(
                user_id, "locked_out", request, failures=hits, window_seconds=rate.seconds
            )


async def counted_as_login(
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    request: Request,
    kind: FailureKind,
    attempt: Callable[[], Awaitable[T]],
) -> T:
    """Run `attempt` unless `user` or the IP is locked out; a falsy result is a failed login,
    of `kind` in the account's security log.

    The counters are the password login's, so wrong codes and wrong passwords share one lockout.
    """
    limits: list[tuple[str, str, Rate]] = [
        (LOGIN_ACCOUNT_RULE, user.email, settings.rate_limit_login_account),
        (LOGIN_IP_RULE, client_ip(request), settings.rate_limit_login_ip),
    ]
    for rule, subject, rate in limits:
        await limiter.check(rule, subject, rate)
    result = await attempt()
    if not result:
        await count_failed_login(limiter, limits, user.id, request, kind)
    return result
