"""Training the model over HTTP is a job: 202 with a status resource, the worker trains."""

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.leads.service import lead_service
from pipewise.scoring import training
from pipewise.worker.runner import Worker


def closed_history(factory, session) -> None:
    for i in range(20):
        good = factory.lead(source="referral", company_size=500 + i, title="Director")
        lead_service.update(session, good, data={"lifecycle_stage": "customer"}, actor=SYSTEM_ACTOR)
    for i in range(30):
        bad = factory.lead(source="ads", company_size=3 + i % 5, title="Student")
        lead_service.update(session, bad, data={"status": "disqualified", "disqualified_reason": "no budget"}, actor=SYSTEM_ACTOR)


def test_training_is_queued_then_done_by_the_worker(api, factory, session):
    closed_history(factory, session)
    open_lead = factory.lead(source="referral", company_size=700, title="Director")
    headers = factory.headers(factory.user(role="manager"))

    queued = api.post("/api/v1/scoring/models", headers=headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["model_id"] is None
    assert api.get("/api/v1/scoring/models", headers=headers).json() == []

    Worker(name="test").run_until_idle()

    done = api.get(queued.headers["location"], headers=headers).json()
    assert (done["status"], done["error"]) == ("done", None) and done["rescored"] >= 1
    models = api.get("/api/v1/scoring/models", headers=headers).json()
    assert [m["id"] for m in models] == [done["model_id"]] and models[0]["trained_on"] == 50
    score = api.get(f"/api/v1/leads/{open_lead.id}/score", headers=headers).json()
    assert score["predicted_probability"] is not None


def test_too_little_history_is_refused_at_once(api, factory):
    factory.lead()
    headers = factory.headers(factory.user(role="admin"))
    refused = api.post("/api/v1/scoring/models", headers=headers)
    assert refused.status_code == 422 and "closed leads" in refused.json()["detail"]
    assert api.get("/api/v1/scoring/models", headers=headers).json() == []


def test_a_training_that_cannot_run_fails_with_the_reason(api, factory, session):
    """The history may change between the request and the worker: the worker says why too."""
    factory.lead()
    user = factory.user(role="admin")
    queued = training.request_training(session, actor=factory.actor(user))
    session.commit()
    Worker(name="test").run_until_idle()
    failed = api.get(f"/api/v1/scoring/trainings/{queued.id}", headers=factory.headers(user)).json()
    assert failed["status"] == "failed" and "closed leads" in failed["error"]


def test_only_managers_train(api, factory):
    headers = factory.headers(factory.user(role="rep"))
    assert api.post("/api/v1/scoring/models", headers=headers).status_code == 403
