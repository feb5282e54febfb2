"""E-mail normalisation: the fast path for plain addresses gives what email-validator gives."""

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from pipewise.records.normalize import _plain_email, normalize_email


def _by_email_validator(value: str) -> str | None:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    local, _, domain = result.normalized.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


EDGES = [
    "Ada.Lovelace@Example.COM", "a@b.co", "x@localhost", "x@host.local", "x@a.test", "x@my.onion",
    "x@example.invalid", "x@in-addr.arpa", "x@123.com", "x@com", "x@a.c", "x@a.c1", "x@a-.com", "x@-a.com",
    "x@ab--cd.com", "x@xn--bcher-kva.example", ".x@a.com", "x.@a.com", "x..y@a.com", "o'brien+tag@mail.example",
    "{weird}|~@ok.example", "a" * 64 + "@a.com", "a" * 65 + "@a.com", "x@" + "a" * 63 + ".com",
    "x@" + "a" * 64 + ".com", "x@" + ".".join(["a" * 60] * 4) + ".com", "x@" + ".".join(["a" * 50] * 5) + ".com",
    "jöhn@example.com", "john@exämple.com", '"quoted"@example.com', "x@[127.0.0.1]", "x@a.com.", "x@.a.com",
    "x y@a.com", "@a.com", "x@", "x@a..com", "UPPER@CASE.ORG", "x@a.co.uk", "x@a.COM",
]
ALPHABET = string.ascii_letters[:6] + string.digits[:3] + ".-_+@'!" + "ÄéX"


def _random_addresses(seed: int, count: int) -> list[str]:
    """Plain addresses with zero to three random edits: most stay plain, the rest sit just
    beside the fast path's edges."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        value = list(rng.choice(["ada.lovelace@example.com", "o-k+tag@mail.co.uk", "x@a1.io", "Bob@Sub.Domain.ORG"]))
        for _edit in range(rng.choice([0, 0, 1, 1, 2, 3])):
            at = rng.randrange(len(value) + 1)
            kind = rng.choice(["insert", "replace", "delete"])
            if kind == "insert":
                value.insert(at, rng.choice(ALPHABET))
            elif at < len(value):
                if kind == "replace":
                    value[at] = rng.choice(ALPHABET)
                else:
                    del value[at]
        made.append("".join(value))
    return made


@pytest.mark.parametrize("value", EDGES)
def test_the_fast_path_agrees_with_email_validator_on_edge_cases(value):
    plain = _plain_email(value)
    assert plain is None or plain == _by_email_validator(value)


def test_the_fast_path_agrees_with_email_validator_on_random_addresses():
    taken = 0
    for value in _random_addresses(seed=7, count=20_000):
        plain = _plain_email(value)
        if plain is not None:
            taken += 1
            assert plain == _by_email_validator(value), value
    assert taken > 1_000  # the comparison covered addresses the fast path took


def test_everything_else_still_gets_email_validators_answer_and_reason():
    assert normalize_email("  Ada@Example.com ") == "ada@example.com"
    assert normalize_email("jöhn@exämple.com") == _by_email_validator("jöhn@exämple.com")
    for rejected in ("x@localhost", "x@a.test", "x..y@a.com", "x@com"):
        with pytest.raises(ValueError, match=r"\w"):
            normalize_email(rejected)
