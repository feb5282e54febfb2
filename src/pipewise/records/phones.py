"""Phone numbers in E.164 without phonenumbers' full parser for the common shapes (+CC
digits, or national digits with a plain national prefix), checked against phonenumbers'
own metadata and validity rules, compiled once: parsing a number took a sixth of a bulk
contact create. Anything else goes to the full parser (``normalize.normalize_phone``)."""

import re
from functools import lru_cache

import phonenumbers

_PHONE_PUNCTUATION = str.maketrans("", "", " -().\u00a0/")
# The number types phonenumbers checks, in its order; a number is valid when the region's
# general pattern and one of these match.
_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
                 "fixed_line", "mobile")
_Pattern = tuple[frozenset[int], "re.Pattern[str]"]


def _compile_desc(desc: "phonenumbers.PhoneNumberDesc | None") -> _Pattern | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=512)
def _region_patterns(region: str) -> tuple[_Pattern | None, list[_Pattern], "re.Pattern[str] | None"] | None:
    """phonenumbers' metadata for ``region``, compiled once: (general pattern, the type
    patterns, the leading digits that claim a number for the region)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    types = [p for p in (_compile_desc(getattr(metadata, name)) for name in _NUMBER_TYPES) if p is not None]
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _compile_desc(metadata.general_desc), types, leading


def _matches(pattern: _Pattern | None, national: str) -> bool:
    if pattern is None:
        return False
    lengths, regex = pattern
    if lengths and len(national) not in lengths:
        return False
    found = regex.match(national)  # phonenumbers' rule: the first match must span it all
    return found is not None and found.end() == len(national)


def _valid_for_region(national: str, region: str) -> bool:
    """phonenumbers.is_valid_number_for_region, on the national significant number."""
    patterns = _region_patterns(region)
    if patterns is None:
        return False
    general, types, _ = patterns
    return _matches(general, national) and any(_matches(t, national) for t in types)


def _valid_number(country_code: int, national: str) -> bool:
    """phonenumbers.is_valid_number: the number belongs to the first region of its
    calling code that claims it (by leading digits, else by a valid pattern)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) == 1:
        return _valid_for_region(national, regions[0])
    for region in regions:
        patterns = _region_patterns(region)
        if patterns is None:
            continue
        leading = patterns[2]
        if leading is not None:
            if leading.match(national):
                return _valid_for_region(national, region)
        elif _valid_for_region(national, region):
            return True
    return False


@lru_cache(maxsize=512)
def _plain_national_prefix(region: str) -> str | None | bool:
    """The region's national prefix when stripping it is all national parsing does
    (no transform rules); False when the region needs the full parser."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix_transform_rule is not None:
        return False
    prefix = metadata.national_prefix
    if metadata.national_prefix_for_parsing not in (None, prefix):
        return False
    return prefix


def fast_e164(value: str, region: str) -> str | None:
    """E.164 for the common shapes (+CC digits, or national digits with a plain national
    prefix), checked with phonenumbers' own validity rules; None to use the full parser."""
    digits = value.translate(_PHONE_PUNCTUATION)
    international = digits.startswith("+")
    if international:
        digits = digits[1:]
    if not digits.isdigit() or not 6 <= len(digits) <= 17:
        return None
    if international:
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                country_code, national = code, digits[size:]
                break
        else:
            return None
    else:
        prefix = _plain_national_prefix(region)
        if prefix is False:
            return None
        country_code = phonenumbers.country_code_for_region(region)
        national = digits[len(prefix):] if prefix and digits.startswith(prefix) else digits
    if not national or national[0] == "0":
        return None  # leading zeros (Italy) need the full parser
    # Checking the expected region first spares the scan over the 25 regions sharing +1.
    in_region = country_code == phonenumbers.country_code_for_region(region) and _valid_for_region(national, region)
    if not in_region and not _valid_number(country_code, national):
        return None
    return f"+{country_code}{national}"
