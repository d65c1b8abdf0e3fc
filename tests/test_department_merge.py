"""Merging two departments into one (机构改革): on the department page and with `department merge`."""

import pytest
from bs4 import BeautifulSoup
from conftest import department, task

from tracker.models import Department, DepartmentAlias, Role, TaskDepartment


@pytest.fixture
def office(load_seed, create_user, auth):
    load_seed()
    create_user("office1")
    auth.login("office1")


def names(code, role):
    return [d.name for d in task(code).departments_with(role)]


def merge_on_page(client, source, target, confirm=True):
    page = client.get(f"/departments/{department(source).id}/edit").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    form = soup.find("form", action=f"/departments/{department(source).id}/merge")
    data = {"merge-csrf_token": form.find("input", {"name": "merge-csrf_token"})["value"]}
    data["merge-target"] = str(department(target).id)
    if confirm:
        data["merge-confirm"] = "y"
    return client.post(f"/departments/{department(source).id}/merge", data=data)


def test_merging_moves_tasks_accounts_and_keeps_the_old_name_as_an_alias(client, office, create_user):
    create_user("ajj", "department", "安监局")
    assert names("1.2.2", Role.RESPONSIBLE)[:5] == ["行政审批局", "规国局", "建交局", "科工局", "安监局"]
    response = merge_on_page(client, "安监局", "建交局")
    assert response.status_code == 302
    assert "已将“安监局”合并到“建交局”" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert Department.query.filter_by(name="安监局").one_or_none() is None
    assert department("安监局").name == "建交局"  # the old name finds the merged department
    # 建交局 was already on 1.2.2: it is listed once; the account now belongs to 建交局.
    assert names("1.2.2", Role.RESPONSIBLE).count("建交局") == 1 and "安监局" not in names("1.2.2", Role.RESPONSIBLE)
    from tracker.models import User

    assert User.query.filter_by(username="ajj").one().department.name == "建交局"


def test_a_lead_role_wins_over_responsible(client, office):
    # 发改局 leads 1.1.4; 财政局 carries out 1.2.x. Merge 发改局 into 经济运行局 (both lead 1.1.4).
    assert names("1.1.4", Role.LEAD) == ["发改局", "经济运行局"]
    assert merge_on_page(client, "发改局", "经济运行局").status_code == 302
    assert names("1.1.4", Role.LEAD) == ["经济运行局"]
    assert TaskDepartment.query.filter_by(department_id=department("经济运行局").id).count() > 1


def test_merging_needs_confirmation_and_changes_nothing_without(client, office):
    before = TaskDepartment.query.count(), Department.query.count(), DepartmentAlias.query.count()
    response = merge_on_page(client, "安监局", "建交局", confirm=False)
    assert response.status_code == 400
    alert = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(role="alert")
    assert "请勾选“确认合并”" in alert.get_text()
    assert (TaskDepartment.query.count(), Department.query.count(), DepartmentAlias.query.count()) == before


def test_the_cli_merges_and_refuses_unknown_names(runner, load_seed):
    load_seed()
    result = runner.invoke(args=["department", "merge", "安监局", "--into", "建交局"])
    assert result.exit_code == 0, result.output
    assert "Merged 安监局 into 建交局" in result.output
    result = runner.invoke(args=["department", "merge", "没有这个局", "--into", "建交局"])
    assert result.exit_code != 0 and "no department called '没有这个局'" in result.output


def test_departments_that_both_reported_in_a_period_are_not_merged(runner, load_seed, app):
    """Two forms of one period cannot become one: refused, naming the period; empty drafts give way."""
    from tracker.extensions import db
    from tracker.models import QuarterlyReturn, ReportingPeriod, ReturnState

    plan = load_seed()
    first, second = ReportingPeriod.query.filter_by(plan_id=plan.id).order_by(ReportingPeriod.starts_on)[:2]
    for name in ("安监局", "建交局"):
        for period, state in ((first, ReturnState.ACCEPTED), (second, ReturnState.DRAFT)):
            form = QuarterlyReturn.query.filter_by(period=period, department=department(name)).one_or_none()
            if form is None:
                form = QuarterlyReturn(period=period, department=department(name), version=1)
                db.session.add(form)
            form.state = state
            form.filled_by_name = "王晓明" if state is ReturnState.ACCEPTED else ""
    db.session.commit()
    before = TaskDepartment.query.count(), QuarterlyReturn.query.count()
    result = runner.invoke(args=["department", "merge", "安监局", "--into", "建交局"])
    assert result.exit_code != 0
    assert f"both reported in 1 period(s) ({first.label})" in result.output
    assert "nothing was changed" in result.output
    assert (TaskDepartment.query.count(), QuarterlyReturn.query.count()) == before
    assert department("安监局").name == "安监局"
    # With the first quarter's form of 安监局 still an empty draft, the merge goes through.
    accepted = QuarterlyReturn.query.filter_by(period=first, department=department("安监局")).one()
    accepted.state, accepted.filled_by_name = ReturnState.DRAFT, ""
    db.session.commit()
    result = runner.invoke(args=["department", "merge", "安监局", "--into", "建交局"])
    assert result.exit_code == 0, result.output
    assert (
        QuarterlyReturn.query.filter_by(period=first, department=department("建交局")).one().state
        is ReturnState.ACCEPTED
    )


def test_the_merged_department_reports_on_every_task_it_took_over_and_the_moves_are_audited(
    client, office, create_user
):
    from tracker.models import AuditEntry, QuarterlyReturn, ReportingPeriod, User
    from tracker.models.returns import PeriodKind

    create_user("djb", "department", "党建工作部")
    assert names("1.1.2", Role.LEAD) == ["党建工作部"]
    assert merge_on_page(client, "党建工作部", "建交局").status_code == 302
    period = ReportingPeriod.query.filter_by(kind=PeriodKind.QUARTER).order_by(ReportingPeriod.starts_on).first()
    form = QuarterlyReturn.query.filter_by(period=period, department=department("建交局")).one()
    assert "1.1.2" in [line.task.code for line in form.lines]
    user = User.query.filter_by(username="djb").one()
    assert AuditEntry.query.filter_by(entity="users", entity_id=user.id, action="update").count() == 1


def test_chase_records_of_a_draft_that_gave_way_do_not_block_the_merge(client, office, app):
    import datetime

    from tracker.chase.operations import run_chase
    from tracker.models import ChaseEntry

    run_chase(datetime.date(2018, 12, 31))  # both departments are chased for the same quarter
    chased = {e.department_id for e in ChaseEntry.query}
    assert {department("安监局").id, department("建交局").id} <= chased
    assert merge_on_page(client, "安监局", "建交局").status_code == 302
    assert ChaseEntry.query.filter_by(department_id=department("建交局").id).count() >= 1
