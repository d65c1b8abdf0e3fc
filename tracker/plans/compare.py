"""A year's plan against the previous year's: tasks new, continued, dropped.

Continued tasks are matched by the similarity of their titles (and text), never by code: codes
shift whenever a notice adds a section. The match is a suggestion for the office to check,
shown with its similarity; nothing is written.
"""

import difflib
from dataclasses import dataclass, field

from ..models import Plan, Task

#: Titles at least this similar are offered as the same task continued.
THRESHOLD = 0.6


@dataclass
class Comparison:
    """What changed between two years' plans."""

    plan: Plan
    previous: Plan
    new: list = field(default_factory=list)
    #: ``(task, previous_task, similarity)``, best first.
    continued: list = field(default_factory=list)
    dropped: list = field(default_factory=list)


def _similarity(a, b):
    title = difflib.SequenceMatcher(None, a.title, b.title).ratio()
    if title >= THRESHOLD:
        return title
    text = difflib.SequenceMatcher(None, a.text[:200], b.text[:200])
    return max(title, text.ratio() if text.quick_ratio() >= THRESHOLD else 0)


def previous_plan(plan):
    """Return the plan of the latest year before ``plan``'s, or None."""
    return Plan.query.filter(Plan.year < plan.year).order_by(Plan.year.desc()).first()


def compare_plans(plan, previous):
    """Match ``plan``'s tasks to ``previous``'s by similarity; return a :class:`Comparison`."""
    tasks = Task.query.filter_by(plan_id=plan.id).order_by(Task.position).all()
    earlier = Task.query.filter_by(plan_id=previous.id).order_by(Task.position).all()
    pairs = sorted(
        ((_similarity(t, p), i, j) for i, t in enumerate(tasks) for j, p in enumerate(earlier)),
        reverse=True,
    )
    used_new, used_old, matched = set(), set(), {}
    for score, i, j in pairs:
        if score < THRESHOLD:
            break
        if i in used_new or j in used_old:
            continue
        used_new.add(i)
        used_old.add(j)
        matched[i] = (tasks[i], earlier[j], round(score * 100))
    result = Comparison(plan, previous)
    for i, task in enumerate(tasks):
        if i in matched:
            result.continued.append(matched[i])
        else:
            result.new.append(task)
    result.dropped = [p for j, p in enumerate(earlier) if j not in used_old]
    return result
