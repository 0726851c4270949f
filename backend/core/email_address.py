"""One spelling per email address, used wherever an address is stored, looked up or counted.

Two spellings of one address must be one account, and an account must log in with any spelling
it registered with. An address is normalised as:
- Unicode NFC, so a decomposed `é` (e + U+0301) equals the composed one;
- the domain in Unicode form (IDNA: `xn--bcher-kva.example` is `bücher.example`), as
  email-validator — behind pydantic's EmailStr — stores it;
- lower case, everywhere (`str.lower`, not full case folding: addresses stored before this rule
  were lower-cased, and full folding would turn their `ß` into `ss` and lock them out).
MongoDB's case-insensitive collation would match case on its own; mongomock ignores collations,
and login's form field is no EmailStr at all, so the app normalises every address itself.
"""

import unicodedata

import idna


def normalize_email(email: str) -> str:
    address = unicodedata.normalize("NFC", email.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    return f"{local.lower()}@{_unicode_domain(domain)}"


def _unicode_domain(domain: str) -> str:
    domain = domain.lower().rstrip(".")
    if "xn--" not in domain:
        return domain
    try:
        return unicodedata.normalize("NFC", idna.decode(domain)).lower()
    except (idna.IDNAError, UnicodeError, ValueError):  # not a valid IDN: compare it as written
        return domain
