"""The corpus of real reports: at least 90 % named right, no wrong answer given as sure."""

from __future__ import annotations

from playground.core.diagnose import PITFALLS, diagnose

from .corpus_report import load


def test_the_corpus_is_real_and_labelled():
    samples = load()
    assert len(samples) >= 30
    for sample in samples:
        assert sample.source.startswith("https://"), sample.name
        assert sample.label in (*PITFALLS, "none"), sample.name
        assert len(sample.text.encode()) <= 8 * 1024, sample.name


def test_accuracy_and_no_confident_mistake():
    samples = load()
    right = 0
    for sample in samples:
        diagnosis = diagnose(sample.text)
        got = diagnosis.pitfall or "none"
        if got == sample.label:
            right += 1
        elif diagnosis.pitfall is not None:
            assert diagnosis.confidence != "high", (sample.name, got, diagnosis.reason)
    assert right / len(samples) >= 0.9, f"{right}/{len(samples)}"
