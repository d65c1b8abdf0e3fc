"""The data model; importing this package registers every table."""

from .audit import AuditEntry
from .briefs import BriefDelivery, BriefKind, BriefSubscription
from .chase import (
    ChaseEntry,
    ChaseItem,
    ChaseResult,
    ChaseStep,
    MailState,
    Notification,
    NotificationPreference,
    OutgoingMail,
)
from .departments import Department, DepartmentAlias, normalize_department_name
from .disclosure import (
    AnnualReport,
    ApplicantType,
    Application,
    CalendarException,
    CaseKind,
    CaseResult,
    DisclosureFigures,
    ReceiptChannel,
    ReviewCase,
)
from .files import StoredFile
from .jobs import ArchiveFile, JobRun, SchedulerState, Setting
from .plan import Plan, Role, Section, Task, TaskDepartment, TaskGroup, chinese_numeral
from .plan_import import PlanImport
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
from .summaries import HalfYearSummary, SummaryEvent, SummaryVersion
from .tokens import ApiToken
from .users import LoginAttempt, LoginThrottle, User, UserRole, UserSession

__all__ = [
    "AnnualReport",
    "ApiToken",
    "ApplicantType",
    "Application",
    "ArchiveFile",
    "AuditEntry",
    "BriefDelivery",
    "BriefKind",
    "BriefSubscription",
    "CalendarException",
    "CaseKind",
    "CaseResult",
    "Channel",
    "ChaseEntry",
    "ChaseItem",
    "ChaseResult",
    "ChaseStep",
    "CountKind",
    "Department",
    "DepartmentAlias",
    "DisclosureFigures",
    "Evidence",
    "HalfYearSummary",
    "JobRun",
    "LineStatus",
    "LoginAttempt",
    "LoginThrottle",
    "MailState",
    "Notification",
    "NotificationPreference",
    "OutgoingMail",
    "PeriodKind",
    "Plan",
    "PlanImport",
    "QuarterlyReturn",
    "ReceiptChannel",
    "ReportingPeriod",
    "ReturnCount",
    "ReturnEvent",
    "ReturnLine",
    "ReturnState",
    "ReturnVersion",
    "ReviewCase",
    "Role",
    "SchedulerState",
    "Section",
    "Setting",
    "StoredFile",
    "SummaryEvent",
    "SummaryVersion",
    "Task",
    "TaskDepartment",
    "TaskGroup",
    "User",
    "UserRole",
    "UserSession",
    "chinese_numeral",
    "normalize_department_name",
]
