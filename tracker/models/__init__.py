"""The data model; importing this package registers every table."""

from .audit import AuditEntry
from .departments import Department, DepartmentAlias, normalize_department_name
from .plan import Plan, Role, Section, Task, TaskDepartment, TaskGroup, chinese_numeral
from .returns import (
    Channel,
    CountKind,
    Evidence,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnCount,
    ReturnEvent,
    ReturnLine,
    ReturnState,
    ReturnVersion,
)
from .tokens import ApiToken
from .users import LoginAttempt, User, UserRole

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Channel",
    "CountKind",
    "Department",
    "DepartmentAlias",
    "Evidence",
    "LineStatus",
    "LoginAttempt",
    "PeriodKind",
    "Plan",
    "QuarterlyReturn",
    "ReportingPeriod",
    "ReturnCount",
    "ReturnEvent",
    "ReturnLine",
    "ReturnState",
    "ReturnVersion",
    "Role",
    "Section",
    "Task",
    "TaskDepartment",
    "TaskGroup",
    "User",
    "UserRole",
    "chinese_numeral",
    "normalize_department_name",
]
