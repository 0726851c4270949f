"""Where a request came from, as people recognise it: "Firefox on Linux", and the IP's network.

`describe_device` follows frontend/src/lib/device.ts's `describeDevice` rule for rule (same
patterns, same order), so the activity log, the new-sign-in mail and the sessions page name a
device alike; backend/tests/auth/test_activity.py checks the two tables agree.
"""

import ipaddress
import re

# (pattern, label), first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = [
    (r"Edg/", "Edge"),
    (r"OPR/", "Opera"),
    (r"HeadlessChrome/", "Headless Chrome"),
    (r"Chrome/", "Chrome"),
    (r"Firefox/", "Firefox"),
    (r"Safari/", "Safari"),
    (r"curl/", "curl"),
    (r"python-httpx|python-requests|aiohttp", "Python script"),
]
SYSTEMS = [
    (r"Android", "Android"),
    (r"iPhone|iPad|iOS", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
]
_BROWSERS = [(re.compile(pattern), label) for pattern, label in BROWSERS]
_SYSTEMS = [(re.compile(pattern), label) for pattern, label in SYSTEMS]


def describe_device(user_agent: str) -> str:
    """'Firefox on Linux' from a User-Agent header; good enough to recognise one's own devices."""
    if not user_agent:
        return "Unknown device"
    browser = next((label for pattern, label in _BROWSERS if pattern.search(user_agent)), "Browser")
    system = next((label for pattern, label in _SYSTEMS if pattern.search(user_agent)), None)
    return f"{browser} on {system}" if system else browser


def ip_network(ip: str) -> str:
    """The network an address belongs to, for "is this a place this account signs in from":
    IPv4 /24, IPv6 /64 (an IPv4-mapped IPv6 address counts as IPv4). Not an address: itself."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
