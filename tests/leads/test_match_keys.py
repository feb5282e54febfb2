"""Blocking keys: a lead is compared only with the records that share one of its keys, found
by index lookups whose cost does not depend on the size of the database."""

import itertools
import random
import uuid

from sqlalchemy import delete, event, func, select

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.service import account_service
from pipewise.leads import dedup, match_keys
from pipewise.leads.match_keys import MAX_BLOCK, keys_of, lookups_of
from pipewise.leads.models import MatchKey
from pipewise.leads.service import lead_service
from pipewise.leads.similarity import DEFAULT_THRESHOLD, Person, compare, fold
from tests.leads.support import drain


def person(first, last, company=None, email=None, domain=None, phone=None, record_type="lead"):
    return Person(record_type, None, first, last, email, phone, company, domain)


def keys_in_db(session, record_id) -> set[str]:
    return set(session.scalars(select(MatchKey.key).where(MatchKey.record_id == record_id)))


def found_before(a: Person, b: Person) -> bool:
    """Whether the check before keys loaded ``b`` as a candidate for ``a``: the same e-mail,
    surname or phone, or (a lead) the same company domain."""
    return bool((a.email and a.email == b.email) or (a.phone and a.phone == b.phone) or a.last_name == b.last_name
                or (a.domain and a.domain == b.domain and b.record_type == "lead"))


class TestKeys:
    def test_every_pair_the_check_found_before_shares_a_key(self):
        """Whatever ``compare`` matched among the candidates the check used to load, the
        keys find: the lookups of one side meet the stored keys of the other."""
        rng = random.Random(5)
        firsts = ["Jon", "John", "Jonathan", "J", "Ann", "Anne", "Anna", "Grace", "Ada", "Katherine", "Catherine"]
        lasts = ["Smith", "Smyth", "Lovelace", "Hopper", "Johnson", "Jonson"]
        companies = ["Acme Inc.", "ACME", "Acme 2", "Studio 54", "Studio 55", "US Navy", "U.S. Navy", "The Boeing Company",
                     "Boeing", "NASA Langley", "NASA Langley Research", None, "Initech"]
        people = [person(rng.choice(firsts), rng.choice(lasts), rng.choice(companies),
                         email=rng.choice([None, "a@x.example", "b@x.example"]), domain=rng.choice([None, "x.example", "y.example"]),
                         phone=rng.choice([None, "+14155550100"]), record_type=rng.choice(["lead", "contact"]))
                  for _ in range(250)]
        matched = 0
        for a, b in itertools.permutations(people, 2):
            result = compare(a, b)
            if result is None or result[0] < DEFAULT_THRESHOLD or not found_before(a, b):
                continue
            matched += 1
            assert lookups_of(a) & keys_of(b), (a, b, result)
        assert matched > 1000

    def test_the_company_key_reads_past_punctuation_suffixes_and_articles(self):
        assert match_keys.company_letters("U.S. Navy") == match_keys.company_letters("US Navy") == "usnav"
        assert match_keys.company_letters("The Boeing Company") == match_keys.company_letters("Boeing") == "boein"
        assert match_keys.company_letters("Inc.") == ""

    def test_a_person_with_a_company_looks_for_namesakes_without_one(self):
        with_company, without = person("Grace", "Hopper", "US Navy"), person("G", "Hopper")
        assert "n0:hopper|g" in lookups_of(with_company) and "n0:hopper|g" in keys_of(without)
        assert "n:hopper|g" in lookups_of(without) and "n:hopper|g" in keys_of(with_company)
        assert not any(key.startswith("n0:") for key in keys_of(with_company))


class TestOnCreateAndUpdate:
    def test_a_lead_gets_its_keys_from_the_worker_right_after_commit(self, session, factory):
        """The request that creates a lead does not wait for its keys: the worker writes them
        with the fuzzy check that reads them."""
        lead = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example", company="US Navy", phone="+14155550100")
        assert keys_in_db(session, lead.id) == set()
        drain(session)
        assert keys_in_db(session, lead.id) == keys_of(match_keys.person_of(lead)) == {
            "e:grace@navy.example", "p:+14155550100", "n:hopper|g", "nc:H160|usnav", "nd:H160|navy.example", "ni:gh|navy.example"}

    def test_a_change_of_name_or_address_changes_the_keys(self, session, factory):
        lead = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example", company="US Navy")
        lead_service.update(session, lead, data={"last_name": "Murray", "email": "grace@yale.example"}, actor=SYSTEM_ACTOR)
        session.flush()
        assert keys_in_db(session, lead.id) == keys_of(match_keys.person_of(lead))
        assert "e:grace@navy.example" not in keys_in_db(session, lead.id)

    def test_a_contact_gets_its_keys_from_the_worker_and_follows_its_account(self, session, factory):
        account = factory.account(name="Engines Ltd", domain="engines.example")
        contact = factory.contact(first_name="Ada", last_name="Lovelace", email="ada@engines.example", account_id=account.id)
        assert keys_in_db(session, contact.id) == set()
        drain(session)
        assert "nc:L142|engin" in keys_in_db(session, contact.id)
        account_service.update(session, session.merge(account), data={"name": "Analytical Works"}, actor=SYSTEM_ACTOR)
        drain(session)
        assert "nc:L142|analy" in keys_in_db(session, contact.id)


class TestLookups:
    def test_the_cost_of_a_check_does_not_grow_with_the_people_at_the_same_company(self, session, factory):
        """The check before keys loaded everyone at the new lead's domain (up to 500)."""
        for n in range(120):
            factory.lead(first_name=f"Person{n}", last_name=f"Colleague{n}", email=f"p{n}@acme.example", company="Acme")
        newcomer = person("Grace", "Hopper", "Acme", email="grace@acme.example", domain="acme.example")
        block = match_keys.lookup(session, lookups_of(newcomer))
        assert sum(len(ids) for ids in block.ids.values()) == 0

        statements = []
        event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
        dedup.find_matches(session, newcomer)
        assert len(statements) <= 3

    def test_keys_written_earlier_in_the_same_transaction_are_found(self, session, factory):
        """Keys go out with the transaction's deferred rows; a lookup later in the same
        transaction (a worker batch: a contact's event, then a lead's) still finds them."""
        contact = factory.contact(first_name="Grace", last_name="Hopper", email="grace@navy.example")
        session.execute(delete(MatchKey).where(MatchKey.record_id == contact.id))
        assert match_keys.refresh(session, "contact", [contact.id]) > 0  # waiting, not yet written
        newcomer = person("Grace", "Hopper", email="grace@navy.example")
        block = match_keys.lookup(session, lookups_of(newcomer))
        assert contact.id in {member for members in block.ids.values() for member in members}

    def test_a_key_shared_by_more_than_a_block_says_little_but_an_address_always_counts(self, session, factory):
        """Without a company, a namesake is a likely duplicate (``compare``): under a common
        name there are too many to compare, the e-mail is still followed."""
        for n in range(MAX_BLOCK + 5):
            factory.lead(first_name="John", last_name="Smith", email=f"john{n}@mail{n}.example", company=None)
        twin = factory.lead(first_name="John", last_name="Smith", email="john3@mail3.example", company=None)
        drain(session)
        assert "n:smith|j" in lookups_of(match_keys.person_of(twin))
        found = dedup.find_matches(session, match_keys.person_of(twin))
        assert [m.reason for m in found] == [dedup.SAME_EMAIL]
        rare = factory.lead(first_name="Jon", last_name="Smithers", email="jon@mail.example", company=None)
        namesake = factory.lead(first_name="Jon", last_name="Smithers", email="j.smithers@other.example", company=None)
        drain(session)
        assert [m.id for m in dedup.find_matches(session, match_keys.person_of(namesake))] == [rare.id]

    def test_keys_that_no_longer_fit_their_record_are_dropped_when_met(self, session, factory):
        gone = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example")
        drain(session)
        session.execute(delete(gone.__class__).where(gone.__class__.id == gone.id))  # deleted by some other path
        assert keys_in_db(session, gone.id)
        assert dedup.find_matches(session, person("Grace", "Hopper", email="grace@navy.example")) == []
        # The keys the lookup met are gone; the others go when a lookup meets them.
        assert not keys_in_db(session, gone.id) & {"e:grace@navy.example", "n:hopper|g"}
        assert "nd:H160|navy.example" in keys_in_db(session, gone.id)


class TestBackfill:
    def test_the_keys_of_stored_leads_and_contacts_are_filled_in(self, session, factory):
        lead = factory.lead(first_name="Grace", last_name="Hopper", email="grace@navy.example")
        account = factory.account(name="Engines Ltd", domain="engines.example")
        contact = factory.contact(first_name="Ada", last_name="Lovelace", email="ada@engines.example", account_id=account.id)
        session.execute(delete(MatchKey))
        written = match_keys.backfill(session.connection(), chunk=1)
        assert keys_in_db(session, lead.id) == keys_of(match_keys.person_of(lead))
        assert "nc:L142|engin" in keys_in_db(session, contact.id)
        assert written == session.scalar(select(func.count()).select_from(MatchKey))
        assert fold("Ada") == "ada"


class TestPeople:
    def test_people_by_id_read_plainly_answer_as_the_expanding_statement_does(self, session, factory):
        """Up to PLAIN_PEOPLE ids the read is a plain statement compiled per count; past it,
        SQLAlchemy's expanding one. Both give the same people, a contact's company its account's."""
        account = factory.account(name="Engines Ltd", domain="engines.example")
        leads = [factory.lead(first_name=f"L{n}", last_name=f"Lead{n}", phone="+14155550100") for n in range(40)]
        contacts = [factory.contact(last_name=f"Contact{n}", account_id=account.id if n % 2 else None) for n in range(5)]
        session.flush()

        def expanded(record_type: str, ids: list) -> list[Person]:  # type: ignore[type-arg]
            rows = session.connection().execute(match_keys._PEOPLE[record_type], {"ids": ids})
            return sorted((Person(record_type, *row) for row in rows), key=lambda p: p.id)

        for count in (1, 2, match_keys.PLAIN_PEOPLE, match_keys.PLAIN_PEOPLE + 1, 40):
            ids = [lead.id for lead in leads[:count]]
            found = sorted(match_keys.people(session, "lead", ids), key=lambda p: p.id)
            assert found == expanded("lead", ids) and len(found) == count
        ids = [contact.id for contact in contacts]
        found = sorted(match_keys.people(session, "contact", ids), key=lambda p: p.id)
        assert found == expanded("contact", ids)
        assert {p.company for p in found} == {"Engines Ltd", None} and {p.domain for p in found} == {"engines.example", None}
        assert match_keys.people(session, "lead", []) == []
        assert match_keys.people(session, "lead", [uuid.uuid4()]) == []
