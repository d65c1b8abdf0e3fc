"""The look shared by every workbook: fonts, borders, fills, number formats, and how much room text takes."""

import math

FONT_NAME = "宋体"
# No font family: XlsxWriter would name every font a sans-serif (Swiss) one, and a program without
# 宋体 would stand a sans-serif font in for it, wider than the serif one the layouts were measured with.
_TITLE_FONT = {"font_name": "黑体", "font_size": 16, "bold": True, "font_family": 0}
_SUBTITLE_FONT = {"font_name": FONT_NAME, "font_size": 10, "font_family": 0}
_HEADER_FONT = {"font_name": FONT_NAME, "font_size": 11, "bold": True, "font_family": 0}
_BODY_FONT = {"font_name": FONT_NAME, "font_size": 10.5, "font_family": 0}
_BORDER = {"border": 1, "border_color": "#000000"}  # thin, black, on all four sides
_HEADER_FILL = {"pattern": 1, "bg_color": "#D9E1F2"}
_SECTION_FILL = {"pattern": 1, "bg_color": "#F2F2F2"}
_CENTER = {"align": "center", "valign": "vcenter", "text_wrap": True}
_WRAP = {"align": "left", "valign": "top", "text_wrap": True}
_LEFT = {"align": "left", "valign": "vcenter", "text_wrap": True}

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"

#: Every cell format of the workbooks by name, as XlsxWriter's format properties.
FORMATS = {
    # The merged title rows: a table's title, a title that may wrap (the breakdown's, the annual
    # report's), the subtitle (plan, period, time produced).
    "title": {**_TITLE_FONT, "align": "center", "valign": "vcenter"},
    "title_wrap": {**_TITLE_FONT, **_CENTER},
    "subtitle": {**_SUBTITLE_FONT, "align": "right", "valign": "vcenter"},
    # The header row, a section's heading (shaded) and a group's (not), and a totals row.
    "header": {**_HEADER_FONT, **_CENTER, **_BORDER, **_HEADER_FILL},
    "heading": {**_HEADER_FONT, **_LEFT, **_BORDER, **_SECTION_FILL},
    "group": {**_HEADER_FONT, **_LEFT, **_BORDER},
    "total": {**_HEADER_FONT, **_CENTER, **_BORDER, **_HEADER_FILL},
    "total_percent": {**_HEADER_FONT, **_CENTER, **_BORDER, **_HEADER_FILL, "num_format": PERCENT_FORMAT},
    # The body: wrapped text from the top, text left and centred vertically, centred values.
    "text": {**_BODY_FONT, **_WRAP, **_BORDER},
    "left": {**_BODY_FONT, **_LEFT, **_BORDER},
    "center": {**_BODY_FONT, **_CENTER, **_BORDER},
    "number": {**_BODY_FONT, **_CENTER, **_BORDER},
    "percent": {**_BODY_FONT, **_CENTER, **_BORDER, "num_format": PERCENT_FORMAT},
    "date": {**_BODY_FONT, **_CENTER, **_BORDER, "num_format": DATE_FORMAT},
    "datetime": {**_BODY_FONT, **_CENTER, **_BORDER, "num_format": DATETIME_FORMAT},
    # The register's dates (its other cells have the default look).
    "plain_date": {"num_format": DATE_FORMAT},
}

#: What Excel adds to a column's width for the cell's padding (5 pixels of a 7-pixel character).
PADDING = 5 / 7


def display_width(text):
    """Return the width of ``text`` in column units: a CJK character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text or "")


def text_lines(text, width):
    """Estimate how many printed lines ``text`` takes in a column of ``width``: each paragraph starts
    a line, and a column of width w holds about 0.6·w CJK characters at 10.5 pt (measured in print)."""
    per_line = max(width * 1.2, 1)
    return sum(max(1, math.ceil(display_width(paragraph) / per_line)) for paragraph in text.split("\n"))


def row_height(texts_and_widths, line_height=15):
    """Estimate the height a row needs so that its wrapped texts are printed whole."""
    lines = max([1, *(text_lines(text, width) for text, width in texts_and_widths if isinstance(text, str))])
    return lines * line_height + 4
