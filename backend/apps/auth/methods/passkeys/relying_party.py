"""The relying party: PUBLIC_URL's host, and the origins passkeys are accepted from.

Its id is the host of PUBLIC_URL (in development, `http://localhost:PORT`), and the origins it
accepts are PUBLIC_URL's and those of CORS_ORIGINS on that host or under it (WebAuthn §5.1.4.1:
the RP id must be the origin's effective domain or a registrable suffix of it). Browsers refuse
IP addresses as RP ids, so with PUBLIC_URL at an IP address passkeys are off and their routes
answer 409 PASSKEYS_UNAVAILABLE with the reason.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from backend.config import Settings


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: list[str]
    unavailable_reason: str | None  # None: passkeys work


def relying_party(settings: Settings) -> RelyingParty:
    url = urlsplit(settings.base_url)
    host = url.hostname or ""
    origins = [f"{url.scheme}://{url.netloc}"]
    for origin in settings.cors_origins:
        other = urlsplit(origin).hostname or ""
        if other == host or other.endswith("." + host):
            origins.append(origin.rstrip("/"))
    reason = None
    try:
        ipaddress.ip_address(host)
        reason = (
            f"Passkeys need a host name, and PUBLIC_URL is at the IP address {host}: browsers refuse "
            "IP addresses as passkey domains. Open the app at a host name and set PUBLIC_URL to it "
            "(for development: http://localhost:8000)."
        )
    except ValueError:
        pass
    return RelyingParty(id=host, name=settings.app_name, origins=origins, unavailable_reason=reason)
