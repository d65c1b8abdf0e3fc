"""tracker/ uses the spreadsheet libraries through their public API only.

Private modules and names (``openpyxl.cell._writer``, ``_get_writer()``, a worksheet's ``_writer``)
change without notice between versions: a workbook written through them breaks on an upgrade.
The check reads the source: an import of a private module or name of openpyxl or XlsxWriter,
and any ``x._name`` (on something other than ``self`` or ``cls``) whose name is private in
either library: a function, method or class it defines, or an attribute it sets on ``self``.
"""

import ast
import functools
import importlib.util
from pathlib import Path

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
LIBRARIES = ("openpyxl", "xlsxwriter")


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own(node):
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _library(module):
    return (module or "").split(".")[0] in LIBRARIES


@functools.cache
def library_private_names():
    """Return the private names the libraries define: functions, methods, classes, ``self._x = …``."""
    names = set()
    for library in LIBRARIES:
        folder = Path(importlib.util.find_spec(library).origin).parent
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_bytes())):
                if isinstance(node, ast.FunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
    return {name for name in names if _private(name)}


def private_uses(source):
    """Yield ``(line, what)`` for each private use of openpyxl or XlsxWriter in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _library(alias.name) and any(_private(part) for part in alias.name.split(".")):
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level and _library(node.module):
            names = [*node.module.split("."), *(alias.name for alias in node.names)]
            if any(_private(name) for name in names):
                yield node.lineno, f"from {node.module} import {', '.join(a.name for a in node.names)}"
        elif isinstance(node, ast.Attribute) and node.attr in library_private_names() and not _own(node.value):
            yield node.lineno, f".{node.attr}"


def test_tracker_uses_no_private_name_of_openpyxl_or_xlsxwriter():
    found = [
        f"{path.relative_to(TRACKER.parent)}:{line}: {what}"
        for path in sorted(TRACKER.rglob("*.py"))
        for line, what in private_uses(path.read_text(encoding="utf-8"))
    ]

    assert found == []


def test_the_check_finds_the_private_uses_the_old_row_writer_made():
    source = """
from openpyxl import Workbook
from openpyxl.cell._writer import write_cell
import openpyxl.worksheet._writer
from openpyxl.utils.datetime import _to_excel

def stream(workbook):
    sheet = workbook.create_sheet("s")
    sheet._get_writer()
    sheet._writer.write_row = None
    self._own = 1
    return sheet.__class__
"""

    assert [line for line, _ in private_uses(source)] == [3, 4, 5, 9, 10]
    # Another library's private name, or the code's own, is not this check's business.
    assert list(private_uses("import enum\n\ndef f(e, x):\n    return e._value2member_map_, x._mine\n")) == []
