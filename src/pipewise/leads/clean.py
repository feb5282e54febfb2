"""Cleaning what people type into lead fields: names, e-mail, phone, country and region.

E-mail goes through email-validator and phones through phonenumbers; the fast paths
below only skip work whose answer is already known (a plain ASCII local part, a domain
that was validated before), so an import of 100,000 rows costs little more than reading it."""

import re
from collections.abc import Callable
from functools import lru_cache, wraps

import phonenumbers

from pipewise.records import normalize

# -- names and text --

_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "dos", "das", "ten", "ter"})


def tidy_text(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(value.split()) or None


def _capitalize_word(word: str, first: bool) -> str:
    if not first and word in _PARTICLES:
        return word
    for sep in ("-", "'", "’"):
        if sep in word:
            return sep.join(_capitalize_word(part, True) for part in word.split(sep))
    if word.startswith("mc") and len(word) > 2:
        return "Mc" + word[2:].capitalize()
    return word.capitalize()


@lru_cache(maxsize=16384)  # names repeat: an import meets the same first names again and again
def tidy_person_name(value: str | None) -> str | None:
    """Collapse whitespace and fix the case of words typed all in lower or upper case
    ("JOHN  o'neil" → "John O'Neil"); deliberate mixed case ("DeShawn") stays."""
    tidy = tidy_text(value)
    if tidy is None:
        return None
    words = tidy.split(" ")
    return " ".join(
        _capitalize_word(w.lower(), i == 0) if (w.islower() or w.isupper()) else w for i, w in enumerate(words)
    )


# -- e-mail --

_PLAIN_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@lru_cache(maxsize=65536)
def _checked_domain(domain: str) -> str:
    """The normalised domain, validated once by email-validator; ValueError if it is bad."""
    return normalize.normalize_email(f"x@{domain}").rpartition("@")[2]


def clean_email(value: str) -> str:
    """The normalised address (lower case), or ValueError with a reason a person can read."""
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    if at and len(address) <= 254 and len(local) <= 64 and _PLAIN_LOCAL.match(local):
        try:
            return f"{local}@{_checked_domain(domain)}"
        except ValueError:
            pass  # let the full check word the error
    return normalize.normalize_email(value)


# -- phone --


def _remembered(fn: Callable[..., str]) -> Callable[..., str]:
    """``fn`` with its answers kept for values seen before: its result, or the reason of
    its ValueError (raised anew each time, so no traceback piles up)."""

    @lru_cache(maxsize=16384)
    def outcome(*args: str | None) -> tuple[bool, str]:
        try:
            return True, fn(*args)
        except ValueError as exc:
            return False, str(exc)

    @wraps(fn)
    def remembered(*args: str | None) -> str:
        ok, answer = outcome(*args)
        if not ok:
            raise ValueError(answer)
        return answer

    return remembered


@_remembered
def clean_phone(value: str, default_region: str | None = "US") -> str:
    """E.164, reading national numbers in ``default_region`` (the lead's country when known)."""
    return normalize.normalize_phone(value, default_region or "US")


# -- country and region --

_COUNTRY_ALIASES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "deutschland": "DE", "holland": "NL", "the netherlands": "NL",
    "españa": "ES", "espana": "ES", "schweiz": "CH", "suisse": "CH", "österreich": "AT", "osterreich": "AT",
    "italia": "IT", "brasil": "BR", "méxico": "MX", "uae": "AE", "south korea": "KR", "korea": "KR",
    "russia": "RU", "czech republic": "CZ", "czechia": "CZ", "vietnam": "VN", "ivory coast": "CI",
}


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    # Imported here: the geocoder brings every region's place names (about 100 MB), which
    # only cleaning a country name needs.
    from phonenumbers import geocoder

    names: dict[str, str] = {}
    for code in phonenumbers.SUPPORTED_REGIONS:
        name = geocoder._region_display_name(code, "en", None, None)  # noqa: SLF001 - the only English names shipped
        if name:
            names[name.lower()] = code
            names[name.lower().replace("&", "and")] = code
    names.update(_COUNTRY_ALIASES)
    return names


@_remembered
def clean_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code from a code ("de"), an English name ("Germany") or a
    common alias ("USA", "UK")."""
    text = tidy_text(value) or ""
    if len(text) == 2:
        return normalize.normalize_country(text)
    if len(text) == 3 and text.upper() in _ALPHA3:
        return _ALPHA3[text.upper()]
    code = _country_names().get(text.lower().rstrip("."))
    if code is None:
        raise ValueError(f"{text!r} is not a country we know; use an ISO code such as US or DE")
    return code


_ALPHA3 = {
    "USA": "US", "GBR": "GB", "DEU": "DE", "FRA": "FR", "ESP": "ES", "ITA": "IT", "NLD": "NL", "BEL": "BE",
    "CHE": "CH", "AUT": "AT", "CAN": "CA", "AUS": "AU", "IND": "IN", "BRA": "BR", "MEX": "MX", "JPN": "JP",
    "CHN": "CN", "SWE": "SE", "NOR": "NO", "DNK": "DK", "FIN": "FI", "IRL": "IE", "POL": "PL", "PRT": "PT",
    "NZL": "NZ", "SGP": "SG", "ZAF": "ZA", "ARE": "AE",
}

# ISO 3166-2 subdivisions for the countries where a region is routinely part of an address.
_REGIONS: dict[str, dict[str, str]] = {
    "US": dict(
        AL="Alabama", AK="Alaska", AZ="Arizona", AR="Arkansas", CA="California", CO="Colorado", CT="Connecticut",
        DE="Delaware", FL="Florida", GA="Georgia", HI="Hawaii", ID="Idaho", IL="Illinois", IN="Indiana", IA="Iowa",
        KS="Kansas", KY="Kentucky", LA="Louisiana", ME="Maine", MD="Maryland", MA="Massachusetts", MI="Michigan",
        MN="Minnesota", MS="Mississippi", MO="Missouri", MT="Montana", NE="Nebraska", NV="Nevada",
        NH="New Hampshire", NJ="New Jersey", NM="New Mexico", NY="New York", NC="North Carolina",
        ND="North Dakota", OH="Ohio", OK="Oklahoma", OR="Oregon", PA="Pennsylvania", RI="Rhode Island",
        SC="South Carolina", SD="South Dakota", TN="Tennessee", TX="Texas", UT="Utah", VT="Vermont",
        VA="Virginia", WA="Washington", WV="West Virginia", WI="Wisconsin", WY="Wyoming",
        DC="District of Columbia", PR="Puerto Rico",
    ),
    "CA": dict(
        AB="Alberta", BC="British Columbia", MB="Manitoba", NB="New Brunswick", NL="Newfoundland and Labrador",
        NS="Nova Scotia", NT="Northwest Territories", NU="Nunavut", ON="Ontario", PE="Prince Edward Island",
        QC="Quebec", SK="Saskatchewan", YT="Yukon",
    ),
    "AU": dict(
        NSW="New South Wales", QLD="Queensland", SA="South Australia", TAS="Tasmania", VIC="Victoria",
        WA="Western Australia", ACT="Australian Capital Territory", NT="Northern Territory",
    ),
    "DE": dict(
        BW="Baden-Württemberg", BY="Bayern", BE="Berlin", BB="Brandenburg", HB="Bremen", HH="Hamburg",
        HE="Hessen", MV="Mecklenburg-Vorpommern", NI="Niedersachsen", NW="Nordrhein-Westfalen",
        RP="Rheinland-Pfalz", SL="Saarland", SN="Sachsen", ST="Sachsen-Anhalt", SH="Schleswig-Holstein",
        TH="Thüringen",
    ),
    "IN": dict(
        AP="Andhra Pradesh", AS="Assam", BR="Bihar", DL="Delhi", GA="Goa", GJ="Gujarat", HR="Haryana",
        KA="Karnataka", KL="Kerala", MH="Maharashtra", MP="Madhya Pradesh", OR="Odisha", PB="Punjab",
        RJ="Rajasthan", TN="Tamil Nadu", TG="Telangana", UP="Uttar Pradesh", WB="West Bengal",
    ),
}
_REGION_ALIASES = {"DE": {"bavaria": "BY", "hesse": "HE", "saxony": "SN", "lower saxony": "NI",
                          "north rhine-westphalia": "NW", "thuringia": "TH"}}


@_remembered
def clean_region(value: str, country: str | None) -> str:
    """An ISO 3166-2 code ("US-CA") from "CA", "California" or "US-CA", given the country."""
    text = (tidy_text(value) or "").strip()
    if re.fullmatch(r"[A-Za-z]{2}-[A-Za-z0-9]{1,3}", text):
        prefix, _, sub = text.upper().partition("-")
        if country and prefix != country:
            raise ValueError(f"{text} is not a region of {country}")
        known = _REGIONS.get(prefix)
        if known is not None and sub not in known:
            raise ValueError(f"{text} is not a region of {prefix}")
        return f"{prefix}-{sub}"
    if not country:
        raise ValueError("give the country too, or an ISO 3166-2 code such as US-CA")
    regions = _REGIONS.get(country)
    if regions is None:
        raise ValueError(f"use an ISO 3166-2 code such as {country}-XX for regions of {country}")
    if text.upper() in regions:
        return f"{country}-{text.upper()}"
    lowered = text.lower()
    for code, name in regions.items():
        if name.lower() == lowered:
            return f"{country}-{code}"
    alias = _REGION_ALIASES.get(country, {}).get(lowered)
    if alias:
        return f"{country}-{alias}"
    raise ValueError(f"{text!r} is not a region of {country}")


def company_domain(email: str | None) -> str | None:
    """The company's web domain implied by an address; None for free-mail providers."""
    return normalize.domain_of_email(email) if email else None
