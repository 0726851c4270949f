"""The sign-in link routes: ask for a link by email, and sign in with it.

`POST /auth/sign-in-link` answers 202 at once for any address, as forgot-password does: the
lookup, the link and the mail all happen after the answer. `POST /auth/sign-in-link/consume`
spends the link and ends in the sign-in flow, like a password login.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import EmailStr

from backend.apps.auth.flows.sign_in import MFA_REQUIRED_RESPONSE, SecondFactorRequired, SignedIn
from backend.apps.user.manager import UserManager
from backend.apps.user.models import UserDatabase
from backend.core.ratelimit import account_action_limits, client_ip

if TYPE_CHECKING:
    from backend.apps.auth.methods.sign_in_links.module import SignInLinksMethod

SIGN_IN_LINK_INVALID = "SIGN_IN_LINK_INVALID"
BAD_LINK_RULE = "sign-in-link-consume:ip"


def get_sign_in_link_router(method: "SignInLinksMethod") -> APIRouter:
    settings, limiter, links, letters = method.settings, method.limiter, method.links, method.letters
    UserManagerDep = Annotated[UserManager, Depends(method.get_user_manager)]
    router = APIRouter(prefix="/auth/sign-in-link", tags=["auth"])

    async def mail_link(email: str, users: UserDatabase) -> None:
        user = await users.get_by_email(email)
        if user is None or not user.is_active:
            return
        token = await links.issue(user)
        await letters.send_sign_in_link(user, token, links.lifetime_seconds)

    @router.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        name="auth:sign_in_link.request",
        dependencies=[Depends(account_action_limits(settings, limiter))],
    )
    async def request_sign_in_link(
        email: Annotated[EmailStr, Body(embed=True)], user_manager: UserManagerDep
    ) -> None:
        """Mail a one-time sign-in link if the address has an active account.

        The answer is the same, and as quick, for any address: nothing is looked up before it.
        An unknown or inactive address gets no mail.
        """
        letters.postman.in_background(mail_link(email, user_manager.user_db))

    @router.post(
        "/consume",
        name="auth:sign_in_link.consume",
        response_model=BearerResponse,
        responses={
            400: {"description": "SIGN_IN_LINK_INVALID: the link is unknown, expired or already used"},
            **MFA_REQUIRED_RESPONSE,
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            429: {"description": "too many invalid links from this address"},
        },
    )
    async def consume_sign_in_link(
        request: Request,
        response: Response,
        token: Annotated[str, Body(embed=True)],
        user_manager: UserManagerDep,
    ) -> BearerResponse:
        """Sign in with the token of a mailed link: the access token in the body and in cookies,
        as a password login answers. The link works once; the address counts as verified, and on
        an account whose address was not verified until now, everything anyone had set up (the
        password, sessions, passkeys, providers...) is removed and the owner mailed what went.
        An account with a second factor gets 401 MFA_REQUIRED, as from a password login."""
        method.origins.require(request)
        ip = client_ip(request)
        # Checked before the link is spent: a locked-out address burns nobody's link.
        await limiter.check(BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
        user = await links.consume(token)
        if user is None:
            await limiter.hit(BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=SIGN_IN_LINK_INVALID)
        if await method.inbox.claim(user_manager, user, "sign_in_link", request):
            user = await user_manager.get(user.id)  # proved now, and nobody else's any more
        outcome = await method.sign_in.first_step_done(user, request, response, "sign_in_link", user_manager)
        if not isinstance(outcome, SignedIn):
            raise SecondFactorRequired(outcome)
        return BearerResponse(access_token=outcome.access_token, token_type="bearer")  # noqa: S106

    return router
