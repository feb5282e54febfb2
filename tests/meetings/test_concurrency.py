"""No double booking: 50 visitors post the same slot at once over real HTTP (uvicorn, one
connection each); exactly one gets it, the rest are told to pick another."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
from sqlalchemy import func, select

from pipewise.meetings.models import Meeting
from tests.meetings.support import first_slot, make_page, set_hours

VISITORS = 50


def test_fifty_concurrent_bookings_of_one_slot_make_one_meeting(api, session, factory, live_server):  # noqa: F811
    rep = factory.user()
    session.commit()
    set_hours(api, factory.headers(rep))
    make_page(api, factory.headers(rep), rate_limit_per_hour=1000)
    slot = first_slot(api, "intro")
    start = Barrier(VISITORS)

    def visit(n: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            return client.post("/book/intro/bookings", json={"start": slot, "name": f"Visitor {n}", "email": f"v{n}@example.com"})

    with ThreadPoolExecutor(VISITORS) as pool:
        responses = list(pool.map(visit, range(VISITORS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (VISITORS - 1), [r.text for r in responses if r.status_code not in (201, 409)]
    assert all("just taken" in r.json()["detail"] for r in responses if r.status_code == 409)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Meeting)) == 1
