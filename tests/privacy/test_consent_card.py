"""The contact page's consent card: a record whose "Marketing consent" field was set
before the ledger existed (an import, the demo data) shows that state, marked as coming
from the record, instead of "not recorded" beside a "Granted" field."""

from tests.web.conftest import WebClient


def test_the_records_own_field_shows_when_the_ledger_is_empty(api, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    granted = factory.contact(rep, last_name="Granted", consent_state="granted")
    unknown = factory.contact(rep, last_name="Unknown")
    session.commit()
    web = WebClient(api)
    web.login(rep)

    card = web.get(f"/contacts/{granted.id}/consent").text
    marketing = card.split('data-consent-purpose="marketing_email"')[1].split("</dd>")[0]
    assert "given" in marketing and "on the record, not in the ledger" in marketing
    outreach = card.split('data-consent-purpose="sales_outreach"')[1].split("</dd>")[0]
    assert "not recorded" in outreach

    card = web.get(f"/contacts/{unknown.id}/consent").text
    assert "not recorded" in card.split('data-consent-purpose="marketing_email"')[1].split("</dd>")[0]
