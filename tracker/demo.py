"""Demo data: accounts, realistic forms on the 2018 plan, and a synthetic city at any size.

The realistic demo goes through the same operations a department and the office use, with the
clock set to plausible moments, so what it produces is what the product itself would produce.
The synthetic city is built for benchmarks and scale tests: plans through the loader, forms
filled with bulk statements (tens of thousands of lines would take minutes one by one).
"""

import datetime
import random
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from .audit import current_actor
from .auth.operations import create_user, generate_password
from .extensions import db
from .models import (
    ApplicantType,
    Application,
    AuditEntry,
    CaseKind,
    CaseResult,
    Channel,
    CountKind,
    HalfYearSummary,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReceiptChannel,
    ReportingPeriod,
    ReturnCount,
    ReturnLine,
    ReturnState,
    ReviewCase,
    User,
    UserRole,
)
from .models.plan import plan_departments
from .plans.operations import load_plan
from .plans.parser import ParsedGroup, ParsedPlan, ParsedSection, ParsedTask
from .returns.operations import save_and_submit, save_return
from .summaries.operations import save_and_submit_summary
from .timeutil import now_utc, today
from .transaction import commit
from .workflow import review

DONE_TEXTS = [
    "已在泰达政务服务平台公开相关信息{n}条，并同步在政务微信推送。",
    "已完成本部门主动公开目录的梳理，按季度更新，本季度新增公开事项{n}项。",
    "按照“谁起草、谁解读”原则，对本季度出台的{n}份政策文件同步开展解读。",
    "组织开展专项自查，对发现的{n}处问题已全部完成整改。",
    "已召开专题会议{n}次，研究部署相关工作并明确责任分工。",
]
PROBLEMS = ["", "", "部分信息更新不够及时。", "专业人员力量不足。", "解读形式较为单一。"]
NEXT_STEPS = ["继续按要求推进，确保按时完成。", "加强培训，提高信息发布质量。", "进一步丰富解读形式，扩大公开实效。"]


def create_demo_accounts(plan):
    """Create an office user, a leader and one user per department of ``plan``; return ``[(user, pw, dept)]``.

    Accounts that exist already are left alone, so their passwords stay as they were.
    """
    wanted = [("office", UserRole.OFFICE, None, "办公室管理员"), ("leader", UserRole.LEADER, None, "分管领导")]
    wanted += [(f"dept{i:02d}", UserRole.DEPARTMENT, d, d.short_name) for i, d in enumerate(plan_departments(plan), 1)]
    created = []
    for username, role, department, name in wanted:
        if User.query.filter_by(username=username).first():
            continue
        password = generate_password()
        create_user(username, role, password, department, display_name=name)
        created.append((username, password, department.name if department else role.label))
    return created


def _at(day, hour=10):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _payload(report, rng, complete=True):
    lines = []
    for line in report.lines:
        status = rng.choice([LineStatus.DONE, LineStatus.DONE, LineStatus.IN_PROGRESS, LineStatus.ONGOING])
        if not complete and rng.random() < 0.5:
            lines.append({"task_code": line.task.code, "status": None, "done": ""})
            continue
        lines.append(
            {
                "task_code": line.task.code,
                "status": status.value,
                "done": rng.choice(DONE_TEXTS).format(n=rng.randint(1, 12)),
                "problems": rng.choice(PROBLEMS),
                "next_steps": rng.choice(NEXT_STEPS),
            }
        )
    counts = {
        kind.value: {c.value: rng.randint(0, 20 if c is Channel.PORTAL else 6) for c in Channel} for kind in CountKind
    }
    return {
        "filled_by_name": rng.choice(["王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆"]),
        "filled_by_phone": f"2520{rng.randint(1000, 9999)}",
        "approved_by": report.department.head_name or rng.choice(["赵主任", "孙局长", "周处长"]),
        "lines": lines,
        "counts": counts,
    }


def fill_realistic(plan, seed=2018):
    """Fill ``plan``'s quarterly forms in every state, as departments and the office would have.

    The first quarter is mostly submitted, reviewed and accepted, some late, some returned and
    corrected; the last quarter has a mix of drafts, submissions and forms not started.
    A plan whose forms have been worked on already is left alone, so running it twice changes
    nothing; return whether anything was filled.
    """
    touched = (
        QuarterlyReturn.query.join(ReportingPeriod)
        .filter(ReportingPeriod.plan_id == plan.id, QuarterlyReturn.version > 1)
        .first()
    )
    if touched is not None:
        return False
    rng = random.Random(seed)
    office = User.query.filter_by(role=UserRole.OFFICE).order_by(User.id).first()
    users = {u.department_id: u for u in User.query.filter_by(role=UserRole.DEPARTMENT).order_by(User.id)}
    periods = (
        ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER).order_by(ReportingPeriod.number).all()
    )
    config = current_app.config
    saved_now = config.get("TRACKER_NOW")
    try:
        for index, period in enumerate(periods):
            is_last = index == len(periods) - 1
            for report in QuarterlyReturn.query.filter_by(period_id=period.id).order_by(QuarterlyReturn.id):
                if report.state is not ReturnState.DRAFT or report.version > 1:
                    continue
                _fill_demo_form(report, period, is_last, users.get(report.department_id), office, rng)
        _fill_summaries(plan, rng, users, office)
    finally:
        config["TRACKER_NOW"] = saved_now
    return True


def _fill_demo_form(report, period, is_last, user, office, rng):
    """Fill one untouched demo form around its due date, as its department and the office would have.

    Most are submitted and reviewed; in the last quarter some are not started, kept as drafts
    or still waiting for review.
    """
    roll = rng.random()
    if is_last and roll < 0.25:
        return  # not started
    day = period.due_on - datetime.timedelta(days=rng.randint(-6, 8))
    current_app.config["TRACKER_NOW"] = _at(day)
    if is_last and roll < 0.45:
        save_return(report, _payload(report, rng, complete=False), report.version)
        return
    save_and_submit(report, _payload(report, rng), report.version, user)
    if is_last and roll < 0.75:
        return  # waiting for review
    if office:
        _review_demo(report, office, user, rng, roll, day)


def _review_demo(report, office, user, rng, roll, day):
    """Have the office review a submitted demo form: most accepted; some returned, some of those corrected."""
    config = current_app.config
    config["TRACKER_NOW"] = _at(day + datetime.timedelta(days=2), 15)
    if roll >= 0.2:
        review(report, office, "accept")
        return
    reason = "完成情况过于笼统，请补充具体数据和佐证材料。"
    review(report, office, "return", reason, day + datetime.timedelta(days=9))
    if roll < 0.12:
        config["TRACKER_NOW"] = _at(day + datetime.timedelta(days=5))
        save_and_submit(report, _payload(report, rng), report.version, user)
        config["TRACKER_NOW"] = _at(day + datetime.timedelta(days=6), 16)
        review(report, office, "accept")


SUMMARY_TEXT = (
    "一、主要工作：本半年围绕政务公开重点工作安排，完成了主动公开目录更新、政策解读和政务舆情回应等工作。\n"
    "二、存在问题：个别栏目更新不够及时，解读形式较为单一。\n"
    "三、下一步计划：加强信息发布审核，丰富图解、视频等解读形式。"
)


def _fill_summaries(plan, rng, users, office):
    """Hand in about two thirds of each half-year's summaries, most of them accepted."""
    config = current_app.config
    for summary in (
        HalfYearSummary.query.join(ReportingPeriod)
        .filter(ReportingPeriod.plan_id == plan.id)
        .order_by(HalfYearSummary.id)
    ):
        user = users.get(summary.department_id)
        if user is None or summary.version > 1 or rng.random() < 0.35:
            continue
        day = summary.period.due_on - datetime.timedelta(days=rng.randint(-3, 6))
        config["TRACKER_NOW"] = _at(day)
        phone = f"022-6620{rng.randint(1000, 9999)}"
        data = {
            "text": SUMMARY_TEXT,
            "filled_by_name": user.name,
            "filled_by_phone": phone,
            "approved_by": "部门负责人",
        }
        save_and_submit_summary(summary, data, summary.version, user)
        if office and rng.random() < 0.7:
            config["TRACKER_NOW"] = _at(day + datetime.timedelta(days=2), 15)
            review(summary, office, "accept")


def synthetic_plan(year, departments, tasks, rng):
    """Build a parsed arrangement of ``tasks`` tasks over ``departments`` made-up departments."""
    names = [f"第{i:03d}局" for i in range(1, departments + 1)]
    plan = ParsedPlan(title=f"{year}年模拟市政务公开工作要点", year=year, issued_on=datetime.date(year, 1, 20))
    per_section = max(1, tasks // 5)
    made = 0
    for s in range(1, 6):
        section = ParsedSection(s, f"第{s}部分工作")
        plan.sections.append(section)
        count = per_section if s < 5 else tasks - made
        groups = max(1, count // 10)
        for g in range(1, groups + 1):
            group = ParsedGroup(g, f"第{s}.{g}组工作")
            section.groups.append(group)
            n = count // groups + (1 if g <= count % groups else 0)
            for i in range(1, n + 1):
                lead = rng.sample(names, 1)
                responsible = [d for d in rng.sample(names, rng.randint(2, 4)) if d not in lead]
                every = rng.random() < 0.1
                code = f"{s}.{g}.{i}"
                title = f"推进第{code}项公开工作"
                group.tasks.append(
                    ParsedTask(
                        code=code,
                        title=title,
                        details="按照要求做好相关信息公开工作。",
                        text=f"{title}。按照要求做好相关信息公开工作。",
                        lead=lead,
                        responsible=[] if every else responsible,
                        all_departments=every,
                    )
                )
            made += n
    plan.source_name = f"synthetic-{year}-{departments}-{tasks}"
    plan.source_sha256 = f"synthetic-{year}-{departments}-{tasks}-{rng.random()}"
    return plan


def build_city(departments, tasks, years, seed=7):
    """Create ``years`` synthetic plans (ending last year) and fill their forms in every state in bulk."""
    rng = random.Random(seed)
    last = today().year - 1
    plans = []
    for year in range(last - years + 1, last + 1):
        report = load_plan(synthetic_plan(year, departments, tasks, rng), year=year)
        plans.append(report.plan)
        _fill_bulk(report.plan, rng)
    return plans


def _fill_bulk(plan, rng):
    """Put the plan's forms in every state with a few bulk statements."""
    reports = (
        db.session.query(QuarterlyReturn.id, ReportingPeriod.due_on)
        .join(ReportingPeriod)
        .filter(ReportingPeriod.plan_id == plan.id)
        .all()
    )
    states = [ReturnState.ACCEPTED] * 5 + [ReturnState.SUBMITTED] * 2 + [ReturnState.RETURNED, ReturnState.DRAFT]
    by_state = {}
    for report_id, due_on in reports:
        by_state.setdefault((rng.choice(states), rng.random() < 0.2, due_on), []).append(report_id)
    for (state, late, due_on), ids in by_state.items():
        values = _bulk_values(state, late, due_on)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            db.session.execute(update(QuarterlyReturn).where(QuarterlyReturn.id.in_(part)).values(**values))
            if state is not ReturnState.DRAFT:
                _bulk_report(part, rng)
    # Bulk statements bypass the ORM's audit events; one entry says what was done.
    actor, user_id = current_actor()
    db.session.execute(
        AuditEntry.__table__.insert(),
        {
            "at": now_utc(),
            "actor": actor,
            "user_id": user_id,
            "action": "update",
            "entity": "quarterly_returns",
            "entity_id": None,
            "before": {},
            "after": {"demo": f"filled {len(reports)} forms of plan {plan.year} in bulk"},
        },
    )
    commit()


def _bulk_values(state, late, due_on):
    """Return the columns of a form in ``state``: submitted (late or not) unless a draft, returned with a reason."""
    values = {"state": state, "filled_by_name": "王伟", "filled_by_phone": "25201234", "approved_by": "赵主任"}
    if state is not ReturnState.DRAFT:
        moment = _at(due_on + datetime.timedelta(days=3 if late else -2))
        values.update(first_submitted_at=moment, last_submitted_at=moment, is_first_late=late)
    if state is ReturnState.RETURNED:
        values.update(return_reason="请补充具体数据。", correction_due_on=due_on + datetime.timedelta(days=10))
        values["returned_count"] = 1
    return values


def _bulk_report(return_ids, rng):
    """Give the forms ``return_ids`` their lines' progress and their numbers, as if submitted."""
    db.session.execute(
        update(ReturnLine)
        .where(ReturnLine.return_id.in_(return_ids))
        .values(status=rng.choice(list(LineStatus)), done="已按要求推进相关工作。")
    )
    db.session.execute(
        ReturnCount.__table__.insert(),
        [
            {"return_id": i, "kind": k.value, "channel": c.value, "value": rng.randint(0, 9)}
            for i in return_ids
            for k in CountKind
            for c in (Channel.PORTAL, Channel.WECHAT)
        ],
    )


def save_accounts_file(created):
    """Append new demo accounts to the instance folder's demo_accounts.txt (owner-only); return its path."""
    path = Path(current_app.instance_path) / "demo_accounts.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(f"{u}\t{p}\t{d}\n" for u, p, d in created))
    path.chmod(0o600)
    return path


DEMO_REQUESTS = [
    "某地块控制性详细规划调整的批复文件",
    "2024年度企业研发补贴发放名单",
    "某建设项目环境影响评价审批意见",
    "辖区老旧小区改造资金使用情况",
    "某行政处罚决定书",
    "开发区2023年部门预算执行情况",
]


#: The demo's outcomes, as often as they come up (codes of Table 3's rows).
DEMO_OUTCOMES = ["open", "open", "partial", "unavailable:1", "not_processed:2", "withheld:4", "other"]


def _demo_application(number, year, still_open, departments, rng):
    """Make a demo application received in ``year`` (not after today), answered unless ``still_open``."""
    received = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(5, 330))
    if received > today():
        received = today() - datetime.timedelta(days=rng.randint(1, 20))
    answered = received + datetime.timedelta(days=rng.randint(8, 26))
    return Application(
        number=number,
        received_on=received,
        channel=rng.choice(list(ReceiptChannel)),
        applicant_type=rng.choice([ApplicantType.NATURAL] * 4 + [ApplicantType.BUSINESS, ApplicantType.LEGAL]),
        request=rng.choice(DEMO_REQUESTS),
        department=rng.choice(departments) if departments else None,
        third_party_days=0,
        answered_on=None if still_open or answered > today() else answered,
        outcome=None if still_open or answered > today() else rng.choice(DEMO_OUTCOMES),
    )


def fill_register(plan, seed=2026):
    """Register demo applications of last year and this year, and two review cases (once).

    Return whether anything was added. Outcomes follow Table 3; some of this year's are still
    open, so the deadlines and the chase have something to show.
    """
    if Application.query.first() is not None:
        return False
    rng = random.Random(seed)
    departments = plan_departments(plan)
    this_year = today().year
    for year, count in ((this_year - 1, 9), (this_year, 6)):
        for number in range(1, count + 1):
            still_open = year == this_year and number > 3
            db.session.add(_demo_application(f"{year}-{number:03d}", year, still_open, departments, rng))
    db.session.add(
        ReviewCase(
            number=f"复议{this_year - 1}-1",
            kind=CaseKind.REVIEW,
            received_on=datetime.date(this_year - 1, 6, 3),
            result=CaseResult.UPHELD,
        )
    )
    db.session.add(
        ReviewCase(
            number=f"诉讼{this_year - 1}-1",
            kind=CaseKind.SUIT_DIRECT,
            received_on=datetime.date(this_year - 1, 9, 18),
            result=CaseResult.PENDING,
        )
    )
    commit()
    return True
