"""The corpus of real reports, measured like a data set: split once, tuned on one part only.

The development part is what the rules were written against; the held-out part was
drawn at random before any tuning and is only ever scored (``python -m tests.corpus_report``
prints both). The floors below for the held-out part are what it measured the first time
it was run, so a change that loses ground on reports the rules never saw fails here.
"""

from __future__ import annotations

import time

from playground.core.diagnose import PITFALLS, diagnose

from .corpus_report import Score, forms, load
from .corpus_split import load_split

LABELS = (*PITFALLS, "none")


def test_the_corpus_is_real_labelled_and_split_once():
    samples = load()
    split = load_split()
    assert len(samples) >= 120
    names = {sample.name for sample in samples}
    assert names <= set(split["dev"]) | set(split["heldout"])  # type: ignore[arg-type]
    assert not set(split["dev"]) & set(split["heldout"])  # type: ignore[arg-type]
    assert set(split["tuned_before_split"]) <= set(split["dev"])  # type: ignore[arg-type]
    held = sum(sample.part == "heldout" for sample in samples)
    assert held / len(samples) >= 0.40
    for sample in samples:
        assert sample.source.startswith("https://"), sample.name
        assert sample.label in LABELS, sample.name
        assert len(sample.text.encode()) <= 8 * 1024, sample.name


def test_the_corpus_has_the_forms_people_paste():
    samples = load()
    shares = {form: 0 for form in forms("")}
    for sample in samples:
        for form, present in forms(sample.text).items():
            shares[form] += present
    total = len(samples)
    assert 1 - shares["final line"] / total >= 0.30, "without a final exception line"
    assert 1 - shares["frames"] / total >= 0.25, "without frames"
    assert shares["code"] / total >= 0.20, "with code"
    assert shares["not English"] / total >= 0.10, "not in English"


def _score(part: str, only: set[str] | None = None) -> tuple[Score, list[tuple[str, str, str]]]:
    score = Score()
    sure_and_wrong = []
    for sample in load(part):
        if only is not None and sample.name not in only:
            continue
        diagnosis = diagnose(sample.text)
        if not score.add(sample.label, diagnosis) and diagnosis.confidence == "high":
            sure_and_wrong.append((sample.name, sample.label, diagnosis.pitfall or "none"))
    return score, sure_and_wrong


def test_development_part_is_named_right_and_never_wrong_when_sure():
    score, sure_and_wrong = _score("dev")
    assert score.right / score.cases >= 0.88, score.lines("development")
    assert score.top2 / score.cases >= 0.93, score.lines("development")
    assert not sure_and_wrong


def test_every_case_is_diagnosed_quickly():
    for sample in load():
        started = time.perf_counter()
        diagnose(sample.text)
        assert time.perf_counter() - started < 0.2, sample.name


def test_held_out_part_keeps_what_it_first_measured():
    """The held-out cases of the first run keep what that run measured: 46/60 named right,
    52/60 within the top two, one wrong answer given as sure. These are floors, not
    targets (the targets, 90 %, 97 % and none wrong when sure, are not met); cases drawn
    into the held-out part later are reported by ``tests.corpus_report``, not held here."""
    first = set(load_split()["heldout_first_run"])  # type: ignore[call-overload]
    score, sure_and_wrong = _score("heldout", first)
    assert score.cases == len(first) == 60
    assert score.right / score.cases >= 0.76, score.lines("held-out")
    assert score.top2 / score.cases >= 0.86, score.lines("held-out")
    assert len(sure_and_wrong) <= 1, sure_and_wrong
