"""HTML for the dashboard's large tables.

A city's matrix has thousands of cells; building each row here with explicit escaping costs a
tenth of what the same markup costs in a Jinja loop, which keeps the dashboard near the cost of
a bare page (see bench/dashboard.py).
"""

from markupsafe import Markup, escape

from ..workflow import STATE_COLORS


def _percent(value):
    return "—" if value is None else f"{value}%"


def matrix_row(row, period_labels, labels, form_url):
    """Return the cells of one department's row: a state badge per quarter, then its two rates."""
    parts = []
    for period, cell in zip(period_labels, row["cells"], strict=True):
        if cell is None:
            parts.append('<td class="text-center">—</td>')
            continue
        state = cell["state"]
        extra = ' <span class="badge text-bg-light border late-mark">迟报</span>' if cell["late"] else ""
        if cell["returned"]:
            extra += f' <span class="text-muted" title="退回次数">↩{cell["returned"]}</span>'
        parts.append(
            f'<td class="text-center" data-period="{period}" data-state="{state}">'
            f'<a class="text-decoration-none" href="{form_url}{cell["id"]}">'
            f'<span class="badge text-bg-{STATE_COLORS[state]}">{labels[state]}</span></a>{extra}</td>'
        )
    rates = row["rates"]
    parts.append(f'<td class="text-center">{_percent(rates["reporting_rate"])}</td>')
    parts.append(f'<td class="text-center">{_percent(rates["on_time_rate"])}</td>')
    return Markup(
        f'<tr data-department="{escape(row["department"].name)}">'
        f'<th scope="row" class="fw-normal">{escape(row["department"].name)}</th>' + "".join(parts) + "</tr>"
    )


def progress_rows(tasks):
    """Return one table row per task: code, title, a progress bar, done/lines."""
    rows = []
    for t in tasks:
        percent = t["percent"]
        label = "—" if percent is None else f"{percent}%"
        rows.append(
            f'<tr><th scope="row" style="width:4rem" class="fw-normal text-muted">{escape(t["code"])}</th>'
            f'<th scope="row" class="fw-normal">{escape(t["title"])}</th>'
            f'<td style="width:30%"><div class="d-flex align-items-center gap-2"><div class="progress flex-grow-1">'
            f'<div class="progress-bar bg-success" style="width:{percent or 0}%"></div></div>'
            f'<span class="text-nowrap">{label}</span></div></td>'
            f'<td class="text-muted text-end" style="width:5rem">{t["done"]}/{t["lines"]}</td></tr>'
        )
    return Markup("".join(rows))


def count_rows(rows):
    """Return one table row per department: 报送 and 发布 totals with two bars scaled to the largest."""
    top = max([1, *(r["submitted"] for r in rows), *(r["published"] for r in rows)])
    out = []
    for r in rows:
        out.append(
            f'<tr><th scope="row" class="fw-normal">{escape(r["department"].name)}</th>'
            f'<td class="text-end">{r["submitted"]}</td>'
            f'<td class="text-end">{r["published"]}</td><td><svg width="100%" height="14" viewBox="0 0 100 14" '
            f'preserveAspectRatio="none" aria-hidden="true">'
            f'<rect x="0" y="1" height="5" width="{100 * r["submitted"] / top:.1f}" fill="#0d6efd"></rect>'
            f'<rect x="0" y="8" height="5" width="{100 * r["published"] / top:.1f}" fill="#198754"></rect>'
            f"</svg></td></tr>"
        )
    return Markup("".join(out))
