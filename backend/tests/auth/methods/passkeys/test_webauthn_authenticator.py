"""The software authenticator against py_webauthn's own verification: it must pass where a real
passkey passes and fail where an attack would."""

import json
from typing import Any

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from backend.tests.webauthn_authenticator import AuthenticatorRefused, SoftAuthenticator

RP_ID = "farm.test"
ORIGIN = "https://farm.test"
USER_ID = b"user-0123456789"


def registration_options(**kwargs: Any) -> tuple[dict[str, Any], bytes]:
    options = generate_registration_options(
        rp_id=RP_ID, rp_name="FARM", user_id=USER_ID, user_name="ada@farm.test", **kwargs
    )
    return json.loads(options_to_json(options)), options.challenge


def authentication_options(**kwargs: Any) -> tuple[dict[str, Any], bytes]:
    options = generate_authentication_options(
        rp_id=RP_ID, user_verification=UserVerificationRequirement.REQUIRED, **kwargs
    )
    return json.loads(options_to_json(options)), options.challenge


def register(authenticator: SoftAuthenticator) -> VerifiedRegistration:
    options, challenge = registration_options()
    return verify_registration_response(
        credential=authenticator.create(options),
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )


def authenticate(
    authenticator: SoftAuthenticator, registered: VerifiedRegistration, sign_count: int, **kwargs: Any
) -> int:
    """Sign in with the registered credential listed in allowCredentials; the new sign count."""
    allow = [PublicKeyCredentialDescriptor(id=registered.credential_id)]
    options, challenge = authentication_options(allow_credentials=allow)
    verified = verify_authentication_response(
        credential=authenticator.get(options, **kwargs),
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=registered.credential_public_key,
        credential_current_sign_count=sign_count,
        require_user_verification=True,
    )
    return verified.new_sign_count


def test_registration_verifies() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    credential = authenticator.credentials[registered.credential_id]
    assert registered.credential_public_key == credential.public_key
    assert registered.user_verified
    assert registered.sign_count == 0
    assert registered.fmt == "none"
    assert credential.user_handle == USER_ID
    assert credential.rp_id == RP_ID


def test_response_is_what_the_browser_library_posts() -> None:
    options, _ = registration_options()
    response = SoftAuthenticator(ORIGIN).create(options)
    assert response["id"] == response["rawId"]
    assert "=" not in response["id"]
    assert response["type"] == "public-key"
    assert response["response"]["transports"] == ["internal"]
    assert response["authenticatorAttachment"] == "platform"
    assert response["clientExtensionResults"] == {}


def test_authentication_verifies_and_counts_up() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    assert authenticate(authenticator, registered, 0) == 1
    assert authenticate(authenticator, registered, 1) == 2


def test_replayed_sign_count_fails() -> None:
    """A cloned authenticator reports a count the relying party has already seen."""
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    count = authenticate(authenticator, registered, 0)
    authenticator.credentials[registered.credential_id].sign_count = count - 1
    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        authenticate(authenticator, registered, count)


def test_wrong_origin_fails() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    authenticator.origin = "https://farm-test.phish"
    with pytest.raises(InvalidAuthenticationResponse, match="origin"):
        authenticate(authenticator, registered, 0)
    with pytest.raises(InvalidRegistrationResponse, match="origin"):
        register(authenticator)


def test_without_user_verification_fails_when_required() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    with pytest.raises(InvalidAuthenticationResponse, match="verif"):
        authenticate(authenticator, registered, 0, user_verified=False)
    options, challenge = registration_options()
    with pytest.raises(InvalidRegistrationResponse, match="verif"):
        verify_registration_response(
            credential=authenticator.create(options, user_verified=False),
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            require_user_verification=True,
        )


def test_excluded_credential_refuses_create() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    exclude = [PublicKeyCredentialDescriptor(id=registered.credential_id)]
    options, _ = registration_options(exclude_credentials=exclude)
    with pytest.raises(AuthenticatorRefused):
        authenticator.create(options)
    # Another device holds no such credential and registers.
    assert SoftAuthenticator(ORIGIN).create(options)


def test_discoverable_login_returns_the_user_handle() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    options, challenge = authentication_options()
    assert "allowCredentials" not in options or options["allowCredentials"] == []
    response = authenticator.get(options)
    assert response["response"]["userHandle"] == "dXNlci0wMTIzNDU2Nzg5"  # base64url of USER_ID
    verified = verify_authentication_response(
        credential=response,
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=registered.credential_public_key,
        credential_current_sign_count=0,
        require_user_verification=True,
    )
    assert verified.credential_id == registered.credential_id


def test_choosing_among_discoverable_credentials() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    first = authenticator.create(registration_options()[0])
    options, _ = registration_options()
    options["user"]["id"] = "b3RoZXI"  # another account at the same site
    second = authenticator.create(options)
    request, _ = authentication_options()
    assert authenticator.get(request)["id"] == second["id"]  # the newest by default
    chosen = authenticator.get(request, credential_id=base64url_to_bytes(first["rawId"]))
    assert chosen["id"] == first["id"]


def test_unknown_or_removed_credentials_refuse() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    registered = register(authenticator)
    request, _ = authentication_options(allow_credentials=[PublicKeyCredentialDescriptor(id=b"elsewhere")])
    with pytest.raises(AuthenticatorRefused):
        authenticator.get(request)
    authenticator.remove(registered.credential_id)
    with pytest.raises(AuthenticatorRefused):
        authenticator.get(authentication_options()[0])


def test_other_sites_credentials_are_not_offered() -> None:
    authenticator = SoftAuthenticator(ORIGIN)
    register(authenticator)
    options = json.loads(options_to_json(generate_authentication_options(rp_id="other.test")))
    with pytest.raises(AuthenticatorRefused):
        authenticator.get(options)


def test_create_requires_es256() -> None:
    options, _ = registration_options()
    options["pubKeyCredParams"] = [{"type": "public-key", "alg": -257}]
    with pytest.raises(AuthenticatorRefused):
        SoftAuthenticator(ORIGIN).create(options)
