"""Importing accounts, contacts and deals over the API: mapping, preview, modes, dedup,
lookups and the row report, on real rows where there are some."""

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pipewise.audit.models import AuditEntry
from pipewise.crm.models import Account, Contact
from pipewise.deals.defaults import StageTemplate, create_pipeline
from pipewise.deals.models import Deal, Stage
from tests.dataio.support import DATA, import_and_wait, upload


@pytest.fixture
def rep(factory, session):  # type: ignore[no-untyped-def]
    team = factory.team("East")
    user = factory.user(role="rep", team=team)
    session.commit()
    return user


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.commit()  # a fresh read: the import wrote in its own transactions
    return session.scalar(select(func.count()).select_from(model))


class TestAccountsFromRealData:
    def test_the_85_accounts_land_with_a_guessed_mapping(self, api, factory, session, rep):
        headers = factory.headers(rep)
        content = (DATA / "crm_accounts.csv").read_bytes()
        preview = upload(api, headers, "accounts", content, preview=True)
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["mapping"] == {"account": "name", "sector": "industry", "employees": "size"}
        assert [row["outcome"] for row in body["rows"]] == ["created"] * 10
        assert count(session, Account) == 0, "a preview writes nothing"

        done = import_and_wait(api, headers, "accounts", content)
        session.commit()
        assert (done["status"], done["total_rows"], done["created_count"], done["rejected_count"]) == ("done", 85, 85, 0)
        acme = session.scalar(select(Account).where(Account.name == "Acme Corporation"))
        assert (acme.industry, acme.size, acme.owner_id) == ("technolgy", 2822, rep.id)

    def test_a_country_spelled_out_is_a_problem_of_that_cell(self, api, factory, rep):
        content = (DATA / "crm_accounts.csv").read_bytes()
        preview = upload(api, factory.headers(rep), "accounts", content, preview=True,
                         mapping={"account": "name", "office_location": "country"}).json()
        first = preview["rows"][0]
        assert first["outcome"] == "rejected"
        assert first["errors"] == {"country": "is longer than 2 characters"}
        assert first["cells"] == {"name": "Acme Corporation", "country": "United States"}


class TestDealsFromRealData:
    def test_stages_and_accounts_are_found_by_name(self, api, factory, session, rep):
        create_pipeline(session, name="Sales", stages=(StageTemplate("Prospecting", 10), StageTemplate("Engaging", 40),
                                                       StageTemplate("Won", 100, "won"), StageTemplate("Lost", 0, "lost")))
        session.commit()
        headers = factory.headers(rep)
        import_and_wait(api, headers, "accounts", (DATA / "crm_accounts.csv").read_bytes())
        rows = (DATA / "crm_opportunities_sample.csv").read_text().splitlines()[:61]
        mapping = {"opportunity_id": "name", "account": "account", "deal_stage": "stage", "close_date": "close_date",
                   "close_value": "amount"}
        done = import_and_wait(api, headers, "deals", "\n".join(rows).encode(), mapping=mapping)
        assert done["status"] == "done" and done["total_rows"] == 60
        session.commit()
        source = list(csv.DictReader(io.StringIO("\n".join(rows))))
        deals = {d.name: d for d in session.scalars(select(Deal))}
        stage_names = dict(session.execute(select(Stage.id, Stage.name)).all())
        accounts = dict(session.execute(select(Account.id, Account.name)).all())
        assert done["created_count"] == 60 and {r["deal_stage"] for r in source} == {"Won", "Lost", "Engaging"}
        for row in source:
            deal = deals[row["opportunity_id"]]
            assert stage_names[deal.stage_id] == row["deal_stage"]
            assert accounts.get(deal.account_id) == (row["account"] or None)
            assert deal.amount == (Decimal(row["close_value"]) if row["close_value"] else None)

    def test_an_unknown_stage_or_account_is_named_in_the_report(self, api, factory, session, rep):
        factory.pipeline()
        session.commit()
        content = b"Deal name,Stage,Company\nBig one,Nope,\nOther,Demo,Nobody Inc\n"
        done = import_and_wait(api, factory.headers(rep), "deals", content)
        assert done["rows"][2]["errors"] == {"stage": "no stage you can see is called 'Nope'"}
        assert done["rows"][3]["errors"] == {"account": "no account you can see is called 'Nobody Inc'"}
        assert count(session, Deal) == 0


    def test_a_stage_in_two_pipelines_asks_for_the_pipeline(self, api, factory, session, rep):
        factory.pipeline("Sales")
        factory.pipeline("Renewals")
        session.commit()
        headers = factory.headers(rep)
        ambiguous = import_and_wait(api, headers, "deals", b"Deal name,Stage\nBig one,Demo\n")
        assert ambiguous["rows"][2]["errors"] == {"stage": "'Demo' names more than one stage; map a pipeline column too"}
        done = import_and_wait(api, headers, "deals", b"Deal name,Pipeline,Stage\nBig one,renewals,Demo\n")
        assert done["created_count"] == 1
        session.commit()
        deal = session.scalar(select(Deal))
        stage = session.get(Stage, deal.stage_id)
        assert (stage.name, stage.pipeline_id) == ("Demo", deal.pipeline_id)


class TestAccountsByDomain:
    def test_the_same_domain_written_another_way_updates_the_account(self, api, factory, session, rep):
        account = factory.account(owner=rep, name="Old Engines", domain="engines.example")
        session.commit()
        content = b"Account name,Website,Industry\nAnalytical Engines,https://WWW.Engines.example/about,Computing\n"
        done = import_and_wait(api, factory.headers(rep), "accounts", content, on_duplicate="update")
        assert done["rows"][2]["outcome"] == "updated" and done["rows"][2]["record_id"] == str(account.id)
        session.commit()
        session.refresh(account)
        assert (account.name, account.domain, account.industry) == ("Analytical Engines", "engines.example", "Computing")
        assert count(session, Account) == 1


class TestContacts:
    def test_real_people_with_an_owner_an_account_and_a_custom_field(self, api, factory, session, rep):
        admin = factory.user(role="admin")
        session.commit()
        admin_headers = factory.headers(admin)
        created = api.post("/api/v1/custom-fields", headers=admin_headers,
                           json={"record_type": "contact", "key": "state", "label": "State", "field_type": "text"})
        assert created.status_code == 201, created.text
        factory.account(owner=rep, name="Willaroo Pty", domain="willaroo.example")
        session.commit()
        people = (DATA / "febrl_people_sample.csv").read_text().splitlines()
        lines = [people[0] + ", owner, company"] + [f"{line}, {rep.email}, Willaroo Pty" for line in people[1:]]
        preview = upload(api, admin_headers, "contacts", "\n".join(lines).encode(), preview=True).json()
        assert preview["mapping"] == {"given_name": "first_name", "surname": "last_name", "state": "custom.state",
                                      "owner": "owner_email", "company": "account"}
        assert "custom.state" in preview["fields"]
        done = import_and_wait(api, admin_headers, "contacts", "\n".join(lines).encode())
        assert done["total_rows"] == 40 and done["created_count"] + done["rejected_count"] == 40
        rejected = [row for row in done["rows"].values() if row["outcome"] == "rejected"]
        assert all(row["errors"] == {"last_name": "Field required"} for row in rejected), rejected
        assert {line for line, row in done["rows"].items() if row["outcome"] == "rejected"} == {
            line for line, text in enumerate(people[1:], start=2) if not text.split(",")[2].strip()}
        waller = session.scalar(select(Contact).where(Contact.last_name == "waller"))
        assert waller.first_name is None  # an empty cell sets nothing
        berry = session.scalar(select(Contact).where(Contact.last_name == "berry"))
        assert (berry.first_name, berry.owner_id, berry.custom) == ("lachlan", rep.id, {"state": "qld"})
        assert berry.account_id == session.scalar(select(Account.id).where(Account.name == "Willaroo Pty"))

    def test_same_email_is_skipped_or_updated_as_chosen(self, api, factory, session, rep):
        factory.contact(owner=rep, first_name="Old", last_name="Name", email="ada@engines.example")
        session.commit()
        headers = factory.headers(rep)
        content = b"First name,Last name,Email\nAda,Lovelace,ADA@engines.example\nGrace,Hopper,grace@navy.example\n"
        skipped = import_and_wait(api, headers, "contacts", content)
        assert [skipped["rows"][n]["outcome"] for n in (2, 3)] == ["skipped", "created"]
        updated = import_and_wait(api, headers, "contacts", content, on_duplicate="update")
        assert [updated["rows"][n]["outcome"] for n in (2, 3)] == ["updated", "updated"]
        session.commit()
        ada = session.scalar(select(Contact).where(Contact.email == "ada@engines.example"))
        assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace")
        assert count(session, Contact) == 2

    def test_an_owner_from_another_team_is_refused_for_a_rep(self, api, factory, session, rep):
        stranger = factory.user(role="rep", team=factory.team("West"))
        session.commit()
        content = f"Last name,Owner\nSmith,{stranger.email}\n".encode()
        done = import_and_wait(api, factory.headers(rep), "contacts", content)
        assert done["rows"][2]["errors"] == {"owner_email": f"{stranger.email} is not a user you may assign contacts to"}
        assert count(session, Contact) == 0


BAD_ROW = b"Last name,Email,Phone\nLovelace,ada@engines.example,\nHopper,not-an-address,\nTuring,alan@bletchley.example,\n"


class TestModes:
    def test_all_or_nothing_writes_nothing_when_a_row_is_bad(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", BAD_ROW, mode="all_or_nothing")
        assert done["status"] == "rolled_back"
        assert {n: row["outcome"] for n, row in done["rows"].items()} == {2: "not_written", 3: "rejected", 4: "not_written"}
        assert "email" in done["rows"][3]["errors"]
        assert count(session, Contact) == 0

    def test_per_row_keeps_the_good_rows(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", BAD_ROW)
        assert (done["status"], done["created_count"], done["rejected_count"]) == ("done", 2, 1)
        assert count(session, Contact) == 2

    def test_a_dry_run_tells_and_writes_nothing(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", BAD_ROW, dry_run=True)
        assert done["status"] == "dry_run" and (done["created_count"], done["rejected_count"]) == (2, 1)
        assert [done["rows"][n]["outcome"] for n in (2, 3, 4)] == ["would_create", "rejected", "would_create"]
        assert count(session, Contact) == 0

    def test_the_report_csv_has_a_problem_column_per_field(self, api, factory, rep):
        headers = factory.headers(rep)
        done = import_and_wait(api, headers, "contacts", BAD_ROW + b"=cmd|' /C calc'!A0,x@y.example,\nShort\n")
        report = api.get(f"/api/v1/record-imports/{done['id']}/report.csv", headers=headers)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(report.text)))
        assert rows[0] == ["line", "outcome", "record_id", "problem", "last_name", "email", "phone", "row"]
        by_line = {row[0]: row for row in rows[1:]}
        assert by_line["3"][1] == "rejected" and by_line["3"][5] and not by_line["3"][4]
        assert by_line["3"][7] == "Hopper,not-an-address,"
        assert by_line["6"][3].startswith("has 1 fields where the header has 3")
        assert by_line["5"][1] == "created"

    def test_imports_are_audited(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", BAD_ROW)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
        assert entry.target_id == done["id"] and entry.actor_id == rep.id
        assert entry.details["created_count"] == 2


class TestBadInput:
    @pytest.mark.parametrize(("form", "field"), [
        ({"mode": "sometimes"}, "mode"), ({"on_duplicate": "merge"}, "on_duplicate"), ({"delimiter": "x"}, "delimiter"),
        ({"mapping": "{not json"}, "mapping"),
    ])
    def test_bad_options_are_refused_by_field(self, api, factory, rep, form, field):
        response = upload(api, factory.headers(rep), "contacts", b"Last name\nX\n", **form)
        assert response.status_code == 422, response.text
        assert field in response.text

    def test_a_mapping_without_a_required_field_fails_the_import_with_the_reason(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", b"Email\nada@engines.example\n")
        assert done["status"] == "failed" and "last_name" in done["error"]
        assert count(session, Contact) == 0

    @pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00bad\n", b"a,a\n1,2\n"])
    def test_an_unreadable_file_is_a_preview_error_not_a_500(self, api, factory, rep, content):
        response = upload(api, factory.headers(rep), "contacts", content, preview=True)
        assert response.status_code == 422, response.text

    def test_someone_elses_import_is_not_found(self, api, factory, session, rep):
        done = import_and_wait(api, factory.headers(rep), "contacts", b"Last name\nX\n")
        stranger = factory.user(role="rep", team=factory.team("West"))
        session.commit()
        assert api.get(f"/api/v1/record-imports/{done['id']}", headers=factory.headers(stranger)).status_code == 404
