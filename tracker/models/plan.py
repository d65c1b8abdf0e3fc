"""The work arrangement (工作安排) as a plan of sections, groups and tasks."""

import enum

from sqlalchemy import func, orm

from ..extensions import db
from .base import enum_column_type, utcnow
from .departments import Department


class Plan(db.Model):
    """A year's work arrangement (e.g. 2018年天津开发区政务公开重点工作安排)."""

    __tablename__ = "plans"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    #: The office that issued the notice (印发单位).
    issuing_office = db.Column(db.String(200))
    issued_on = db.Column(db.Date)
    #: File name and SHA-256 of the file the plan was last loaded from.
    source_name = db.Column(db.String(255))
    source_sha256 = db.Column(db.String(64))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    sections = orm.relationship(
        "Section", back_populates="plan", cascade="all, delete-orphan", order_by="Section.number"
    )
    tasks = orm.relationship("Task", back_populates="plan", cascade="all, delete-orphan", order_by="Task.position")

    def __repr__(self):
        return f"<Plan {self.year}>"


class Section(db.Model):
    """A section of the plan (一、切实加强公开解读回应工作)."""

    __tablename__ = "sections"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("plan_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)

    plan = orm.relationship("Plan", back_populates="sections")
    groups = orm.relationship(
        "TaskGroup", back_populates="section", cascade="all, delete-orphan", order_by="TaskGroup.number"
    )

    @property
    def numeral(self):
        """Return the Chinese numeral the document uses (一, 二, …)."""
        return chinese_numeral(self.number)


class TaskGroup(db.Model):
    """A group within a section ((一)围绕建设法治政府全面推进政务公开)."""

    __tablename__ = "task_groups"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("section_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    section_id = db.Column(db.Integer, db.ForeignKey("sections.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)

    section = orm.relationship("Section", back_populates="groups")
    tasks = orm.relationship("Task", back_populates="group", order_by="Task.position")

    @property
    def numeral(self):
        """Return the Chinese numeral the document uses (一, 二, …)."""
        return chinese_numeral(self.number)


class Role(enum.StrEnum):
    """A department's part in a task."""

    LEAD = "lead"  #: 牵头
    RESPONSIBLE = "responsible"  #: 负责落实 (and 配合)

    @property
    def label(self):
        """Return the Chinese label."""
        return {"lead": "牵头", "responsible": "负责落实"}[self.value]


class Task(db.Model):
    """A task (工作任务): a numbered item, or a group that has no numbered items."""

    __tablename__ = "tasks"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("plan_id", "code"),)

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    group_id = db.Column(db.Integer, db.ForeignKey("task_groups.id", ondelete="CASCADE"), nullable=False)
    #: ``1.1.4`` (section.group.item) or ``3.1`` (a group that is itself the task).
    code = db.Column(db.String(20), nullable=False)
    #: Order in the document, from 1.
    position = db.Column(db.Integer, nullable=False)
    #: The text up to the first 。 (工作任务).
    title = db.Column(db.String(500), nullable=False)
    #: The rest of the text without the departments bracket (具体要求).
    details = db.Column(db.Text, nullable=False, default="")
    #: The whole text as written, departments bracket included.
    text = db.Column(db.Text, nullable=False)
    #: 完成时限, where the source gives one.
    deadline = db.Column(db.String(100), nullable=False, default="")
    #: Every department carries it out (管委会各部门, 各部门, or no department named).
    is_all_departments = db.Column(db.Boolean, nullable=False, default=False)
    #: The notice's words for every department (市政府各部门, 各镇人民政府、街道办事处), as written.
    all_wording = db.Column(db.String(100), nullable=False, default="")
    #: The list of departments is open-ended (…等相关部门).
    is_and_related = db.Column(db.Boolean, nullable=False, default=False)
    #: When a reload left the task out while forms held reported work on it (撤销): it is kept, with
    #: those lines, but no longer asked about. None while the task is in the plan.
    withdrawn_at = db.Column(db.DateTime(timezone=True))

    plan = orm.relationship("Plan", back_populates="tasks")
    group = orm.relationship("TaskGroup", back_populates="tasks")
    assignments = orm.relationship(
        "TaskDepartment",
        back_populates="task",
        cascade="all, delete-orphan",
        order_by="TaskDepartment.position",
    )

    def __repr__(self):
        return f"<Task {self.code}>"

    def departments_with(self, role):
        """Return the departments holding ``role`` in this task, in the document's order."""
        return [a.department for a in self.assignments if a.role == role]

    @property
    def lead_departments(self):
        """Return the lead (牵头) departments."""
        return self.departments_with(Role.LEAD)

    @property
    def responsible_departments(self):
        """Return the responsible (负责落实) departments."""
        return self.departments_with(Role.RESPONSIBLE)

    @property
    def is_withdrawn(self):
        """Tell whether the task was withdrawn from the plan (撤销)."""
        return self.withdrawn_at is not None

    @property
    def is_group_task(self):
        """Tell whether the task is a group without numbered items (code ``3.1``)."""
        return self.code.count(".") == 1


class TaskDepartment(db.Model):
    """A department's role in a task."""

    __tablename__ = "task_departments"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("task_id", "department_id", "role"),)

    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    department_id = db.Column(
        db.Integer, db.ForeignKey("departments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    role = db.Column(enum_column_type(Role), nullable=False)
    #: Order within the task's bracket.
    position = db.Column(db.Integer, nullable=False)

    task = orm.relationship("Task", back_populates="assignments")
    department = orm.relationship("Department")


#: The word that marks a withdrawn task wherever tasks are listed.
WITHDRAWN_ZH = "撤销"


def marked_title(title, is_withdrawn):
    """Return a task's title prefixed with 【撤销】 when the task was withdrawn, for text without badges."""
    return f"【{WITHDRAWN_ZH}】{title}" if is_withdrawn else title


_NUMERALS = "零一二三四五六七八九"


def chinese_numeral(n):
    """Return ``n`` (1-99) as a Chinese numeral: 1 → 一, 10 → 十, 12 → 十二, 21 → 二十一.

    Numbers outside 1-99 (no notice numbers that far) are written in digits.
    """
    if not 0 < n < 100:
        return str(n)
    if n < 10:
        return _NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def parse_chinese_numeral(text):
    """Return the value of a Chinese numeral from 一 to 九十九; the inverse of :func:`chinese_numeral`."""
    if "十" not in text:
        if len(text) != 1 or text not in _NUMERALS[1:]:
            raise ValueError(f"not a numeral: {text}")
        return _NUMERALS.index(text)
    tens, _, ones = text.partition("十")
    value = (_NUMERALS.index(tens) if tens else 1) * 10 + (_NUMERALS.index(ones) if ones else 0)
    if chinese_numeral(value) != text:
        raise ValueError(f"not a numeral: {text}")
    return value


def plan_departments(plan, rows=False):
    """Return the departments the plan names, in the order the document first names them.

    With ``rows``, return plain ``(id, name, short_name)`` rows instead of Department objects,
    for pages that list hundreds of departments and change none.
    """
    first = (
        db.session.query(
            TaskDepartment.department_id.label("department_id"),
            func.min(Task.position * 1000 + TaskDepartment.position).label("first"),
        )
        .join(Task, Task.id == TaskDepartment.task_id)
        .filter(Task.plan_id == plan.id)
        .group_by(TaskDepartment.department_id)
        .subquery()
    )
    entities = (Department.id, Department.name, Department.short_name) if rows else (Department,)
    return db.session.query(*entities).join(first, first.c.department_id == Department.id).order_by(first.c.first).all()
