"""Read a work arrangement (工作安排, 工作要点, 任务分解表) into a :class:`ParsedPlan`.

The parser serves the genre, not one notice: titles with or without a "关于印发…的通知" wrapper
and web-page furniture around them; numbering 一、 / （一） / 1. / (1) / ①, with levels left
out; departments in brackets of any width and shape, several to a paragraph, or labelled
(牵头单位：…); words for every department (各部门, 市政府各部门, …); and task tables with their
columns in any order (:mod:`.table`).

Parsing is pure: nothing here touches the database, so a file that cannot be read is refused
before anything is written. Errors are :class:`PlanFormatError` naming the place (line,
paragraph or row); what could be read but perhaps not as meant is a :class:`ParseWarning` on
the plan, for the office to look at in the preview.
"""

from .departments import Departments, departments_phrase, is_collective, is_department_phrase, parse_department_phrase
from .files import SUFFIXES, parse_plan_bytes, parse_plan_file
from .model import ParsedGroup, ParsedPlan, ParsedSection, ParsedTask, ParseWarning, PlanFormatError
from .notice import parse_notice_lines, split_title, split_trailing_bracket
from .table import parse_table_rows

__all__ = [
    "SUFFIXES",
    "Departments",
    "ParseWarning",
    "ParsedGroup",
    "ParsedPlan",
    "ParsedSection",
    "ParsedTask",
    "PlanFormatError",
    "departments_phrase",
    "is_collective",
    "is_department_phrase",
    "parse_department_phrase",
    "parse_notice_lines",
    "parse_plan_bytes",
    "parse_plan_file",
    "parse_table_rows",
    "split_title",
    "split_trailing_bracket",
]
