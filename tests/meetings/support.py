from datetime import UTC, date, datetime, timedelta

ALL_WEEK = {str(d): [["09:00", "17:00"]] for d in range(7)}


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7 or 7)


def make_page(api, headers, **kw):
    body = {"slug": "intro", "title": "Intro call", "duration_minutes": 30, **kw}
    response = api.post("/api/v1/booking-pages", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def set_hours(api, headers, **kw):
    body = {"timezone": "Europe/Berlin", "weekly_hours": ALL_WEEK, "min_notice_minutes": 0, **kw}
    response = api.put("/api/v1/meetings/availability", json=body, headers=headers)
    assert response.status_code == 200, response.text


def first_slot(api, slug, tz="UTC", days=7):
    response = api.get(f"/book/{slug}/slots", params={"tz": tz, "days": days})
    assert response.status_code == 200, response.text
    slots = [s for day in response.json()["days"].values() for s in day]
    assert slots, "no free slot"
    return slots[0]


def slot_on_another_day(api, slug, taken):
    days = api.get(f"/book/{slug}/slots", params={"tz": "UTC", "days": 7}).json()["days"]
    return next(s for day in days.values() for s in day if utc(s).date() != utc(taken).date())


def book(api, slug, start, email="ada@example.com", **kw):
    body = {"start": start, "name": "Ada Lovelace", "email": email, "timezone": "America/New_York", **kw}
    return api.post(f"/book/{slug}/bookings", json=body)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
