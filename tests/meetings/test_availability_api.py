"""Availability and booking pages through the API: a setting sent as null goes back to its
default instead of being stored as null (which once answered 500), and an update is held to
the bounds of a create."""

from tests.meetings.support import make_page


def test_null_settings_go_back_to_their_defaults(api, factory, session):  # type: ignore[no-untyped-def]
    rep = factory.user()
    session.commit()
    headers = factory.headers(rep)
    saved = api.put("/api/v1/meetings/availability", headers=headers, json={
        "weekly_hours": {"0": [["09:00", "12:00"]]}, "horizon_days": 30, "min_notice_minutes": 60, "daily_limit": 4})
    assert saved.status_code == 200, saved.text

    cleared = api.put("/api/v1/meetings/availability", headers=headers, json={
        "weekly_hours": None, "horizon_days": None, "min_notice_minutes": None, "daily_limit": None})
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (body["weekly_hours"], body["horizon_days"], body["min_notice_minutes"], body["daily_limit"]) == ({}, 60, 240, None)
    assert api.put("/api/v1/meetings/availability", headers=headers, json={}).json() == body
    assert api.get("/api/v1/meetings/availability", headers=headers).json() == body


def test_an_update_is_held_to_the_bounds_of_a_create(api, factory, session):  # type: ignore[no-untyped-def]
    """Partial update schemas keep every field's limits (they once dropped them: a PATCH took
    any length and any number, and a huge one answered 500)."""
    rep = factory.user()
    session.commit()
    headers = factory.headers(rep)
    page = make_page(api, headers)
    for body, field in (({"duration_minutes": -494461719261765042176}, "duration_minutes"),
                        ({"duration_minutes": 481}, "duration_minutes"), ({"title": "x" * 201}, "title")):
        refused = api.patch(f"/api/v1/booking-pages/{page['id']}", headers=headers, json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    assert api.patch(f"/api/v1/booking-pages/{page['id']}", headers=headers, json={"duration_minutes": 45}).json()[
        "duration_minutes"] == 45
