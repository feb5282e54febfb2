"""The predictive lead score generalises: it learns only from what was known before a lead
was worked (closing a lead changes none of its features, so nothing conversion writes can
tell the model the answer), it says plainly when there is nothing to learn from, and on
real conversion and churn data it does not lose to a tuned gradient-boosting baseline of
the same features."""

import csv
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.leads import scores
from pipewise.leads.models import Lead
from pipewise.leads.service import lead_service
from pipewise.scoring import predictive

DATA = Path(__file__).resolve().parents[1] / "data"
LEAKY_XEDUCATION = ["Tags", "Lead Quality", "Lead Profile", "Asymmetrique Activity Index", "Asymmetrique Profile Index",
                    "Asymmetrique Activity Score", "Asymmetrique Profile Score", "Last Notable Activity"]


def fresh(session: Any, lead: Any) -> Any:
    session.expire_all()
    return session.get(Lead, lead.id)


class TestFeaturesAreWhatWasKnownBeforeClosing:
    def test_converting_a_lead_changes_none_of_its_features(self, api, session, factory):
        factory.pipeline()
        manager = factory.user(role="manager")
        lead = factory.lead(manager, first_name="Kim", last_name="Lee", email="kim@initech.example", company="Initech",
                            source="webinar", phone="+493012345678")
        scores.record_engagement(session, lead.id, kind="page_visit")
        session.commit()
        before = predictive.features(session, [lead])

        converted = api.post(f"/api/v1/leads/{lead.id}/convert", json={"create_deal": True},
                             headers=factory.headers(manager))
        assert converted.status_code in (200, 201), converted.text
        lead = fresh(session, lead)
        assert lead.status == "converted" and lead.account_id and lead.converted_deal_id and lead.converted_at
        scores.record_engagement(session, lead.id, kind="page_visit")  # after the conversion: not the model's
        assert predictive.features(session, [lead]) == before
        assert {f for f in before[0] if any(word in f for word in ("account", "deal", "contact", "status"))} == {"known account"}

    def test_disqualifying_a_lead_changes_none_of_its_features(self, session, factory):
        lead = factory.lead(email="pat@globex.example", source="ads")
        scores.record_engagement(session, lead.id, kind="email_click")
        session.commit()
        before = predictive.features(session, [lead])
        lead_service.update(session, lead, data={"status": "disqualified", "disqualified_reason": "no budget"},
                            actor=SYSTEM_ACTOR)
        session.flush()
        scores.record_engagement(session, lead.id, kind="email_click")
        assert predictive.features(session, [fresh(session, lead)]) == before

    def test_an_account_known_before_the_lead_is_a_fair_feature(self, session, factory):
        factory.account(domain="hooli.example")
        known = factory.lead(email="gav@hooli.example")
        assert predictive.features(session, [known])[0]["known account"] == "yes"


def closed_twins(session: Any, factory: Any) -> None:
    """40 leads alike in everything known before they were worked; 10 converted, 30 not.
    Only what closing wrote (account, contact, status) tells them apart."""
    for i in range(40):
        lead = factory.lead(email=f"lee{i}@company{i}.example", company=f"Company {i}", source="webinar")
        if i < 10:
            lead_service.convert(session, lead.id, actor=SYSTEM_ACTOR, create_deal=False)
        else:
            lead_service.update(session, lead, data={"status": "disqualified", "disqualified_reason": "no fit"},
                                actor=SYSTEM_ACTOR)
    session.commit()


class TestNothingToLearnFrom:
    def test_the_api_answers_422_saying_so(self, api, session, factory):
        closed_twins(session, factory)
        refused = api.post("/api/v1/scoring/models", headers=factory.headers(factory.user(role="manager")))
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["detail"].startswith("leads: no usable feature: on all 40 closed leads")
        assert problem["errors"][0]["field"] == "leads"

    def test_the_cli_says_so_in_one_line(self, session, factory):
        from pipewise.cli.main import app

        closed_twins(session, factory)
        result = CliRunner().invoke(app, ["scoring", "train"])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: leads: no usable feature"), result.output
        assert "Traceback" not in result.output


# -- against a tuned gradient-boosting baseline, on real data --


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def labelled(name: str, label: str, positive: str, exclude: tuple[str, ...] = ()) -> tuple[list[dict[str, str]], list[int], Any]:
    """A fixed random sample of the file (``SAMPLE`` rows, keeping every row of the rarer
    outcome when it is rare), its labels and schema."""
    import random

    from pipewise.scoring.schema import infer_schema

    columns, rows = read(name)
    rare = [r for r in rows if r[label] == positive]
    common = [r for r in rows if r[label] != positive]
    rng = random.Random(0)
    keep_rare = rare if len(rare) <= SAMPLE // 4 else rng.sample(rare, round(SAMPLE * len(rare) / len(rows)))
    sample = keep_rare + rng.sample(common, SAMPLE - len(keep_rare))
    rng.shuffle(sample)
    y = [1 if row[label] == positive else 0 for row in sample]
    features = [c for c in columns if c != label and c not in exclude]
    return sample, y, infer_schema(sample, features)


# Rows per data set: enough for the comparison to mean something, few enough to stay fast
# (bench/scoring_bench.py runs the whole files).
SAMPLE = 800
DATA_SETS = {
    "x-education leads": ("xeducation_sample.csv", "Converted", "1", tuple(LEAKY_XEDUCATION)),
    "caravan insurance buyers": ("caravan.csv", "Purchase", "Yes", ()),
    "telecom churn": ("telecom_churn.csv", "churn", "Yes", ()),
}


@pytest.mark.parametrize("name", list(DATA_SETS))
def test_not_worse_than_tuned_boosted_trees(name):
    from threadpoolctl import threadpool_limits

    from pipewise.scoring.comparison import compare

    rows, y, schema = labelled(*DATA_SETS[name])
    with threadpool_limits(1):  # the trees' threads only fight each other on a busy machine
        result = compare(rows, y, schema)
    assert result["not_worse"], result
    if name == "x-education leads":
        assert result["pipewise_auc"] >= 0.85
