"""Saving one's bookable hours through the API: a setting sent as null goes back to its
default instead of being stored as null (which once answered 500)."""


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
