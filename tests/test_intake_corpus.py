"""The parser against the corpus of real arrangements in tests/data/notices (see its README).

Each document must be refused exactly when its stored copy is cut short, and the assignments
read from the corpus as a whole must be at least 97% right, as ``bench/intake.py`` measures.
"""

import importlib.util

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("intake_bench", ROOT / "bench" / "intake.py")
intake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(intake)

DOCUMENTS = intake.documents()
#: Cut short where the parser cannot see it (none at present).
UNSEEN_CUTS = set()


def test_the_corpus_is_real_and_varied():
    import json

    expected = [json.loads(p.with_suffix(".json").read_text(encoding="utf-8")) for p in DOCUMENTS]
    assert len(DOCUMENTS) >= 15
    assert len({e["issuer"] for e in expected if e["issuer"]}) >= 10
    assert {p.suffix for p in DOCUMENTS} >= {".txt", ".html", ".docx", ".xlsx"}
    assert all(e["source"].startswith("http") for e in expected)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="cut not detected")) if p.name in UNSEEN_CUTS else p
        for p in DOCUMENTS
    ],
    ids=lambda p: p.name,
)
def test_each_document_is_refused_exactly_when_cut_short(path):
    score = intake.score_document(path)
    assert score.as_expected, score.reason
    if score.refused:
        assert "cut short" in score.reason
        assert "文件可能不完整" in score.reason_zh


def test_at_least_97_percent_of_assignments_are_right():
    scores = [intake.score_document(p) for p in DOCUMENTS]
    right, total = sum(s.right for s in scores), sum(s.total for s in scores)
    wrong = [line for s in scores for line in s.wrong]
    assert total >= 50
    assert right / total >= 0.97, wrong


#: Headings the document's text does not give: the year only in the page's address, a title
#: whose first line a spam mirror replaced.
UNKNOWABLE_HEADINGS = {"p02-beijing-2017.html", "p06-liaoning-2016.html"}


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if p.name not in UNKNOWABLE_HEADINGS], ids=lambda p: p.name)
def test_title_and_year_are_read(path):
    score = intake.score_document(path)
    assert score.heading_right, score.wrong
