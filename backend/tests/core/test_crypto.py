"""Sealing a refresh token's successor under the token itself (sessions/service.py)."""

from backend.core.crypto import new_secret, seal, unseal


def test_only_the_key_unseals_what_it_sealed() -> None:
    for _ in range(100):
        secret, key = new_secret(), new_secret()
        sealed = seal(secret, key)

        assert unseal(sealed, key) == secret
        assert unseal(sealed, new_secret()) != secret
        assert secret not in sealed and len(bytes.fromhex(sealed)) == 32


def test_each_key_gives_its_own_pad() -> None:
    secret = new_secret()

    assert seal(secret, new_secret()) != seal(secret, new_secret())
