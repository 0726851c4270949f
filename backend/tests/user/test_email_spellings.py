"""One address, one account, whatever the spelling: Unicode forms, IDNA domains, case."""

import pytest
from httpx import AsyncClient

from backend.apps.user.models import User
from backend.core.email_address import normalize_email
from backend.tests.conftest import Server
from backend.tests.helpers import PASSWORD, login, mailed_token, register

SPELLINGS = [
    (
        "idn.1@xn--bcher-kva.example",
        ["idn.1@bücher.example", "IDN.1@XN--BCHER-KVA.EXAMPLE", "idn.1@Bücher.example"],
    ),
    ("jose\u0301.x@example.com", ["jos\u00e9.x@example.com", "JOSE\u0301.X@Example.com"]),
    ("Mixed.Case@Example.COM", ["mixed.case@example.com", " mixed.case@EXAMPLE.com "]),
]


@pytest.mark.parametrize(("registered", "others"), SPELLINGS, ids=["idna", "nfd", "case"])
async def test_an_account_logs_in_with_any_spelling_of_its_address(
    client: AsyncClient, registered: str, others: list[str]
) -> None:
    await register(client, registered)

    for spelling in [registered, *others]:
        await login(client, spelling)


@pytest.mark.parametrize(("registered", "others"), SPELLINGS, ids=["idna", "nfd", "case"])
async def test_two_spellings_of_one_address_are_one_account(
    server: Server, registered: str, others: list[str]
) -> None:
    await register(server.client(), registered)

    for spelling in others:
        response = await server.client().post(
            "/auth/register", json={"email": spelling.strip(), "password": PASSWORD}
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == "REGISTER_USER_ALREADY_EXISTS"
    assert await User.find_all().count() == 1


async def test_forgot_password_finds_the_account_by_another_spelling(client: AsyncClient) -> None:
    await register(client, "idn.2@xn--bcher-kva.example")

    response = await client.post("/auth/forgot-password", json={"email": "IDN.2@bücher.example"})

    assert response.status_code == 202
    assert await mailed_token(client, "/reset-password", "idn.2@bücher.example")


async def test_an_address_stored_before_the_rule_keeps_working(server: Server) -> None:
    # Stored by the earlier rule (EmailStr, then lower case): unchanged by the new one.
    client = server.client()
    await register(client, "Old.Style@Example.org")
    stored = await User.find_one()
    assert stored is not None and stored.email == "old.style@example.org"
    assert normalize_email(stored.email) == stored.email
    await login(client, "OLD.STYLE@example.org")


def test_normalisation_is_stable_and_tolerates_non_addresses() -> None:
    for address in ["idn.1@xn--bcher-kva.example", "jose\u0301@example.com", "a@xn--invalid-", "no-at-sign"]:
        once = normalize_email(address)
        assert normalize_email(once) == once
