"""How alike two people are: names and companies folded to one form, and a score from 0 to
100 with the reason for it (rapidfuzz). Pure functions, no database: duplicate detection
(``dedup``) and its blocking keys (``match_keys``) are built on them."""

import re
import unicodedata
import uuid
from dataclasses import dataclass
from functools import lru_cache


DEFAULT_THRESHOLD = 85.0
# Names less alike than this are different people, whatever else they share but the e-mail.
NAME_CUTOFF = 75
_DIGITS = re.compile(r"\d+")

_COMPANY_SUFFIXES = re.compile(
    r"\b(incorporated|inc|llc|l\.l\.c|ltd|limited|plc|corp|corporation|co|company|gmbh|ag|sa|sarl|bv|nv|oy|ab|"
    r"as|spa|srl|pty|pvt|kg|se|group|holdings?)\b\.?"
)


# Names and companies repeat across the records compared (a block, a scan, the leads near a
# new one), so their folded forms are remembered.
@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Lower case, accents removed, punctuation to spaces: the form names are compared in."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


@lru_cache(maxsize=65536)
def company_key(name: str | None) -> str:
    return re.sub(r"\s+", " ", _COMPANY_SUFFIXES.sub(" ", fold(name))).strip()


@dataclass(frozen=True)
class Person:
    """What duplicate detection looks at, for a lead or a contact."""

    record_type: str
    id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    domain: str | None = None

    @property
    def name(self) -> str:
        return fold(f"{self.first_name or ''} {self.last_name or ''}")


@dataclass(frozen=True)
class Match:
    record_type: str
    id: uuid.UUID
    score: float
    reason: str


def compare(a: Person, b: Person) -> tuple[float, str] | None:
    """How alike two people are (0–100) and why, or None when they clearly differ."""
    from rapidfuzz import fuzz  # loaded by the worker's first fuzzy check, not in an API process

    if a.email and a.email == b.email:
        return 100.0, "same e-mail address"
    name_score = fuzz.token_sort_ratio(a.name, b.name)
    if name_score < NAME_CUTOFF:
        return None
    # A first initial against a full first name ("J Smith" / "John Smith") is no contradiction.
    if a.last_name and b.last_name and fold(a.last_name) == fold(b.last_name):
        fa, fb = fold(a.first_name), fold(b.first_name)
        if fa and fb and (fa.startswith(fb) or fb.startswith(fa)):
            name_score = max(name_score, 95.0)
    if a.domain and a.domain == b.domain:
        # The domain itself stays out of the reason: a contact's comes from its account,
        # which the person reviewing the pair may not be allowed to see.
        company_score, company_why = 100.0, "same company domain"
    else:
        ca, cb = company_key(a.company), company_key(b.company)
        company_score = fuzz.token_sort_ratio(ca, cb) if ca and cb else None
        if company_score is not None and _DIGITS.findall(ca) != _DIGITS.findall(cb):
            # "Studio 54" and "Studio 55" are two businesses, not one typed twice.
            company_score = min(company_score, 50.0)
        company_why = f"company {company_score:.0f}% alike" if company_score is not None else "no company to compare"
    if a.phone and a.phone == b.phone:
        return max(name_score, 90.0), f"same phone number, name {name_score:.0f}% alike"
    if company_score is None:
        # Without a company, only a near-identical name counts — and then only weakly.
        return (name_score * 0.9, f"name {name_score:.0f}% alike, {company_why}") if name_score >= 95 else None
    score = 0.6 * name_score + 0.4 * company_score
    return score, f"name {name_score:.0f}% alike, {company_why}"


@lru_cache(maxsize=65536)
def _numbers_in(company: str) -> tuple[str, ...]:
    return tuple(_DIGITS.findall(company))


def worth_comparing(person: Person, others: list[Person], threshold: float) -> list[Person]:
    """The ``others`` that ``compare`` could score at ``threshold`` or more, found with one
    vectorised pass over names and one over companies (a big block — a common surname —
    would otherwise be compared one pair at a time). The bound is generous, never tight:
    ``compare`` has the last word."""
    from rapidfuzz import fuzz, process

    if not others:
        return []
    names = process.cdist([person.name], [o.name for o in others], scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF)[0]
    mine = company_key(person.company)
    theirs = [company_key(o.company) for o in others]
    companies = process.cdist([mine], theirs, scorer=fuzz.token_sort_ratio)[0] if mine else None
    kept = []
    for i, other in enumerate(others):
        if (person.email and person.email == other.email) or (person.phone and person.phone == other.phone):
            kept.append(other)
        elif names[i] < NAME_CUTOFF:
            continue
        elif companies is None or not theirs[i] or (person.domain and person.domain == other.domain):
            kept.append(other)
        else:
            company = min(companies[i], 50.0) if _numbers_in(mine) != _numbers_in(theirs[i]) else companies[i]
            # compare() may lift the name score to 95 (an initial against the full first name).
            if 0.6 * max(names[i], 95.0) + 0.4 * company >= threshold:
                kept.append(other)
    return kept
