"""The data model; importing this package registers every table."""

from .audit import AuditEntry
from .departments import Department, DepartmentAlias, normalize_department_name
from .plan import Plan, Role, Section, Task, TaskDepartment, TaskGroup, chinese_numeral
from .users import LoginAttempt, User, UserRole

__all__ = [
    "AuditEntry",
    "Department",
    "DepartmentAlias",
    "LoginAttempt",
    "Plan",
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
