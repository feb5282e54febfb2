"""CSV cells that a spreadsheet would run as a formula are written with a leading quote:
the import's row report, over the API and from the CLI."""

import csv
import io

import pytest
from typer.testing import CliRunner

from pipewise.cli.main import app
from pipewise.records.csv_cells import safe_cell

# The second row is rejected (its e-mail is no address), so its line lands in the report as is.
UPLOAD = "First Name,Last Name,Email\nAda,Lovelace,ada@engines.example\n=HYPERLINK(A1),-1+2,nope\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
        (-1, -1),
        (None, None),
    ],
)
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def assert_no_formula(report: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(report)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    return rows


def test_api_row_report_escapes_formulas(api, factory):
    headers = factory.headers(factory.user(role="manager"))
    done = api.post("/api/v1/lead-imports", files={"file": ("leads.csv", UPLOAD.encode())}, headers=headers)
    assert done.status_code == 201 and done.json()["rejected_count"] == 1, done.text
    report = api.get(f"/api/v1/lead-imports/{done.json()['id']}/report.csv", headers=headers).text
    rows = assert_no_formula(report)
    assert rows[1][3] == "'=HYPERLINK(A1),-1+2,nope"


def test_cli_row_report_escapes_formulas(tmp_path):
    upload, report = tmp_path / "leads.csv", tmp_path / "report.csv"
    upload.write_text(UPLOAD)
    result = CliRunner().invoke(app, ["import", "leads", str(upload), "--report", str(report)])
    assert result.exit_code == 0, result.output
    rows = assert_no_formula(report.read_text())
    assert rows[1][3] == "'=HYPERLINK(A1),-1+2,nope"
