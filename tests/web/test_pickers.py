"""Searchable pickers: the look-up behind them (visibility and bounds), and forms that
keep a value they were not asked to change and refuse one the user may not see."""

import re
from typing import Any

from sqlalchemy import insert, select

from pipewise.auth.models import User
from pipewise.crm.models import Account, Contact
from pipewise.db.base import uuid7
from pipewise.deals.models import Deal, DealContact
from pipewise.sequences.models import Enrollment
from tests.web.test_records import logged_in, new_contact_form
from tests.web.test_sequences_pages import live

OPTION_RE = re.compile(r'data-value="([^"]+)" data-label="([^"]*)"')


def many(session: Any, model: Any, owner: User | None, count: int, **fields: Any) -> None:
    """``count`` rows of ``model`` in one statement, named so they sort before 'Zulu'."""
    rows = [
        {"id": uuid7(), "owner_id": owner.id if owner else None, "custom": {}, **{k: v.format(n=n) for k, v in fields.items()}}
        for n in range(count)
    ]
    session.execute(insert(model), rows)
    session.flush()


def many_accounts(session: Any, owner: User | None, count: int) -> None:
    many(session, Account, owner, count, name="Account {n:04d}", domain="account{n}.example")


def many_contacts(session: Any, owner: User | None, count: int) -> None:
    many(session, Contact, owner, count, first_name="Bulk", last_name="Person {n:04d}", email="bulk{n}@example.org")


def suggested(web: Any, kind: str, **params: str) -> list[tuple[str, str]]:
    r = web.get(f"/web/lookup/{kind}", params=params)
    assert r.status_code == 200, r.text
    return OPTION_RE.findall(r.text)


def labels(options: list[tuple[str, str]]) -> list[str]:
    return [label for _id, label in options]


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)" data-picker-value>', html)
    assert match, f"no picker for {name}"
    return match.group(1)


def contact_form(contact: Any, **changes: str) -> dict[str, str]:
    """The edit form as the page posts it when nothing was touched but ``changes``."""
    shown = {
        "first_name": contact.first_name or "",
        "last_name": contact.last_name,
        "email": contact.email or "",
        "account_id": str(contact.account_id or ""),
        "owner_id": str(contact.owner_id),
    }
    return new_contact_form(**{**shown, **changes})


class TestLookupVisibility:
    def test_a_rep_is_offered_only_accounts_they_may_see(self, web, factory, session):
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        factory.account(rep, name="Zeta Mine")
        factory.account(None, name="Zeta Shared")
        hidden = factory.account(other, name="Zeta Hidden")
        session.commit()
        assert labels(suggested(web, "account", q="zeta")) == ["Zeta Hidden", "Zeta Mine", "Zeta Shared"][1:]
        # Naming the hidden one as the current value does not bring it in either.
        assert "Zeta Hidden" not in labels(suggested(web, "account", q="", selected=str(hidden.id)))
        assert suggested(web, "account", q="hidden") == []

    def test_an_admin_is_offered_every_account(self, web, factory, session):
        other = factory.user(team=factory.team())
        factory.account(other, name="Zeta Hidden")
        logged_in(web, factory, session, role="admin")
        assert labels(suggested(web, "account", q="zeta")) == ["Zeta Hidden"]

    def test_contacts_are_found_by_name_words_and_e_mail(self, web, factory, session):
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        ada = factory.contact(rep, first_name="Ada", last_name="Lovelace", email="ada@engine.example")
        factory.contact(rep, first_name="Grace", last_name="Hopper", email="grace@navy.example")
        factory.contact(other, first_name="Ada", last_name="Hidden", email="ada@hidden.example")
        session.commit()
        assert suggested(web, "contact", q="ada love") == [(str(ada.id), "Ada Lovelace")]
        assert labels(suggested(web, "contact", q="navy.example")) == ["Grace Hopper"]
        assert labels(suggested(web, "contact", q="ada")) == ["Ada Lovelace"]

    def test_owners_offered_are_active_users(self, web, factory, session):
        factory.user(name="Olga Active")
        factory.user(name="Olaf Gone", is_active=False)
        logged_in(web, factory, session)
        assert labels(suggested(web, "user", q="ol")) == ["Olga Active"]

    def test_with_nothing_typed_the_current_value_comes_first(self, web, factory, session):
        rep = logged_in(web, factory, session)
        many_accounts(session, rep, 30)
        last = factory.account(rep, name="Zulu Last")
        session.commit()
        options = suggested(web, "account", q="", selected=str(last.id))
        assert options[0] == (str(last.id), "Zulu Last") and len(options) == 20

    def test_the_look_up_needs_a_login(self, api):
        r = api.get("/web/lookup/account?q=a", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


class TestLookupBounds:
    def test_suggestions_are_limited(self, web, factory, session):
        rep = logged_in(web, factory, session)
        many_accounts(session, rep, 60)
        session.commit()
        r = web.get("/web/lookup/account", params={"q": "account"})
        assert len(OPTION_RE.findall(r.text)) == 20 and "Type more to narrow the list" in r.text
        assert len(suggested(web, "account", q="account", limit="50")) == 50
        assert labels(suggested(web, "account", q="account 0059")) == ["Account 0059"]

    def test_out_of_bounds_requests_are_refused(self, web, factory, session):
        logged_in(web, factory, session)
        assert web.get("/web/lookup/account", params={"q": "x" * 101}).status_code == 422
        assert web.get("/web/lookup/account", params={"q": "x" * 100}).status_code == 200
        for limit in ("0", "51", "ten", "-1"):
            r = web.get("/web/lookup/account", params={"q": "a", "limit": limit})
            assert r.status_code == 422 and "limit" in r.text, limit
        assert web.get("/web/lookup/password_hash").status_code == 404
        assert web.get("/web/lookup/deal?q=a").status_code == 404

    def test_search_text_is_matched_literally(self, web, factory, session):
        rep = logged_in(web, factory, session)
        factory.account(rep, name="100% Growth")
        factory.account(rep, name="Plain")
        session.commit()
        assert labels(suggested(web, "account", q="%")) == ["100% Growth"]
        assert labels(suggested(web, "account", q="_")) == []
        r = web.get("/web/lookup/account", params={"q": "<script>"})
        assert r.status_code == 200 and "<script>" not in r.text and "&lt;script&gt;" in r.text


class TestFormsKeepWhatTheyDidNotShow:
    def test_an_unchanged_save_keeps_an_account_past_any_page(self, web, factory, session):
        rep = logged_in(web, factory, session)
        many_accounts(session, rep, 600)
        last = factory.account(rep, name="Zulu Last")
        contact = factory.contact(rep, last_name="Linked", account_id=last.id)
        session.commit()
        page = web.get(f"/contacts/{contact.id}/edit").text
        assert hidden_value(page, "account_id") == str(last.id)
        assert 'value="Zulu Last" data-picker-input' in page
        r = web.post(f"/contacts/{contact.id}", contact_form(contact, title="CTO"), follow_redirects=False)
        assert r.status_code == 303
        session.expire_all()
        assert session.get(Contact, contact.id).account_id == last.id

    def test_an_unchanged_save_keeps_an_account_the_editor_cannot_see(self, web, factory, session):
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        theirs = factory.account(other, name="Their Account")
        contact = factory.contact(rep, last_name="Linked")
        contact.account_id = theirs.id  # linked by someone who could see it
        session.commit()
        page = web.get(f"/contacts/{contact.id}/edit").text
        assert hidden_value(page, "account_id") == str(theirs.id)
        assert "Hidden account" in page and "Their Account" not in page
        r = web.post(f"/contacts/{contact.id}", contact_form(contact, title="CTO"), follow_redirects=False)
        assert r.status_code == 303
        session.expire_all()
        saved = session.get(Contact, contact.id)
        assert saved.account_id == theirs.id and saved.title == "CTO"

    def test_clearing_the_picker_unlinks(self, web, factory, session):
        rep = logged_in(web, factory, session)
        account = factory.account(rep)
        contact = factory.contact(rep, account_id=account.id)
        session.commit()
        r = web.post(f"/contacts/{contact.id}", contact_form(contact, account_id=""), follow_redirects=False)
        assert r.status_code == 303
        session.expire_all()
        assert session.get(Contact, contact.id).account_id is None

    def test_new_record_forms_show_a_prefilled_account(self, web, factory, session):
        rep = logged_in(web, factory, session)
        account = factory.account(rep, name="Prefilled Inc")
        session.commit()
        page = web.get(f"/deals/new?account_id={account.id}").text
        assert hidden_value(page, "account_id") == str(account.id) and 'value="Prefilled Inc"' in page

    def test_the_owner_filter_shows_its_owner(self, web, factory, session):
        rep = logged_in(web, factory, session, name="Rhea Rep")
        session.commit()
        page = web.get(f"/contacts?owner_id={rep.id}").text
        assert hidden_value(page, "owner_id") == str(rep.id) and 'value="Rhea Rep" data-picker-input' in page


class TestForeignIdsAreRefused:
    def test_a_contact_cannot_be_linked_to_an_account_the_user_cannot_see(self, web, factory, session):
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        theirs = factory.account(other, name="Their Account")
        mine = factory.account(rep, name="My Account")
        contact = factory.contact(rep, account_id=mine.id)
        session.commit()
        r = web.post(f"/contacts/{contact.id}", contact_form(contact, account_id=str(theirs.id), title="CTO"))
        assert r.status_code == 422
        assert f'id="f-account_id-msg">no account with id {theirs.id}' in r.text
        assert "Their Account" not in r.text
        session.expire_all()
        saved = session.get(Contact, contact.id)
        assert saved.account_id == mine.id and saved.title is None

    def test_a_deal_cannot_be_created_on_an_account_the_user_cannot_see(self, web, factory, session):
        factory.pipeline()
        other = factory.user(team=factory.team())
        logged_in(web, factory, session, team=factory.team())
        theirs = factory.account(other)
        session.commit()
        r = web.post("/deals", {"name": "Sneaky", "currency": "USD", "account_id": str(theirs.id)})
        assert r.status_code == 422 and 'id="f-account_id-msg">no account with id' in r.text
        assert session.scalars(select(Deal).where(Deal.name == "Sneaky")).first() is None

    def test_the_deal_add_contact_picker_refuses_a_hidden_contact(self, web, factory, session):
        factory.pipeline()
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        deal = factory.deal(rep)
        theirs = factory.contact(other)
        mine = factory.contact(rep, last_name="Visible")
        session.commit()
        page = web.get(f"/deals/{deal.id}").text
        assert 'hx-get="/web/lookup/contact"' in page and "<select" not in page.split("Contacts on this deal")[1]
        refused = web.post(f"/deals/{deal.id}/contacts", {"contact_id": str(theirs.id)}, follow_redirects=True)
        assert f"no contact with id {theirs.id}" in refused.text
        web.post(f"/deals/{deal.id}/contacts", {"contact_id": str(mine.id)})
        linked = session.scalars(select(DealContact.contact_id).where(DealContact.deal_id == deal.id)).all()
        assert linked == [mine.id]

    def test_enrollment_refuses_a_hidden_contact_among_visible_ones(self, web, factory, session):
        other = factory.user(team=factory.team())
        rep = logged_in(web, factory, session, team=factory.team())
        sequence = live(session)
        mine, theirs = factory.contact(rep), factory.contact(other)
        session.commit()
        page = web.get("/sequence-enroll").text
        assert 'hx-get="/web/lookup/contact"' in page and "<select name=\"contact_id\"" not in page
        r = web.post("/sequence-enroll", {"sequence_id": str(sequence.id), "contact_id": [str(mine.id), str(theirs.id)]})
        assert r.status_code == 422 and "1 of the chosen contacts are not ones you can see" in r.text
        assert session.scalars(select(Enrollment)).all() == []


def test_a_sequence_keeps_a_sender_past_any_page(web, factory, session):
    """The sequence's "Send as" is a picker too: a sender past the first 500 users is
    shown and kept by an unchanged save."""
    logged_in(web, factory, session, role="admin")
    session.add_all(User(email=f"bulk{n}@example.org", name=f"Bulk User {n:04d}", role="rep") for n in range(600))
    sender = factory.user(name="Zulu Sender")
    sequence = live(session, sender_id=sender.id)
    page = web.get(f"/sequences/{sequence.id}/edit").text
    assert hidden_value(page, "sender_id") == str(sender.id) and 'value="Zulu Sender" data-picker-input' in page
    rules = {"rules.on_reply": "exit", "rules.on_meeting": "exit", "rules.on_manual_touch": "pause",
             "rules.on_deal_created": "pause", "rules.on_deal_stage": "exit"}
    form = {"name": sequence.name, "sender_id": str(sender.id), **rules}
    assert web.post(f"/sequences/{sequence.id}/edit", form, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(type(sequence), sequence.id).sender_id == sender.id
