"""`pipewise quotes …` in-process against the test database."""

from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.quotes.conftest import Company


@pytest.fixture
def cli() -> Any:
    from pipewise.cli.main import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_price_books_tiers_and_the_price(cli: Any, company: Company) -> None:
    made = cli("quotes", "price-books", "create", "--name", "Default", "--currency", "EUR", "--default",
               "--as", company.users["east_manager"].email)
    assert made.exit_code == 0, made.output
    book_id = made.output.strip().rsplit("(", 1)[1].rstrip(")")
    tier = cli("quotes", "price-books", "add-entry", book_id, "--sku", "SEAT", "--price", "80", "--min-quantity", "10")
    assert tier.exit_code == 0, tier.output
    assert "Default" in cli("quotes", "price-books", "list").output
    found = cli("quotes", "price", "--sku", "SEAT", "--currency", "EUR", "--quantity", "12")
    assert found.exit_code == 0 and found.output.startswith("80.0000 EUR (default")
    refused = cli("quotes", "price-books", "create", "--name", "Mine", "--currency", "EUR", "--as",
                  company.users["east_rep"].email)
    assert refused.exit_code == 1 and "only admin or manager" in refused.output


def test_quotes_approvals_and_settings(cli: Any, company: Company) -> None:
    deal = company.deal()
    company.call("east_rep", "POST", f"/deals/{deal.id}/line-items", json={
        "product_id": str(company.products["SEAT"].id), "quantity": "2", "discount_percent": "30"})
    made = cli("quotes", "create", "--deal-id", str(deal.id), "--as", company.users["east_rep"].email)
    assert made.exit_code == 0, made.output
    assert "pending_approval" in made.output and "166.60 EUR" in made.output
    assert "Q-" in cli("quotes", "list", "--as", company.users["east_rep"].email).output
    assert cli("quotes", "list", "--as", company.users["west_rep"].email).output.count("Q-") == 0
    queue = cli("quotes", "approvals", "--as", company.users["east_manager"].email)
    approval_id = next(word for word in queue.output.split() if len(word) == 36)
    assert cli("quotes", "decide", approval_id, "--as", company.users["east_rep"].email).exit_code == 1
    decided = cli("quotes", "decide", approval_id, "--comment", "fine", "--as", company.users["east_manager"].email)
    assert decided.exit_code == 0 and "approved" in decided.output
    changed = cli("quotes", "settings", "tax_mode=on_totals", "limit.rep=20", "--as", company.users["admin"].email)
    assert changed.exit_code == 0, changed.output
    assert "tax_mode: on_totals" in changed.output and "'rep': '20'" in changed.output
    bad = cli("quotes", "settings", "tax_mode=sometimes")
    assert bad.exit_code == 1 and "tax_mode" in bad.output
    assert Decimal(company.call("admin", "GET", "/company-settings").json()["discount_limits"]["rep"]) == 20
