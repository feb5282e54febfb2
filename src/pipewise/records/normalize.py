"""Normalisation of the values people type: e-mail, phone (E.164), web domain, country."""

import re

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from pipewise.records import phones

FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr hotmail.com hotmail.co.uk outlook.com
    live.com msn.com aol.com icloud.com me.com mac.com proton.me protonmail.com gmx.de gmx.net gmx.com
    web.de mail.com yandex.ru yandex.com zoho.com fastmail.com qq.com 163.com 126.com orange.fr free.fr
    laposte.net libero.it t-online.de btinternet.com comcast.net verizon.net att.net sbcglobal.net
    rediffmail.com hey.com tutanota.com""".split()
)


# A plain ASCII address (dot-atom local part, letters-digits-hyphens domain labels, an
# alphabetic top-level domain): what nearly everyone types. email-validator accepts these
# unchanged but for case, after work (Unicode and IDNA handling) that cost as much as the
# rest of a batched create; anything else still goes through it.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_PLAIN_EMAIL = re.compile(
    rf"[{_ATEXT}]{{1,64}}(?:\.[{_ATEXT}]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}"
)
_EMAIL_MAX_LENGTH = 254
_LOCAL_MAX_LENGTH = 64


def _plain_email(value: str) -> str | None:
    """``value`` normalised, if it is a plain address email-validator would take as it is;
    None for everything else (it decides those)."""
    if len(value) > _EMAIL_MAX_LENGTH or not _PLAIN_EMAIL.fullmatch(value):
        return None
    local, _, domain = value.lower().rpartition("@")
    if len(local) > _LOCAL_MAX_LENGTH or "--" in domain:  # "xn--" and other reserved label forms
        return None
    if any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES):
        return None
    return f"{local}@{domain}"


def normalize_email(value: str) -> str:
    """Return the normalised address or raise ValueError with a reason a person can read."""
    plain = _plain_email(value.strip())
    if plain is not None:
        return plain
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    local, _, domain = result.normalized.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


SITE_LOCAL_SUFFIX = ".local"


def normalize_user_email(value: str) -> str:
    """A user's log-in address: like ``normalize_email``, but site-local names such as
    ``admin@pipewise.local`` are allowed (email_validator rejects them as special-use,
    yet self-hosted installations use them for staff accounts)."""
    local, _, domain = value.strip().rpartition("@")
    if not domain.lower().endswith(SITE_LOCAL_SUFFIX):
        return normalize_email(value)
    # Check everything else about the address with a public stand-in for the suffix.
    stand_in = normalize_email(f"{local}@{domain[: -len(SITE_LOCAL_SUFFIX)]}.example")
    return stand_in.removesuffix(".example") + SITE_LOCAL_SUFFIX


def normalize_phone(value: str, default_region: str | None = "US") -> str:
    """E.164, reading national numbers in ``default_region`` (None: only +CC numbers)."""
    fast = phones.fast_e164(value, default_region) if default_region else None
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(value: str) -> str:
    domain = value.strip().lower()
    domain = re.sub(r"^[a-z]+://", "", domain).split("/", 1)[0].split(":", 1)[0]
    domain = domain.removeprefix("www.")
    if not _DOMAIN_RE.match(domain):
        raise ValueError("is not a web domain")
    return domain


def domain_of_email(email: str) -> str | None:
    """The company domain an address implies, or None for free-mail providers."""
    domain = email.rpartition("@")[2].lower()
    return None if not domain or domain in FREE_MAIL_DOMAINS else domain


def normalize_country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError("must be an ISO 3166-1 alpha-2 code such as US or DE")
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{code} is not a known country code")
    return code


def tidy_text(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()
