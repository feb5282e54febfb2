"""The reports' routes in the authorization matrix: everyone signed in may read a report;
what it counts is limited to what they may see (tests/analytics/test_rights.py checks the
numbers, the matrix checks that no other team's record shows through)."""

from typing import Any

from pipewise.analytics.catalogue import REPORTS


def report_operations(op: Any) -> dict[tuple[str, str], Any]:
    operations = {("GET", "/api/v1/reports"): op()}
    for slug in REPORTS:
        operations[("GET", f"/api/v1/reports/{slug}")] = op()
        operations[("GET", f"/api/v1/reports/{slug}.csv")] = op()
    return operations
