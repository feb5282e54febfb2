"""Which records are held out: a hash of the subject and the record, the same in every
process, about the share asked for, and frozen once stored whatever the share becomes."""

import subprocess
import sys
import uuid

import pytest
from pydantic import TypeAdapter, ValidationError

from pipewise.db.base import utcnow
from pipewise.runs import holdout

SUBJECT = uuid.UUID("0190a1b2-0000-7000-8000-000000000001")
RECORDS = [uuid.UUID(int=n * 7919 + 17) for n in range(200)]


def test_the_same_ids_get_the_same_group_in_another_process():
    here = [holdout.falls_in_holdout("workflow", SUBJECT, r, 15) for r in RECORDS]
    script = (
        "import sys, uuid\n"
        "from pipewise.runs.holdout import falls_in_holdout\n"
        f"subject = uuid.UUID('{SUBJECT}')\n"
        "for line in sys.stdin.read().split():\n"
        "    print(int(falls_in_holdout('workflow', subject, uuid.UUID(line), 15)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], input="\n".join(map(str, RECORDS)), capture_output=True, text=True, check=True,
    )
    assert [bool(int(v)) for v in out.stdout.split()] == here
    assert 10 <= sum(here) <= 50  # about 15 % of 200


def test_the_share_is_kept_and_subjects_split_independently():
    ids = [uuid.UUID(int=n) for n in range(20_000)]
    first = {r for r in ids if holdout.falls_in_holdout("sequence", SUBJECT, r, 10)}
    other = {r for r in ids if holdout.falls_in_holdout("sequence", uuid.UUID(int=42), r, 10)}
    assert abs(len(first) / len(ids) - 0.10) < 0.01
    assert abs(len(first & other) / len(ids) - 0.01) < 0.003  # independent: 10 % of 10 %
    # A larger share holds out a superset: raising it never releases anyone by hash alone.
    assert first <= {r for r in ids if holdout.falls_in_holdout("sequence", SUBJECT, r, 20)}


def test_a_stored_group_is_frozen_whatever_the_share_becomes(session):
    records = RECORDS[:60]
    at = utcnow()
    first = {
        r: holdout.assign(session, scope="workflow", subject_id=SUBJECT, record_type="contact", record_id=r, share=20, at=at).held_out
        for r in records
    }
    session.commit()
    assert 0 < sum(first.values()) < len(records)
    for share in (5, 0, 20, 10):
        again = {
            r: holdout.assign(session, scope="workflow", subject_id=SUBJECT, record_type="contact", record_id=r, share=share, at=at)
            for r in records
        }
        assert {r: a.held_out for r, a in again.items()} == first
        assert {a.share for a in again.values()} == {20}
    held = [r for r, out in first.items() if out]
    assert holdout.held_out(session, "workflow", SUBJECT, held[0]) is not None
    assert holdout.held_out(session, "workflow", SUBJECT, next(r for r, out in first.items() if not out)) is None


def test_no_share_assigns_nobody(session):
    assert holdout.assign(session, scope="sequence", subject_id=SUBJECT, record_type="contact", record_id=RECORDS[0],
                          share=0, at=utcnow()) is None
    assert holdout.held_out(session, "sequence", SUBJECT, RECORDS[0]) is None


@pytest.mark.parametrize("value", [0, 5, 12, 20])
def test_shares_allowed(value):
    assert TypeAdapter(holdout.HoldoutShare).validate_python(value) == value


@pytest.mark.parametrize("value", [-1, 1, 4, 21, 50, 100])
def test_shares_refused(value):
    with pytest.raises(ValidationError, match="whole percentage from 5 to 20"):
        TypeAdapter(holdout.HoldoutShare).validate_python(value)
