"""Quote numbers under concurrency: parallel requests each get the next number, none twice,
none skipped (SQLite serialises writers; PostgreSQL locks the settings row)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from tests.quotes.conftest import Company


def test_parallel_quotes_get_consecutive_numbers(company: Company) -> None:
    deals = [company.deal() for _ in range(8)]

    def create(deal: object) -> int:
        response = company.call("east_rep", "POST", "/quotes", json={"deal_id": str(deal.id)})  # type: ignore[attr-defined]
        assert response.status_code == 201, response.text
        return int(response.json()["number"].rsplit("-", 1)[1])

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = sorted(pool.map(create, deals))
    assert numbers == list(range(1, 9))
    listed = company.call("east_rep", "GET", "/quotes", params={"limit": 50}).json()["items"]
    assert {q["number"] for q in listed} == {f"Q-{date.today().year}-{n:05d}" for n in range(1, 9)}
