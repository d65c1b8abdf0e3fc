"""Text as people paste it from Word or a web page: soft line breaks become line breaks; other
invisible control characters, which no export or database should be asked to hold, are refused."""

import re

from .errors import TrackerError

#: Word's soft line break (vertical tab), a page break, and Unicode's line and paragraph separators.
SOFT_BREAKS = re.compile("[\x0b\x0c\x85\u2028\u2029]")
#: C0 controls other than tab, line feed and carriage return, and DEL (NUL is among them); and
#: lone surrogates, which JSON can spell (\\ud800) but no database encoding can store.
FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")


def normalise(text):
    """Return ``text`` with soft line breaks made line breaks."""
    return SOFT_BREAKS.sub("\n", text)


def has_forbidden(text):
    """Tell whether ``text`` holds a control character that is refused."""
    return FORBIDDEN.search(text) is not None


class ControlCharacter(TrackerError, ValueError):
    """A string held a refused control character; ``field`` says where (``lines[0].done``)."""

    def __init__(self, field):
        super().__init__(
            f"{field or 'the body'} must not hold control characters (NUL, escape and the like) or lone surrogates",
            "内容含有不能保存的控制字符，请删除后重试。",
            code="invalid",
            fields={field or "body": "no control characters"},
        )
        self.field = field


def clean_json(value, path=""):
    """Return a parsed JSON value with every string normalised; raise ControlCharacter on a refused one."""
    if isinstance(value, str):
        if has_forbidden(value):
            raise ControlCharacter(path)
        return normalise(value)
    if isinstance(value, list):
        return [clean_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            clean_json(key, path): clean_json(item, f"{path}.{key}" if path else key) for key, item in value.items()
        }
    return value


#: Excel's escape for a character XML cannot carry (and for CR): ``_x000D_``; ``_x005F_`` is "_".
EXCEL_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def from_excel(value):
    """Return a cell's value as Excel shows it: its ``_xHHHH_`` escapes decoded (openpyxl leaves them).

    Excel, and the product's own workbooks, write a CR as ``_x000D_`` and a literal ``_x0041_`` as
    ``_x005F_x0041_``; one pass from left to right undoes both. Values other than text are returned as
    they are.
    """
    if isinstance(value, str) and "_x" in value:
        return EXCEL_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value)
    return value
