"""Inserting many rows in one statement (tracker.bulk): what goes in comes back as the ORM would have written it."""

import datetime

import pytest
from conftest import department

from tracker.bulk import insert_rows
from tracker.chase.operations import ladder
from tracker.extensions import db
from tracker.models import ChaseEntry, ChaseItem, ChaseResult, Notification, ReportingPeriod
from tracker.timeutil import as_utc

AT = datetime.datetime(2019, 1, 16, 1, 30, tzinfo=datetime.UTC)


@pytest.fixture
def ledger(load_seed):
    load_seed()
    steps = ladder()
    db.session.commit()
    period = ReportingPeriod.query.filter_by(number=3).first()
    base = {
        "department_id": department("发改局").id,
        "period_id": period.id,
        "application_id": None,
        "item": ChaseItem.RETURN,
        "round": 0,
        "due_on": period.due_on,
        "run_on": datetime.date(2019, 1, 16),
        "at": AT,
        "updated_at": AT,
    }
    return base, steps


def test_rows_go_in_with_nulls_enums_json_and_dates_and_a_conflict_is_passed_over(ledger):
    base, steps = ledger
    told = [{"name": "王", "channel": "in_app"}]
    skipped = "已由“逾期通知”取代"
    rows = [
        {**base, "step_id": steps[0].id, "recipients": told, "result": ChaseResult.SENT, "detail": ""},
        {**base, "step_id": steps[1].id, "recipients": [], "result": ChaseResult.SKIPPED, "detail": skipped},
    ]

    first = insert_rows(ChaseEntry.__table__, rows, returning=("id", "step_id"), skip_conflicts=True)
    again = insert_rows(ChaseEntry.__table__, rows[:1], returning=("id",), skip_conflicts=True)
    db.session.commit()

    assert sorted(step for _, step in first) == sorted([steps[0].id, steps[1].id]) and again == []
    entries = {e.step_id: e for e in ChaseEntry.query}
    sent = entries[steps[0].id]
    assert (sent.item, sent.result, sent.application_id) == (ChaseItem.RETURN, ChaseResult.SENT, None)
    assert sent.recipients == [{"name": "王", "channel": "in_app"}]
    assert sent.due_on == base["due_on"] and sent.run_on == datetime.date(2019, 1, 16)
    assert as_utc(sent.at) == AT
    assert entries[steps[1].id].detail == "已由“逾期通知”取代"


def test_defaults_are_filled_per_row_and_rows_must_name_the_same_columns(ledger, create_user):
    user = create_user("office1", "office")
    notices = [{"user_id": user.id, "title": f"第{n}条", "url": "/"} for n in range(3)]

    insert_rows(Notification.__table__, notices)
    db.session.commit()

    stored = Notification.query.order_by(Notification.id).all()
    assert [n.title for n in stored] == ["第0条", "第1条", "第2条"]
    assert {n.body for n in stored} == {""} and {n.event for n in stored} == {""}
    assert all(n.created_at is not None and n.read_at is None for n in stored)
    with pytest.raises(ValueError, match="same columns"):
        insert_rows(Notification.__table__, [notices[0], {**notices[1], "body": "x"}])
