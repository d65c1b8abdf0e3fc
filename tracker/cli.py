"""Command-line interface: ``flask --app tracker plan|user|export|demo|chase|scheduler ...``.

Commands speak English and exit non-zero with a message when they refuse something.
"""

import getpass
import json
import logging
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

import click
from flask.cli import AppGroup

from .audit import set_actor
from .auth.operations import (
    create_token,
    create_user,
    disable_user,
    find_department,
    revoke_tokens,
    set_password,
)
from .backup import BackupError, backup, copy_to, restore
from .briefs.operations import BriefError, brief_figures, brief_for, brief_lines, current_brief, send_briefs
from .chase.operations import run_chase
from .demo import build_city, create_demo_accounts, fill_realistic, fill_register, save_accounts_file
from .departments.operations import MergeRefused, merge_departments
from .disclosure.operations import DisclosureError, import_applications, import_cases
from .disclosure.tables import annual_tables
from .errors import as_cli_command
from .exports.operations import ExportError, export_annual_report, export_workbook
from .exports.register import export_applications
from .models import Department, Plan, QuarterlyReturn, ReportingPeriod, User, UserRole, chinese_numeral
from .plans.operations import PlanError, WithdrawalNeedsConfirmation, load_plan, plan_as_dict
from .plans.parser import PlanFormatError, parse_plan_file
from .timeutil import today

plan_cli = AppGroup("plan", help="Load and show work arrangements (plans).")
user_cli = AppGroup("user", help="Manage user accounts.")
export_cli = AppGroup("export", help="Write spreadsheets.")
applications_cli = AppGroup("applications", help="The register of disclosure applications (依申请公开台账).")
cases_cli = AppGroup("cases", help="Administrative review and litigation cases (行政复议、行政诉讼).")
department_cli = AppGroup("department", help="Departments: merge two into one (机构改革).")
brief_cli = AppGroup("brief", help="The leaders' briefs (领导简报): send them to subscribers, show one.")


def _act_as_cli():
    set_actor(f"cli:{getpass.getuser()}")


def _plan(year):
    plan = Plan.query.filter_by(year=year).one_or_none()
    if plan is None:
        raise click.ClickException(f"no plan for {year}; load one with 'plan load FILE'")
    return plan


@plan_cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), help="The plan's year (default: from the title).")
@click.option("--dry-run", is_flag=True, help="Print the plan as read and what would change; write nothing.")
@click.option(
    "--confirm-withdrawal",
    is_flag=True,
    help="Withdraw tasks left out of the file even where forms report on them (their lines are kept).",
)
def plan_load(file, year, dry_run, confirm_withdrawal):
    """Load a notice (.txt/.html/.docx) or breakdown table (.xlsx/.docx) as a plan."""
    _act_as_cli()
    try:
        parsed = parse_plan_file(file)
        if dry_run:
            _echo_parsed(parsed)
        report = load_plan(parsed, year=year, dry_run=dry_run, confirm_withdrawal=confirm_withdrawal)
    except WithdrawalNeedsConfirmation as exc:
        _echo_affected(exc.forms)
        raise click.ClickException(
            f"{file.name}: {exc}. Rerun with --confirm-withdrawal to withdraw them and keep those lines; "
            "nothing was loaded"
        ) from None
    except (PlanFormatError, PlanError) as exc:
        raise click.ClickException(f"{file.name}: {exc}; nothing was loaded") from None
    _echo_load(report, dry_run)


def _echo_load(report, dry_run):
    """Print what a load changed (or, in a dry run, would change) and what the plan holds."""
    if dry_run and report.is_new_plan:
        click.echo(f"There is no plan for {report.year} yet; loading the file would create it.")
    elif dry_run:
        click.echo("Changes against the existing plan:" if report.changes else "No changes against the existing plan.")
    for change in report.changes:
        click.echo(f"  {change}")
    click.echo(report.summary)
    if dry_run:
        if report.affected_forms:
            click.echo(f"Tasks {', '.join(report.withdrawn)} would be withdrawn; they hold reported work in:")
            _echo_affected(report.affected_forms)
            click.echo("Loading it needs --confirm-withdrawal.")
        click.echo("Dry run: nothing was written.")


def _roles(task):
    """Return a parsed task's departments as ``lead: A、B; responsible: C等相关部门`` (or 各部门)."""
    responsible = "、".join(task.responsible) + ("等相关部门" if task.and_related else "")
    if task.all_departments:
        wording = task.all_wording or "各部门"
        responsible = f"{responsible}、{wording}" if responsible else wording
    parts = [f"lead: {'、'.join(task.lead)}" if task.lead else "", f"responsible: {responsible}" if responsible else ""]
    return "; ".join(part for part in parts if part) or "no department"


def _echo_parsed(parsed):
    """Print the plan as the parser read it, then what it warns about."""
    click.echo(f"{parsed.title} ({parsed.year or 'year unknown'}, issued {parsed.issued_on or 'unknown'})")
    for section in parsed.sections:
        click.echo(f"{chinese_numeral(section.number)}、{section.title}")
        for group in section.groups:
            click.echo(f"  ({chinese_numeral(group.number)}){group.title}")
            for task in group.tasks:
                withdrawn = " (withdrawn: left out when loaded)" if task.withdrawn else ""
                click.echo(f"    {task.code:<7}{task.title}{withdrawn}\n           {_roles(task)}")
    for warning in getattr(parsed, "warnings", None) or []:
        click.echo(f"warning: {warning.where}: {warning.message}" if warning.where else f"warning: {warning.message}")


def _echo_affected(forms):
    """Print the forms with reported work on tasks to be withdrawn, one a line."""
    for form in forms:
        click.echo(f"  {form.period} {form.department} ({form.state.value}): tasks {', '.join(form.task_codes)}")


@plan_cli.command("show")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def plan_show(year, fmt):
    """Print a plan's tasks and departments."""
    data = plan_as_dict(_plan(year))
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{data['title']} ({data['year']}, issued {data['issued_on'] or 'unknown'})")
    for task in data["tasks"]:
        flags = ("all " if task["all_departments"] else "") + ("+related" if task["and_related"] else "")
        click.echo(
            f"{task['code']:<7}{task['title']}\n"
            f"       lead: {'、'.join(task['lead']) or '-'}  responsible: {'、'.join(task['responsible']) or '-'}"
            f"  {flags.strip()}"
        )
    click.echo(f"{len(data['tasks'])} tasks, {len(data['departments'])} departments")


def _read_password(from_stdin):
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in UserRole]), required=True)
@click.option("--department", help="The department of a department user (name or alias).")
@click.option("--email")
@click.option("--name", "display_name", default="", help="The name to show.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(username, role, department, email, display_name, password_stdin):
    """Create a user account."""
    _act_as_cli()
    dept = find_department(department) if department else None
    user = create_user(username, role, _read_password(password_stdin), dept, email, display_name)
    click.echo(f"Created {user.role.value} user {user.username}" + (f" ({dept.name})" if dept else ""))


@user_cli.command("list")
def user_list():
    """List user accounts."""
    for user in User.query.order_by(User.id):
        state = "active" if user.is_active else "disabled"
        department = user.department.name if user.department else "-"
        click.echo(f"{user.username:<16}{user.role.value:<12}{state:<10}{department}")


def _user(username):
    user = User.query.filter_by(username=username).one_or_none()
    if user is None:
        raise click.ClickException(f"no user called '{username}'")
    return user


@user_cli.command("disable")
@click.argument("username")
def user_disable(username):
    """Stop a user from signing in (the account is kept)."""
    _act_as_cli()
    disable_user(_user(username))
    click.echo(f"Disabled {username}")


@user_cli.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_password(username, password_stdin):
    """Set a user's password."""
    _act_as_cli()
    user = _user(username)
    set_password(user, _read_password(password_stdin))
    click.echo(f"Password of {username} changed")


@user_cli.command("token")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Revoke the user's tokens instead of creating one.")
def user_token(username, revoke):
    """Print a new API token for USERNAME (shown once; stored hashed), or revoke all of its tokens."""
    _act_as_cli()
    user = _user(username)
    if revoke:
        click.echo(f"Revoked {revoke_tokens(user)} token(s) of {username}")
        return
    click.echo(create_token(user))


def _export(kind, year, out, **options):
    try:
        name, workbook = export_workbook(kind, year, **options)
    except ExportError as exc:
        raise click.ClickException(f"{exc.message}; nothing was written") from None
    workbook.save(out)
    click.echo(f"Wrote {out} ({name})")


OUT = click.option(
    "--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True, help="The .xlsx to write."
)
YEAR = click.option("--year", type=int, required=True, help="The plan's year.")


@export_cli.command("breakdown")
@YEAR
@click.option("--quarter", type=click.IntRange(1, 4), help="Add a column with each task's progress that quarter.")
@OUT
def export_breakdown(year, quarter, out):
    """Write the task breakdown table (任务分解表)."""
    _export("breakdown", year, out, quarter=quarter)


@export_cli.command("quarter")
@YEAR
@click.option("--quarter", type=click.IntRange(1, 4), required=True)
@OUT
def export_quarter(year, quarter, out):
    """Write a quarter's workbook: completion, task progress, information counts, overdue departments."""
    _export("quarter", year, out, quarter=quarter)


@export_cli.command("department")
@YEAR
@click.option("--department", required=True, help="The department's name or alias.")
@OUT
def export_department(year, department, out):
    """Write one department's year: every quarterly form and half-year summary."""
    _export("department", year, out, department=department)


@export_cli.command("summary")
@YEAR
@click.option("--quarter", type=click.IntRange(1, 4), help="One quarter (default: the whole year).")
@click.option("--half", type=click.IntRange(1, 2), help="One half-year.")
@OUT
def export_summary(year, quarter, half, out):
    """Write the leaders' summary: a one-page brief with charts, then a sheet per section."""
    _export("summary", year, out, quarter=quarter, half=half)


@export_cli.command("half")
@YEAR
@click.option("--half", type=click.IntRange(1, 2), required=True)
@OUT
def export_half(year, half, out):
    """Write a half-year's summaries: state, dates, an excerpt and the file of each department."""
    _export("half", year, out, half=half)


@click.command("demo")
@click.option("--departments", type=click.IntRange(1, 2000), help="Build a synthetic city with this many departments.")
@click.option("--tasks", type=click.IntRange(5, 5000), help="… and this many tasks per plan.")
@click.option("--years", type=click.IntRange(1, 10), default=1, show_default=True, help="… over this many years.")
def demo(departments, tasks, years):
    """Create demo accounts and demo forms.

    Without options: an office user, a leader and one user per department of the newest plan
    (passwords printed once and kept in the instance folder's demo_accounts.txt), and that
    plan's quarterly forms filled in every state. With --departments and --tasks: synthetic
    plans of that size, for benchmarks.
    """
    _act_as_cli()
    if departments or tasks:
        _demo_city(departments, tasks, years)
        return
    plan = Plan.query.order_by(Plan.year.desc()).first()
    if plan is None:
        raise click.ClickException("load a plan first ('plan load FILE')")
    _demo_accounts(plan)
    if fill_register(plan):
        click.echo("Demo register: applications of last year and this year, two review cases.")
    if not fill_realistic(plan):
        click.echo("Demo forms were filled before; left as they are.")
    states = Counter(r.state.label for r in QuarterlyReturn.query.join(ReportingPeriod).filter_by(plan_id=plan.id))
    click.echo("Demo forms: " + ", ".join(f"{label} {n}" for label, n in sorted(states.items())))


def _demo_city(departments, tasks, years):
    """Build synthetic plans of ``departments`` × ``tasks`` over ``years``, for benchmarks."""
    if not (departments and tasks):
        raise click.ClickException("give both --departments and --tasks")
    plans = build_city(departments, tasks, years)
    click.echo(f"Built {len(plans)} synthetic plan(s): {', '.join(str(p.year) for p in plans)}")


def _demo_accounts(plan):
    """Create the demo accounts and print their passwords once (or say that they exist already)."""
    created = create_demo_accounts(plan)
    if not created:
        click.echo("Demo accounts already exist; their passwords are in the instance folder's demo_accounts.txt.")
        return
    path = save_accounts_file(created)
    click.echo(f"Demo accounts (username, password, department) — shown once, also saved in {path}")
    for username, password, department in created:
        click.echo(f"  {username}\t{password}\t{department}")


@click.command("chase")
@click.option(
    "--today",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Chase as of this day (YYYY-MM-DD; default: today in the office's time zone).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; write and send nothing.")
def chase(as_of, dry_run):
    """Run the chase once: remind departments of what is due or overdue, as the ladder says."""
    _act_as_cli()
    day = as_of.date() if as_of else today()
    report = run_chase(day, dry_run=dry_run)
    for action in report.actions:
        click.echo(action.line(dry_run))
    click.echo(report.summary())


PERIOD = click.option(
    "--period", "scope", metavar="PERIOD", help="The brief: YEAR-Qn, YEAR-Hn or YEAR (e.g. 2018-Q3, 2018-H1, 2018)."
)
AS_OF = click.option(
    "--today",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="As of this day (YYYY-MM-DD; default: today in the office's time zone).",
)


@brief_cli.command("send")
@PERIOD
@AS_OF
@click.option("--dry-run", is_flag=True, help="Print who would get which brief; write and send nothing.")
def brief_send(scope, as_of, dry_run):
    """Send the briefs that fell due (or the one --period names) to each subscriber, once."""
    _act_as_cli()
    try:
        report = send_briefs(as_of.date() if as_of else today(), scope=scope, dry_run=dry_run)
    except BriefError as exc:
        raise click.ClickException(f"{exc.message}; nothing was sent") from None
    for delivery in report.deliveries:
        click.echo(delivery.line(dry_run))
    click.echo(report.summary())


@brief_cli.command("show")
@PERIOD
@AS_OF
def brief_show(scope, as_of):
    """Print a brief's text (default: the current quarter's), as its e-mail says it."""
    day = as_of.date() if as_of else today()
    brief = brief_for(scope) if scope else current_brief(day)
    if brief is None:
        raise click.ClickException("no plan has a reporting period yet; load one with 'plan load FILE'")
    click.echo("\n".join(brief_lines(brief, brief_figures(brief, day))))


@click.command("scheduler")
def scheduler():
    """Run the scheduled jobs (daily chase, archive, housekeeping) until stopped.

    A second scheduler started by mistake waits, and takes over when the first one dies.
    """
    from flask import current_app

    from .scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    Scheduler(current_app._get_current_object()).run_forever(stop)
    click.echo("scheduler stopped")


def _import_file(file, importer):
    """Run ``importer`` on the file's bytes; print what it added and updated, or why nothing was."""
    _act_as_cli()
    try:
        added, updated = importer(file.read_bytes())
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    except DisclosureError as exc:
        raise click.ClickException(f"{file.name}: {exc.message}") from None
    click.echo(f"Imported {file.name}: {added} added, {updated} updated")


@applications_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def applications_import(file):
    """Import a register .xlsx (编号 | 收到日期 | 申请方式 | 申请人类型 | 申请内容 | 办理部门 | 答复日期 | 办理结果)."""
    _import_file(file, import_applications)


@applications_cli.command("export")
@OUT
def applications_export(out):
    """Write the register with the import's columns."""
    export_applications().save(out)
    click.echo(f"Wrote {out}")


@cases_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def cases_import(file):
    """Import review and litigation cases (编号 | 类别 | 收到日期 | 结果)."""
    _import_file(file, import_cases)


@click.command("annual-report")
@YEAR
@click.option("--layout", type=click.Choice(["2021", "2019"]), help="Table layout (default: 2021 from 2021 on).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="FILE.xlsx for the tables and the check, FILE.docx for a draft of the whole report.",
)
def annual_report(year, layout, out):
    """Write the annual report's Tables 2-4 with their check (.xlsx), or a draft of the whole report (.docx)."""
    kind = "docx" if out.suffix.lower() == ".docx" else "xlsx"
    try:
        name, document = export_annual_report(year, layout, kind)
    except ExportError as exc:
        raise click.ClickException(f"{exc.message}; nothing was written") from None
    document.save(out)
    click.echo(f"Wrote {out} ({name})")
    if kind == "xlsx":
        failures = annual_tables(year, layout)["failures"]
        for failure in failures:
            click.echo(f"check failed: {failure}", err=True)
        click.echo(f"check: {len(failures)} failure(s)" if failures else "check: all identities hold")


@department_cli.command("merge")
@click.argument("source")
@click.option("--into", "target", required=True, help="The department that takes SOURCE over.")
def department_merge(source, target):
    """Merge department SOURCE into TARGET: tasks, forms, summaries and accounts move; SOURCE's
    names become TARGET's aliases."""
    _act_as_cli()
    found = {}
    for role, name in (("source", source), ("target", target)):
        found[role] = Department.lookup(name)
        if found[role] is None:
            raise click.ClickException(f"no department called '{name}'")
    try:
        merged = merge_departments(found["source"], found["target"])
    except MergeRefused as exc:
        periods = f" ({', '.join(exc.periods)})" if exc.periods else ""
        raise click.ClickException(f"{exc}{periods}; nothing was changed") from None
    click.echo(f"Merged {source} into {merged.name}; aliases: {', '.join(merged.alias_names)}")


@click.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
def backup_command(out):
    """Back up the whole database, uploaded files included (pg_dump custom format on PostgreSQL,
    SQLite's online backup on SQLite); the site may keep running."""
    size = backup(out)
    click.echo(f"Backed up to {out} ({size / 1024 / 1024:.1f} MB)")


def _echo_counts(counts):
    for table, rows in counts:
        click.echo(f"  {table:<28} {rows}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the database holds (it must be empty otherwise).")
def restore_command(file, force):
    """Restore a backup made by 'backup' into this database, in one transaction."""
    try:
        counts = restore(file, force=force)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    click.echo(f"Restored {file}; rows per table:")
    _echo_counts(counts.items())


@click.command("copy")
@click.option("--to", "url", required=True, help="The target database URL, e.g. postgresql+psycopg://user@host/db.")
@click.option("--force", is_flag=True, help="Replace what the target holds (it must be empty otherwise).")
def db_copy(url, force):
    """Copy every row and file of this database to another (e.g. SQLite to PostgreSQL), verified by
    row counts and each file's SHA-256."""
    try:
        counts = copy_to(url, force=force)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was copied") from None
    files = next((c.target for c in counts if c.table == "stored_files"), 0)
    rows = sum(c.target for c in counts)
    click.echo(f"Copied {rows} rows in {len(counts)} tables; {files} files match their SHA-256:")
    _echo_counts((c.table, c.target) for c in counts)


def register_cli(app):
    """Attach the command groups to ``app``."""
    app.cli.add_command(plan_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(demo)
    app.cli.add_command(chase)
    app.cli.add_command(applications_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(department_cli)
    app.cli.add_command(brief_cli)
    app.cli.add_command(annual_report)
    app.cli.add_command(scheduler)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    # ``flask db copy`` beside Flask-Migrate's own ``db upgrade`` and the like.
    from flask_migrate.cli import db as db_group

    if "copy" not in db_group.commands:
        db_group.add_command(db_copy)
    # Commands that commit as they go: a batch at a time, or a process that runs for long.
    batch = (chase, brief_send, scheduler, demo, backup_command, restore_command, db_copy)
    for command in (*app.cli.commands.values(), db_copy):
        as_cli_command(command, batch)
