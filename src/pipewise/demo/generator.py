"""Plausible companies and people from the word lists, reproducible from a seed."""

import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import phonenumbers

from pipewise.demo.words import (
    AREA_CODES,
    COMPANY_SIZES,
    COUNTRIES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    NAME_ENDINGS,
    NAME_ROOTS,
    TITLES_BY_SENIORITY,
    Country,
)

# Letters that NFKD does not split into a base letter and an accent.
_ASCII_FOLDS = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "å": "a", "Å": "A", "'": ""})


def ascii_slug(text: str, separator: str = "") -> str:
    """Lower-case ASCII letters and digits, for domains and e-mail local parts."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLDS))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", separator, plain).strip(separator)


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    size: int
    country: Country


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    timezone: str
    seniority: int  # 0 = executive … 3 = individual contributor


class DemoGenerator:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self._domains: set[str] = set()
        self._emails: set[str] = set()
        self._country_weights = [c.weight for c in COUNTRIES]

    def country(self) -> Country:
        return self.rng.choices(COUNTRIES, weights=self._country_weights)[0]

    def company(self, country: Country | None = None) -> Company:
        country = country or self.country()
        industry = self.rng.choice(list(INDUSTRIES))
        while True:
            base = self._company_base(industry, country)
            domain = self._unique_domain(base, country)
            if domain is not None:
                break
        legal_form = self.rng.choice(country.legal_forms)
        name = f"{base} {legal_form}".strip()
        size = self.rng.choice(COMPANY_SIZES)
        size = max(1, int(size * self.rng.uniform(0.8, 1.25)))
        return Company(name=name, domain=domain, industry=industry, size=size, country=country)

    def _company_base(self, industry: str, country: Country) -> str:
        style = self.rng.random()
        if style < 0.35:
            return self.rng.choice(NAME_ROOTS) + self.rng.choice(NAME_ENDINGS)
        if style < 0.85:
            return f"{self.rng.choice(NAME_ROOTS)} {self.rng.choice(INDUSTRIES[industry])}"
        first, second = self.rng.sample(list(LAST_NAMES[country.names]), 2)
        return f"{first} & {second}"

    def _unique_domain(self, base: str, country: Country) -> str | None:
        slug = ascii_slug(base.replace("&", "and"))
        tlds = (country.tld, "com", "io") if country.tld != "com" else ("com", "io", "co")
        for tld in tlds:
            domain = f"{slug}.{tld}"
            if domain not in self._domains:
                self._domains.add(domain)
                return domain
        return None

    def person(self, country: Country, domain: str, *, seniority: int | None = None) -> Person:
        first = self.rng.choice(FIRST_NAMES[country.names])
        last = self.rng.choice(LAST_NAMES[country.names])
        if seniority is None:
            seniority = self.rng.choices(range(len(TITLES_BY_SENIORITY)), weights=(1, 3, 4, 4))[0]
        return Person(
            first_name=first,
            last_name=last,
            email=self._unique_email(first, last, domain),
            phone=self.phone(country.code),
            title=self.rng.choice(TITLES_BY_SENIORITY[seniority]),
            timezone=self.rng.choice(country.timezones),
            seniority=seniority,
        )

    def _unique_email(self, first: str, last: str, domain: str) -> str:
        first_slug, last_slug = ascii_slug(first), ascii_slug(last)
        candidates = (f"{first_slug}.{last_slug}", f"{first_slug[0]}{last_slug}", f"{first_slug}{last_slug}")
        for local in candidates:
            email = f"{local}@{domain}"
            if email not in self._emails:
                self._emails.add(email)
                return email
        n = 2
        while f"{first_slug}.{last_slug}{n}@{domain}" in self._emails:
            n += 1
        email = f"{first_slug}.{last_slug}{n}@{domain}"
        self._emails.add(email)
        return email

    def phone(self, region: str) -> str:
        """A valid E.164 number: the region's example number with its subscriber digits varied."""
        kind = phonenumbers.PhoneNumberType.MOBILE if self.rng.random() < 0.5 else phonenumbers.PhoneNumberType.FIXED_LINE
        example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
        national = str(example.national_number)
        if region in AREA_CODES:
            national = str(self.rng.choice(AREA_CODES[region])) + national[3:]
        varied_digits = min(7, len(national) - 3)
        for _ in range(30):
            varied = national[:-varied_digits] + str(self.rng.randrange(10**varied_digits)).zfill(varied_digits)
            number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(varied))
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)

    def deal_amount(self, company_size: int) -> Decimal:
        """Larger companies buy more; rounded the way people quote (to 500)."""
        base = 4_000 + company_size * self.rng.uniform(8, 30)
        amount = min(base * self.rng.lognormvariate(0, 0.5), 750_000)
        return Decimal(max(500, round(amount / 500) * 500))


@dataclass
class AccountFacts:
    id: uuid.UUID
    company: Company
    owner_id: uuid.UUID
    created_at: datetime
    contact_ids: list[uuid.UUID] = field(default_factory=list)
