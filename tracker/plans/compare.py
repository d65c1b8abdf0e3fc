"""A year's plan against the previous year's: tasks new, continued, dropped.

Continued tasks are matched by the similarity of their titles (and text: the share of character
pairs they have in common), never by code: codes
shift whenever a notice adds a section. The match is a suggestion for the office to check,
shown with its similarity; nothing is written.
"""

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


def _bigrams(text):
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _dice(a, b):
    """Return how alike two sets of character pairs are (0 to 1): 2|A∩B| / (|A| + |B|)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _features(task):
    return _bigrams(task.title), _bigrams(task.text[:200])


def _similarity(a, b):
    """Return how alike two tasks read: their titles, or the opening of their texts."""
    return max(_dice(a[0], b[0]), _dice(a[1], b[1]))


def previous_plan(plan):
    """Return the plan of the latest year before ``plan``'s, or None."""
    return Plan.query.filter(Plan.year < plan.year).order_by(Plan.year.desc()).first()


def compare_plans(plan, previous):
    """Match ``plan``'s tasks to ``previous``'s by similarity; return a :class:`Comparison`.

    Withdrawn tasks (撤销) are in neither year's list.
    """
    tasks = Task.query.filter_by(plan_id=plan.id, withdrawn_at=None).order_by(Task.position).all()
    earlier = Task.query.filter_by(plan_id=previous.id, withdrawn_at=None).order_by(Task.position).all()
    matched = _best_pairs([_features(t) for t in tasks], [_features(p) for p in earlier])
    result = Comparison(plan, previous)
    for i, task in enumerate(tasks):
        if i in matched:
            j, similarity = matched[i]
            result.continued.append((task, earlier[j], similarity))
        else:
            result.new.append(task)
    used_old = {j for j, _ in matched.values()}
    result.dropped = [p for j, p in enumerate(earlier) if j not in used_old]
    return result


def _best_pairs(mine, theirs):
    """Pair features of ``mine`` with those of ``theirs``, most alike first, each used once and at least
    :data:`THRESHOLD` alike; return ``{i: (j, similarity in percent)}``."""
    pairs = sorted(
        ((_similarity(t, p), i, j) for i, t in enumerate(mine) for j, p in enumerate(theirs)),
        reverse=True,
    )
    used_old, matched = set(), {}
    for score, i, j in pairs:
        if score < THRESHOLD:
            break
        if i in matched or j in used_old:
            continue
        used_old.add(j)
        matched[i] = (j, round(score * 100))
    return matched
