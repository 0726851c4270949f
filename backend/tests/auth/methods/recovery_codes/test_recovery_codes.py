"""Recovery codes: each signs in once, and new ones replace the old."""

import pytest

from backend.tests.auth.second_steps import (
    Clock,
    enrolled,
    set_totp_clock,
    ticket_for,
    verify,
)
from backend.tests.conftest import Server
from backend.tests.helpers import (
    mailed_subjects,
    outbox,
    verified_sign_up,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


async def test_a_recovery_code_signs_in_once(server: Server, clock: Clock) -> None:
    client, _, codes = await enrolled(server, clock, "recovery@example.com")
    browser = server.client()

    # Typed as people do: upper case, spaces for dashes.
    used = await verify(
        browser,
        await ticket_for(server, "recovery@example.com"),
        recovery_code=codes[3].upper().replace("-", " "),
    )

    assert used.status_code == 200, used.text
    assert (await browser.get("/users/me")).status_code == 200
    again = await verify(
        server.client(), await ticket_for(server, "recovery@example.com"), recovery_code=codes[3]
    )
    assert again.status_code == 400 and again.json()["detail"]["code"] == "MFA_CODE_INVALID"
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 9
    await mailed_subjects(client, "recovery@example.com", "A recovery code was used to sign in")
    [notice] = [
        m for m in await outbox(client, "recovery@example.com") if "recovery code was used" in m["subject"]
    ]
    assert "9 unused recovery codes are left" in notice["text"]


async def test_new_recovery_codes_replace_the_old(server: Server, clock: Clock) -> None:
    client, _, old = await enrolled(server, clock, "regenerate@example.com")

    fresh = await client.post("/auth/mfa/recovery-codes")

    assert fresh.status_code == 200, fresh.text
    new = fresh.json()["recovery_codes"]
    assert len(new) == len(set(new)) == 10 and not set(new) & set(old)
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 10
    stale = await verify(
        server.client(), await ticket_for(server, "regenerate@example.com"), recovery_code=old[0]
    )
    assert stale.status_code == 400
    current = await verify(
        server.client(), await ticket_for(server, "regenerate@example.com"), recovery_code=new[0]
    )
    assert current.status_code == 200
    await mailed_subjects(client, "regenerate@example.com", "New recovery codes were made")
    # Without a second factor there is nothing to recover.
    plain = server.client()
    await verified_sign_up(plain, "no-factor@example.com")
    refused = await plain.post("/auth/mfa/recovery-codes")
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "MFA_NOT_ENABLED"
