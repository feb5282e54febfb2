"""`pipewise records export` and `pipewise records import`, with the rights of `--as`."""

import csv
import io

from sqlalchemy import select

from pipewise.crm.models import Contact
from tests.cli.conftest import cli  # noqa: F401 - `pipewise …` in-process


def test_export_shows_what_the_person_may_see(cli, factory, session, tmp_path):  # type: ignore[no-untyped-def]
    rep = factory.user(role="rep", team=factory.team("East"))
    stranger = factory.user(role="rep", team=factory.team("West"))
    factory.account(owner=rep, name="=Engines", industry="Software")
    factory.account(owner=rep, name="Looms", industry="Textiles")
    factory.account(owner=stranger, name="Hidden", industry="Software")
    session.commit()
    result = cli("records", "export", "accounts", "--as", rep.email, "--where", "industry=Software")
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in csv.DictReader(io.StringIO(result.output))] == ["'=Engines"]
    target = tmp_path / "accounts.json"
    assert cli("records", "export", "accounts", "--as", rep.email, "--format", "json", "-o", str(target)).exit_code == 0
    assert '"Looms"' in target.read_text() and "Hidden" not in target.read_text()
    assert "is not FIELD=VALUE" in cli("records", "export", "accounts", "--as", rep.email, "--where", "oops").output


def test_import_reports_every_row(cli, factory, session, tmp_path):  # type: ignore[no-untyped-def]
    rep = factory.user(role="rep")
    session.commit()
    file = tmp_path / "people.csv"
    file.write_text("Last name,Email\nLovelace,ada@engines.example\nHopper,not-an-address\n")
    report = tmp_path / "report.csv"
    dry = cli("records", "import", "contacts", str(file), "--as", rep.email, "--dry-run")
    assert dry.exit_code == 1 and "dry run: 2 rows" in dry.output
    session.commit()
    assert session.scalar(select(Contact)) is None
    result = cli("records", "import", "contacts", str(file), "--as", rep.email, "--report", str(report))
    assert result.exit_code == 1 and "1 created" in result.output and "@-sign" in result.output
    rows = list(csv.DictReader(report.open()))
    assert [(r["line"], r["outcome"]) for r in rows] == [("2", "created"), ("3", "rejected")]
    session.commit()
    assert session.scalar(select(Contact.owner_id)) == rep.id
    assert "cannot be imported here" in cli("records", "import", "tasks", str(file), "--as", rep.email).output
