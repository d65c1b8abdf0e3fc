"""Damaged copies of the corpus's documents are read or refused, never a crash.

Each document is damaged in fixed, seeded ways: lines dropped, swapped, or salted with brackets,
numbering, role words and control characters; bytes of a .docx/.xlsx package flipped. Whatever
comes out must be a plan or a PlanFormatError (the page's refusal), never another exception
(the server error an office would see).
"""

import random

import pytest
from conftest import ROOT

from tracker.plans.parser import PlanFormatError, parse_plan_bytes
from tracker.plans.parser.model import describe_zh

NOTICES = ROOT / "tests" / "data" / "notices"
DOCUMENTS = sorted(p for p in NOTICES.iterdir() if p.suffix in (".txt", ".html", ".docx", ".xlsx"))
SALT = [
    "（",
    "）",
    "(",
    ")",
    "一、",
    "（一）",
    "1.",
    "①",
    "牵头",
    "负责",
    "各部门",
    "\x00",
    "\x0b",
    "2018年",
    "附件",
    "。",
]


def damaged(path, rng):
    data = path.read_bytes()
    if path.suffix in (".docx", ".xlsx"):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        return bytes(damaged)
    lines = data.decode("utf-8").splitlines()
    choice = rng.random()
    if choice < 0.3:
        del lines[rng.randrange(len(lines))]
    elif choice < 0.6:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        i = rng.randrange(len(lines))
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + rng.choice(SALT) + lines[i][at:]
    return "\n".join(lines).encode("utf-8")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_damaged_copies_are_read_or_refused(path):
    rng = random.Random(path.name)
    outcomes = set()
    for _ in range(25):
        try:
            plan = parse_plan_bytes(damaged(path, rng), path.name)
        except PlanFormatError as exc:
            # What the page would say: a Chinese reason, never an English one.
            assert describe_zh(exc) and "无法读取（" not in describe_zh(exc), str(exc)
            outcomes.add("refused")
        else:
            assert all(task.title for task in plan.tasks())
            outcomes.add("read")
    assert outcomes
