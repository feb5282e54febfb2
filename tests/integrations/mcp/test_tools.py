"""Every tool of `pipewise mcp`, called by the SDK's client over stdio (and over streamable
HTTP), against the test database: what it answers, what it writes, what a dry run and a
stale version leave untouched, the audit trail, a revoked token and the rate limit."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pipewise.audit.models import AuditEntry
from pipewise.automation.service import workflow_service
from pipewise.auth.models import ApiToken
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Activity, Task
from pipewise.deals.models import Deal
from pipewise.events.models import OutboxEvent
from pipewise.people.service import token_service
from pipewise.sequences.models import Enrollment
from pipewise.sequences.service import sequence_service
from tests.integrations.mcp.conftest import client, http_server, over_http, stdio
from tests.security.world import WORKFLOW, email_sequence

TOOLS = {"search_records", "read_record", "list_sequences", "log_activity", "create_task", "move_deal", "enroll_in_sequence",
         "explain_automation", "run_report"}


@pytest.fixture
def crm(session: Any, factory: Any) -> dict[str, Any]:
    """A rep with a token, their account, contact and deal, another team's contact, and a live sequence."""
    east, west = factory.team("East"), factory.team("West")
    rep = factory.user(team=east, name="Rita Rep")
    stranger = factory.user(team=west)
    _pipeline, stages = factory.pipeline()
    account = factory.account(owner=rep, name="Zebra Globex", domain="zebra-globex.example")
    contact = factory.contact(owner=rep, first_name="Quinn", last_name="Zebrafish", email="quinn@globex-zebra.example",
                              account_id=account.id)
    hidden = factory.contact(owner=stranger, first_name="Hidden", last_name="Zebrawood", email="hid@west.example")
    deal = factory.deal(owner=rep, name="Zebra renewal", stage_id=stages[0].id, account_id=account.id)
    sequence = sequence_service.create(session, data=email_sequence("Welcome"), actor=SYSTEM_ACTOR)
    sequence_service.activate(session, sequence.id, actor=SYSTEM_ACTOR)
    workflow = workflow_service.create(session, name="Nurture new contacts", definition=WORKFLOW, actor=SYSTEM_ACTOR)
    workflow_service.activate(session, workflow.id, actor=SYSTEM_ACTOR)
    workflow_service.enroll_records(session, workflow.id, [contact.id], actor=SYSTEM_ACTOR)
    session.commit()
    return {"rep": rep, "token": factory.token(rep), "account": account, "contact": contact, "hidden": hidden,
            "deal": deal, "stages": stages, "sequence": sequence}


def fresh(session: Any) -> None:
    """See what the server process wrote: a new snapshot, nothing kept from before."""
    session.commit()
    session.expire_all()


def count(session: Any, model: Any, *where: Any) -> int:
    fresh(session)
    return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def mcp_entries(session: Any, action: str) -> list[AuditEntry]:
    fresh(session)
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_every_tool_over_stdio(session, crm):  # type: ignore[no-untyped-def]
    contact, deal, stages = crm["contact"], crm["deal"], crm["stages"]
    with client(stdio(crm["token"])) as mcp:
        assert set(mcp.tools()) == TOOLS

        # search: what the rep may see, not another team's namesake
        found = mcp.call("search_records", query="zebra")
        assert found.ok, found.text
        ids = {r["id"] for r in found.data["results"]}
        assert {str(contact.id), str(crm["account"].id), str(deal.id)} <= ids
        assert str(crm["hidden"].id) not in ids

        # read: the record, its version, its timeline
        read = mcp.call("read_record", record_type="contact", record_id=contact.id)
        assert read.ok, read.text
        assert read.data["record"]["email"] == "quinn@globex-zebra.example"
        version = read.data["record"]["version"]
        assert any(e["title"] == "Created" for e in read.data["timeline"])
        assert mcp.call("read_record", record_type="contact", record_id=crm["hidden"].id).status == 404

        # log an activity: a dry run writes nothing, a stale version is refused, then it is logged
        activities = count(session, Activity, Activity.contact_id == contact.id)
        dry = mcp.call("log_activity", record_type="contact", record_id=contact.id, type="call", subject="Discovery call",
                       version=version, dry_run=True)
        assert dry.ok and dry.data["dry_run"] is True and dry.data["activity"]["subject"] == "Discovery call"
        assert count(session, Activity, Activity.contact_id == contact.id) == activities
        stale = mcp.call("log_activity", record_type="contact", record_id=contact.id, type="call", subject="x",
                         version=version + 7)
        assert stale.status == 412 and "read it again" in stale.text
        bad = mcp.call("log_activity", record_type="contact", record_id=contact.id, type="call", subject="")
        assert bad.status == 422
        assert [e["field"] for e in bad.data["error"]["errors"]] == ["subject"]
        logged = mcp.call("log_activity", record_type="contact", record_id=contact.id, type="call",
                          subject="Discovery call", body="Wants a demo", version=version)
        assert logged.ok and logged.data["dry_run"] is False, logged.text
        assert count(session, Activity, Activity.contact_id == contact.id) == activities + 1
        [entry] = mcp_entries(session, "mcp.log_activity")
        assert (entry.channel, entry.actor_id, entry.via) == ("mcp", crm["rep"].id, "MCP tool log_activity")
        assert (entry.target_type, entry.target_id) == ("contact", str(contact.id))
        assert len(mcp_entries(session, "mcp.log_activity")) == 1  # the dry run left no entry

        # a task on the deal
        due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert mcp.call("create_task", title="Send the proposal", record_type="deal", record_id=deal.id, due_at=due,
                        dry_run=True).ok
        assert count(session, Task, Task.related_id == deal.id) == 0
        task = mcp.call("create_task", title="Send the proposal", record_type="deal", record_id=deal.id, due_at=due)
        assert task.ok and task.data["task"]["owner_id"] == str(crm["rep"].id), task.text
        assert count(session, Task, Task.related_id == deal.id) == 1
        assert mcp.call("create_task", title="x", version=3).status == 422  # a version names a record

        # enroll in the sequence: dry run, then for real; a second time is a conflict
        sequence = crm["sequence"]
        listed = mcp.call("list_sequences")
        assert [q["id"] for q in listed.data["sequences"]] == [str(sequence.id)], listed.text
        assert mcp.call("enroll_in_sequence", sequence_id=sequence.id, contact_id=contact.id, dry_run=True).ok
        assert count(session, Enrollment, Enrollment.contact_id == contact.id) == 0
        enrolled = mcp.call("enroll_in_sequence", sequence_id=sequence.id, contact_id=contact.id, reason="asked for it")
        # the rep's own call just now holds the automated e-mail back (sales signals outrank schedules)
        assert enrolled.ok and enrolled.data["enrollment"]["status"] == "paused", enrolled.text
        assert count(session, Enrollment, Enrollment.contact_id == contact.id) == 1
        assert mcp.call("enroll_in_sequence", sequence_id=sequence.id, contact_id=contact.id).status == 409

        # move the deal: dry run, stale version, then for real
        read_deal = mcp.call("read_record", record_type="deal", record_id=deal.id).data
        assert [st["name"] for st in read_deal["stages"]][:2] == ["Qualification", "Demo"]
        deal_version = read_deal["record"]["version"]
        events = count(session, OutboxEvent)
        moved = mcp.call("move_deal", deal_id=deal.id, stage_id=stages[1].id, version=deal_version, dry_run=True)
        assert moved.ok and moved.data["deal"]["stage_id"] == str(stages[1].id), moved.text
        fresh(session)
        assert session.get(Deal, deal.id).stage_id == stages[0].id
        assert count(session, OutboxEvent) == events  # no event of a change that did not happen
        assert mcp.call("move_deal", deal_id=deal.id, stage_id=stages[1].id, version=deal_version - 1).status == 412
        assert mcp.call("move_deal", deal_id=deal.id, stage_id=stages[1].id, version=deal_version).ok
        fresh(session)
        assert session.get(Deal, deal.id).stage_id == stages[1].id
        assert count(session, OutboxEvent) > events

        # why automation did what it did
        why = mcp.call("explain_automation", record_type="contact", record_id=contact.id)
        assert why.ok, why.text
        reasons = [d["why"] or "" for d in why.data["decisions"]]
        assert any(d["what"].startswith("Nurture new contacts (v1) — Enrolled") for d in why.data["decisions"]), why.data
        assert any("enrolled by" in r and "asked for it" in r for r in reasons), reasons
        assert any("called Quinn Zebrafish by hand" in r for r in reasons), reasons

        # a report, and a bad filter named by its field
        report = mcp.call("run_report", report="pipeline")
        assert report.ok and "tables" in report.data, report.text
        assert mcp.call("run_report", report="pipeline", start="yesterday").data["error"]["errors"][0]["field"] == "start"
        assert not mcp.call("run_report", report="no-such-report").ok

        # arguments of the wrong type: a message per field, as for any invalid field
        wrong = mcp.call("move_deal", deal_id="not-an-id", stage_id=stages[1].id, dry_run="perhaps")
        assert wrong.status == 422, wrong.text
        assert {e["field"] for e in wrong.data["error"]["errors"]} == {"deal_id", "dry_run"}


def test_a_revoked_token_is_refused_at_once(session, crm):  # type: ignore[no-untyped-def]
    with client(stdio(crm["token"])) as mcp:
        assert mcp.call("read_record", record_type="deal", record_id=crm["deal"].id).ok
        [token] = token_service_tokens(session, crm["rep"])
        token_service.revoke(session, token_id=token.id, user=crm["rep"])
        session.commit()
        refused = mcp.call("read_record", record_type="deal", record_id=crm["deal"].id)
        assert refused.status == 401 and "revoked" in refused.text


def token_service_tokens(session: Any, user: Any) -> list[Any]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def test_the_command_refuses_a_bad_token_before_serving(cli):  # type: ignore[no-untyped-def]
    result = cli("mcp", "--token", "pw_not-a-token")
    assert result.exit_code != 0
    assert "unknown, revoked" in result.output


def test_calls_are_rate_limited_per_token(crm):  # type: ignore[no-untyped-def]
    with client(stdio(crm["token"], "--calls-per-minute", "3")) as mcp:
        answers = [mcp.call("search_records", query="zebra") for _ in range(4)]
    assert [a.ok for a in answers] == [True, True, True, False]
    assert answers[3].status == 429 and "wait" in answers[3].text


def test_streamable_http_authenticates_each_request(session, factory, crm):  # type: ignore[no-untyped-def]
    stranger_token = factory.token(session.get(type(crm["rep"]), crm["hidden"].owner_id))
    with http_server(calls_per_minute=5) as url:
        assert httpx.post(url, json={}).status_code == 401  # no token: refused before MCP reads a byte
        with client(over_http(url, crm["token"])) as mcp:
            assert set(mcp.tools()) == TOOLS
            assert mcp.call("read_record", record_type="contact", record_id=crm["contact"].id).ok
            logged = mcp.call("log_activity", record_type="contact", record_id=crm["contact"].id, type="note",
                              subject="Over HTTP")
            assert logged.ok, logged.text
        [entry] = mcp_entries(session, "mcp.log_activity")
        assert entry.channel == "mcp"
        with client(over_http(url, stranger_token)) as other:  # another person, another team: hidden
            assert other.call("read_record", record_type="contact", record_id=crm["contact"].id).status == 404
            assert other.call("read_record", record_type="contact", record_id=crm["hidden"].id).ok
        with client(over_http(url, "pw_revoked-or-never-issued")) as forged:
            assert forged.call("search_records", query="zebra").status == 401
        with client(over_http(url, crm["token"])) as mcp:  # the limit spans the token's sessions
            answers = [mcp.call("search_records", query="zebra") for _ in range(4)]
        assert [a.status for a in answers] == [200, 200, 200, 429]
