"""The Realm-structured access token: what it contains and what is refused."""

import base64
import json
import time

import jwt
import pytest
from httpx import AsyncClient

from backend.apps.user.models import User
from backend.core.crypto import derive_secret
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET, Server
from backend.tests.helpers import bearer, claims_of, header_of, mailed_token, register, signed_up

ISSUER = "https://farm.test"  # PUBLIC_URL in the tests' settings


def forge(claims: dict, key: str = TEST_SECRET, **kwargs) -> str:
    return jwt.encode(claims, key, algorithm="HS256", **kwargs)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def user_and_token(client: AsyncClient, email: str = "realm@example.com") -> tuple[User, str]:
    token = await signed_up(client, email)
    client.cookies.clear()  # from here on only the token under test authenticates
    user = await User.find_one(User.email == email)
    assert user is not None
    return user, token


def valid_claims(user: User, **changes) -> dict:
    """What a holder of the key could sign for the user's live session."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": TEST_APP_ID,
        "sub": str(user.id),
        "iat": now,
        "exp": now + 600,
        "sid": user.session_ids[0],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


async def test_header_is_exactly_hs256_jwt(client: AsyncClient) -> None:
    _, token = await user_and_token(client)

    assert header_of(token) == {"alg": "HS256", "typ": "JWT"}


async def test_claims_follow_the_realm_custom_jwt_contract(client: AsyncClient, server: Server) -> None:
    user, token = await user_and_token(client)

    claims = claims_of(token)
    assert claims["iss"] == ISSUER == server.settings.public_url  # JWT_ISSUER defaults to PUBLIC_URL
    assert claims["aud"] == TEST_APP_ID  # a string, not a list
    assert claims["sub"] == str(user.id)
    assert isinstance(claims["iat"], int)
    assert claims["exp"] == claims["iat"] + server.settings.jwt_lifetime_seconds
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["user_data"]["email"] == "realm@example.com"
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert claims["sid"] in user.session_ids
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti", "sid", "user_data"}
    # Realm (or any service holding the key) verifies it as a plain HS256 JWT.
    verified = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], audience=TEST_APP_ID, issuer=ISSUER)
    assert verified == claims


async def test_jti_is_unique_per_token(client: AsyncClient) -> None:
    await register(client, "many@example.com")
    tokens = [
        (await client.post("/auth/jwt/login", data={"username": "many@example.com", "password": p})).json()
        for p in ["correct horse battery staple"] * 3
    ]

    assert len({claims_of(t["access_token"])["jti"] for t in tokens}) == 3


async def test_a_forged_token_with_valid_structure_and_our_key_works(client: AsyncClient) -> None:
    # The control for the refusals below: the same construction with one thing wrong each.
    user, _ = await user_and_token(client)

    response = await client.get("/users/me", headers=bearer(forge(valid_claims(user))))

    assert response.status_code == 200


# Forging an HS512 token with our 49-byte key makes PyJWT warn; the refusal is what matters.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize(
    "case",
    [
        "wrong key",
        "alg none",
        "alg HS512",
        "foreign audience",
        "audience list",
        "missing aud",
        "missing iss",
        "foreign issuer",
        "missing sub",
        "missing iat",
        "missing exp",
        "missing sid",
        "sid of no session",
        "expired beyond leeway",
        "issued in the future",
        "sub not an object id",
        "sub of nobody",
        "sub an integer",
    ],
)
async def test_refused_tokens_get_401(client: AsyncClient, case: str) -> None:
    user, _ = await user_and_token(client)
    now = int(time.time())
    tokens = {
        "wrong key": lambda: forge(valid_claims(user), key="another-secret-0123456789-abcdefghijklmnop"),
        "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(valid_claims(user))}.",
        "alg HS512": lambda: jwt.encode(valid_claims(user), TEST_SECRET, algorithm="HS512"),
        "foreign audience": lambda: forge(valid_claims(user, aud="someone-elses-app")),
        "audience list": lambda: forge(valid_claims(user, aud=[TEST_APP_ID])),
        "missing aud": lambda: forge(valid_claims(user, aud=None)),
        "missing iss": lambda: forge(valid_claims(user, iss=None)),
        "foreign issuer": lambda: forge(valid_claims(user, iss="https://elsewhere.example")),
        "missing sub": lambda: forge(valid_claims(user, sub=None)),
        "missing iat": lambda: forge(valid_claims(user, iat=None)),
        "missing exp": lambda: forge(valid_claims(user, exp=None)),
        "missing sid": lambda: forge(valid_claims(user, sid=None)),
        "sid of no session": lambda: forge(valid_claims(user, sid="made-up-session")),
        "expired beyond leeway": lambda: forge(valid_claims(user, iat=now - 1000, exp=now - 60)),
        "issued in the future": lambda: forge(valid_claims(user, iat=now + 3600, exp=now + 7200)),
        "sub not an object id": lambda: forge(valid_claims(user, sub="not-an-id")),
        "sub of nobody": lambda: forge(valid_claims(user, sub="5f5f5f5f5f5f5f5f5f5f5f5f")),
        "sub an integer": lambda: forge(valid_claims(user, sub=12345)),
    }

    response = await client.get("/users/me", headers=bearer(tokens[case]()))

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


async def test_expiry_within_the_leeway_is_tolerated(client: AsyncClient) -> None:
    user, _ = await user_and_token(client)
    now = int(time.time())

    response = await client.get("/users/me", headers=bearer(forge(valid_claims(user, exp=now - 3))))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "two.segments",
        "four.seg.men.ts",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.%%%%.abc",
        f"{b64({'alg': 'HS256'})}.{'x' * 11}.sig",
        f"{b64(['not', 'an', 'object'])}.{b64({})}.sig",
        "a" * 100_000,
        "é.é.é",
    ],
    ids=lambda g: g[:24] if len(g) < 100 else "100KB of junk",
)
async def test_garbage_tokens_get_401_never_500(client: AsyncClient, garbage: str) -> None:
    raw = garbage.encode()  # as bytes, so non-ASCII reaches the server as a client sent it
    for headers in [{"Authorization": b"Bearer " + raw}, {"Cookie": b"FARM_auth=" + raw}]:
        response = await client.get("/users/me", headers=headers)
        assert response.status_code == 401, headers


async def test_tokens_of_inactive_users_are_refused(client: AsyncClient) -> None:
    user, token = await user_and_token(client)
    await user.set({User.is_active: False})

    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_tokens_of_deleted_users_are_refused(client: AsyncClient) -> None:
    user, token = await user_and_token(client)
    await user.delete()

    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_reset_and_verify_tokens_are_not_access_tokens(client: AsyncClient) -> None:
    await register(client, "kinds@example.com")
    await client.post("/auth/forgot-password", json={"email": "kinds@example.com"})
    verify_token = await mailed_token(client, "/verify", "kinds@example.com")
    reset_token = await mailed_token(client, "/reset-password", "kinds@example.com")

    for token in [verify_token, reset_token]:
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_access_tokens_are_not_reset_or_verify_tokens(client: AsyncClient) -> None:
    _, token = await user_and_token(client)

    reset = await client.post("/auth/reset-password", json={"token": token, "password": "a new password 1"})
    verify = await client.post("/auth/verify", json={"token": token})

    assert reset.status_code == 400 and reset.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}
    assert verify.status_code == 400 and verify.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}


async def test_reset_tokens_are_signed_with_their_own_key(client: AsyncClient) -> None:
    await register(client, "keys@example.com")
    await client.post("/auth/forgot-password", json={"email": "keys@example.com"})
    reset_token = await mailed_token(client, "/reset-password", "keys@example.com")

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(reset_token, TEST_SECRET, algorithms=["HS256"], audience="fastapi-users:reset")
    jwt.decode(
        reset_token,
        derive_secret(TEST_SECRET, "reset-password"),
        algorithms=["HS256"],
        audience="fastapi-users:reset",
    )
