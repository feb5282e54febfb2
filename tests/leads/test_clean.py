import pytest

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.errors import ValidationFailed
from pipewise.leads import clean
from pipewise.leads.service import lead_service
from pipewise.records import phones


class TestNames:
    @pytest.mark.parametrize(
        ("typed", "tidy"),
        [
            ("  JOHN   o'neil ", "John O'Neil"),
            ("ludwig VAN beethoven", "Ludwig van Beethoven"),
            ("mary-jane MCDONALD", "Mary-Jane McDonald"),
            ("DeShawn", "DeShawn"),
            ("   ", None),
        ],
    )
    def test_tidy_person_name(self, typed, tidy):
        assert clean.tidy_person_name(typed) == tidy


class TestEmail:
    def test_normalised_to_lower_case(self):
        assert clean.clean_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"

    @pytest.mark.parametrize("bad", ["not-an-email", "a@b", "a@@example.com", "a b@example.com", "x@localhost"])
    def test_bad_syntax_is_refused_with_a_reason(self, bad):
        with pytest.raises(ValueError) as exc:
            clean.clean_email(bad)
        assert str(exc.value)

    def test_international_addresses_go_through_email_validator(self):
        assert clean.clean_email("Jürgen@Bücher.de") == "jürgen@bücher.de"


class TestPhone:
    def test_national_number_uses_the_country_as_region(self):
        assert clean.clean_phone("030 1234567", "DE") == "+49301234567"

    def test_us_default(self):
        assert clean.clean_phone("(415) 555-2671", None) == "+14155552671"

    def test_invalid(self):
        with pytest.raises(ValueError):
            clean.clean_phone("12", "US")

    def test_fast_path_agrees_with_phonenumbers(self):
        """The precompiled validity check gives phonenumbers' own answer on numbers of
        every shape: valid and invalid, national and international, shared calling codes."""
        import random

        import phonenumbers

        rng = random.Random(7)
        accepted = refused = 0
        for _ in range(4000):
            region = rng.choice(["US", "CA", "DE", "GB", "FR", "IN", "AU", "BR", "JP", "NL", "CH", "SG", "ZA"])
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
            typed = rng.choice([digits, f"+{rng.choice(['1', '44', '49', '33', '91', '7', '86', '358'])} {digits}"])
            fast = phones.fast_e164(typed, region)
            try:
                number = phonenumbers.parse(typed, region)
            except phonenumbers.NumberParseException:
                assert fast is None, typed
                continue
            if not phonenumbers.is_valid_number(number):
                assert fast is None, typed
                refused += 1
            elif fast is not None:
                assert fast == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                accepted += 1
        assert accepted > 300 and refused > 300

    def test_answers_are_remembered_errors_included(self):
        with pytest.raises(ValueError) as first:
            clean.clean_phone("not a phone", "US")
        with pytest.raises(ValueError) as again:
            clean.clean_phone("not a phone", "US")
        assert str(first.value) == str(again.value) and first.value is not again.value


class TestCountryAndRegion:
    @pytest.mark.parametrize(("typed", "code"), [("Germany", "DE"), ("usa", "US"), ("United Kingdom", "GB"), ("de", "DE"), ("DEU", "DE"), ("India", "IN")])
    def test_country(self, typed, code):
        assert clean.clean_country(typed) == code

    def test_unknown_country(self):
        with pytest.raises(ValueError, match="not a country"):
            clean.clean_country("Atlantis")

    @pytest.mark.parametrize(
        ("typed", "country", "code"),
        [("California", "US", "US-CA"), ("ca", "US", "US-CA"), ("Bavaria", "DE", "DE-BY"), ("us-ny", None, "US-NY"), ("Ontario", "CA", "CA-ON")],
    )
    def test_region(self, typed, country, code):
        assert clean.clean_region(typed, country) == code

    def test_region_of_another_country(self):
        with pytest.raises(ValueError):
            clean.clean_region("US-CA", "DE")


class TestLeadCleaning:
    def test_create_cleans_every_field(self, session, factory):
        lead = lead_service.create(
            session,
            data={
                "first_name": " ada ", "last_name": "LOVELACE", "email": "Ada@Analytical.Engines.co.uk",
                "phone": "020 7946 0018", "country": "United Kingdom", "company": "  Analytical   Engines ",
            },
            actor=SYSTEM_ACTOR,
        )
        assert (lead.first_name, lead.last_name, lead.company) == ("Ada", "Lovelace", "Analytical Engines")
        assert lead.email == "ada@analytical.engines.co.uk"
        assert lead.phone == "+442079460018"
        assert lead.country == "GB"
        assert lead.domain == "analytical.engines.co.uk"

    def test_free_mail_gives_no_company_domain(self, session):
        lead = lead_service.create(session, data={"last_name": "Doe", "email": "jane@gmail.com"}, actor=SYSTEM_ACTOR)
        assert lead.domain is None

    def test_lead_is_linked_to_the_account_of_its_domain(self, session, factory):
        account = factory.account(domain="initech.example")
        lead = lead_service.create(session, data={"last_name": "Waddams", "email": "milton@initech.example"}, actor=SYSTEM_ACTOR)
        assert lead.account_id == account.id

    def test_every_bad_field_is_reported_at_once(self, session):
        with pytest.raises(ValidationFailed) as exc:
            lead_service.create(
                session, data={"last_name": "X", "email": "nope", "phone": "12", "country": "Atlantis"}, actor=SYSTEM_ACTOR
            )
        assert {e.field for e in exc.value.errors} == {"email", "phone", "country"}
