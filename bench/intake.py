"""Benchmark: how well the plan parser reads the corpus of real arrangements in tests/data/notices.

For every document there, the parser's result is compared with the expected result written by
reading the document (its ``.json``): each expected task is looked up by the words it starts
with, and its assignment is right when its lead departments, responsible departments and
"every department" mark all agree. A document whose stored copy is cut short must be refused,
and the tasks before the cut are scored from what the refusal says was read.

It prints one line per document, then assignments right / total and the documents refused that
should not have been. Targets: at least 97% right, no complete document refused.

    .venv/bin/python bench/intake.py [--verbose] [DIR]
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "notices"
DOCUMENT_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".xlsx")


@dataclass
class Score:
    """How one document came out."""

    name: str
    expect: str
    refused: bool
    reason: str = ""
    #: The refusal as the import page shows it.
    reason_zh: str = ""
    right: int = 0
    total: int = 0
    wrong: list = field(default_factory=list)
    #: The title and year as read agree with the expected ones (where the document shows them).
    heading_right: bool = True

    @property
    def as_expected(self):
        """Tell whether the document was refused exactly when it should have been."""
        return self.refused == (self.expect == "refused")


def _names(names):
    from tracker.models.departments import normalize_department_name

    return sorted(normalize_department_name(n) for n in names)


def _find(tasks, starts, used):
    """Return the first task not yet matched that starts with ``starts`` (or, failing that, holds it)."""
    for test in (lambda t: t.text.startswith(starts) or t.title.startswith(starts), lambda t: starts in t.text):
        for index, task in enumerate(tasks):
            if index not in used and test(task):
                used.add(index)
                return task
    return None


def score_document(path):
    """Parse the document at ``path`` and compare it with its ``.json``; return a :class:`Score`."""
    from tracker.plans.parser import PlanFormatError, parse_plan_file
    from tracker.plans.parser.model import describe_zh

    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    score = Score(path.name, expected["expect"], refused=False)
    try:
        plan = parse_plan_file(path)
    except PlanFormatError as exc:
        score.refused, score.reason, plan = True, str(exc), exc.partial
        score.reason_zh = describe_zh(exc)
    tasks = plan.tasks() if plan is not None else []
    if plan is not None:
        for key in ("title", "year"):
            want, got = expected.get(key), getattr(plan, key)
            if want and str(got).replace(" ", "") != str(want).replace(" ", ""):
                score.heading_right = False
                score.wrong.append(f"{key}: got {got!r}, expected {want!r}")
    used = set()
    for wanted in expected["tasks"]:
        score.total += 1
        task = _find(tasks, wanted["starts"], used)
        if task is None:
            score.wrong.append(f"{wanted['starts']}: not found")
            continue
        got = (_names(task.lead), _names(task.responsible), task.all_departments)
        want = (_names(wanted["lead"]), _names(wanted["responsible"]), wanted["all_departments"])
        if got == want:
            score.right += 1
        else:
            score.wrong.append(f"{wanted['starts']}: got {got}, expected {want}")
    return score


def documents(directory=CORPUS):
    """Return the corpus's documents (those with an expected result beside them)."""
    return sorted(
        p for p in Path(directory).iterdir() if p.suffix in DOCUMENT_SUFFIXES and p.with_suffix(".json").exists()
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", default=str(CORPUS))
    parser.add_argument("--verbose", action="store_true", help="List every wrong assignment.")
    args = parser.parse_args(argv)
    scores = [score_document(p) for p in documents(args.directory)]
    for s in scores:
        state = "refused" if s.refused else "parsed"
        mark = "" if s.as_expected else "  <-- expected " + s.expect
        print(f"{s.name:40} {state:8} {s.right:3}/{s.total:<3}{mark}")
        if args.verbose:
            if s.reason:
                print(f"    {s.reason}")
            for line in s.wrong:
                print(f"    {line}")
    right, total = sum(s.right for s in scores), sum(s.total for s in scores)
    wrongly_refused = [s.name for s in scores if s.refused and s.expect == "parsed"]
    not_refused = [s.name for s in scores if not s.refused and s.expect == "refused"]
    issuers = {json.loads(p.with_suffix(".json").read_text(encoding="utf-8")).get("issuer") for p in documents()}
    print(f"\ndocuments: {len(scores)} ({len(issuers)} issuers)")
    print(f"assignments right: {right} / {total} ({100 * right / max(total, 1):.1f}%)")
    print(f"titles and years right: {sum(s.heading_right for s in scores)} / {len(scores)}")
    print(f"complete documents refused: {len(wrongly_refused)} {wrongly_refused or ''}")
    print(f"cut documents not refused: {len(not_refused)} {not_refused or ''}")
    return 0 if total and right / total >= 0.97 and not wrongly_refused and not not_refused else 1


if __name__ == "__main__":
    sys.exit(main())
