from pipewise.demo.generator import DemoGenerator, ascii_slug
from pipewise.records.normalize import normalize_domain, normalize_email, normalize_phone


class TestDemoGenerator:
    def test_same_seed_same_companies(self):  # type: ignore[no-untyped-def]
        first, again = DemoGenerator(3), DemoGenerator(3)
        assert [first.company() for _ in range(20)] == [again.company() for _ in range(20)]

    def test_values_pass_the_services_normalisers(self):  # type: ignore[no-untyped-def]
        words = DemoGenerator(11)
        for _ in range(300):
            company = words.company()
            person = words.person(company.country, company.domain)
            assert normalize_domain(company.domain) == company.domain
            assert normalize_email(person.email) == person.email
            assert normalize_phone(person.phone) == person.phone  # valid E.164
            assert person.email.endswith("@" + company.domain)

    def test_domains_and_emails_are_unique(self):  # type: ignore[no-untyped-def]
        words = DemoGenerator(5)
        companies = [words.company() for _ in range(1500)]
        assert len({c.domain for c in companies}) == len(companies)
        people = [words.person(companies[0].country, companies[0].domain) for _ in range(200)]
        assert len({p.email for p in people}) == len(people)

    def test_slugs_are_plain_ascii(self):  # type: ignore[no-untyped-def]
        assert ascii_slug("Jørgen Müller-Sørensen") == "jorgenmullersorensen"
        assert ascii_slug("de Wit", ".") == "de.wit"
