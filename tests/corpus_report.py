"""Accuracy of the diagnosis on the corpus of real reports: ``python -m tests.corpus_report``.

Each file in ``tests/diagnose_corpus/`` starts with ``# source:``, ``# label:`` and
``# confirmed:`` lines; the rest is the text as it was posted. The label ``none`` means
no pitfall of this tool applies, and the right answer is to name none.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from playground.core.diagnose import Diagnosis, diagnose

CORPUS = Path(__file__).parent / "diagnose_corpus"


@dataclass(frozen=True)
class Sample:
    """One stored report: where it came from, its confirmed label, its text."""

    name: str
    source: str
    label: str
    text: str


def load() -> list[Sample]:
    samples = []
    for path in sorted(CORPUS.glob("*.txt")):
        header: dict[str, str] = {}
        body: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not body and line.startswith("# ") and ":" in line:
                key, _, value = line[2:].partition(":")
                header[key.strip()] = value.strip()
            else:
                body.append(line)
        samples.append(Sample(path.stem, header["source"], header["label"], "\n".join(body)))
    return samples


def answer(diagnosis: Diagnosis) -> str:
    return diagnosis.pitfall or "none"


def main() -> int:
    samples = load()
    confusion: Counter[tuple[str, str]] = Counter()
    right = 0
    for sample in samples:
        diagnosis = diagnose(sample.text)
        got = answer(diagnosis)
        confusion[(sample.label, got)] += 1
        ok = got == sample.label
        right += ok
        mark = "ok " if ok else "BAD"
        print(f"{mark} {sample.name:40} label={sample.label:28} got={got} ({diagnosis.confidence})")
    print()
    print(f"accuracy: {right}/{len(samples)} = {right / len(samples):.0%}")
    wrong = {pair: n for pair, n in confusion.items() if pair[0] != pair[1]}
    if wrong:
        print("confusion (label -> answer: count):")
        for (label, got), count in sorted(wrong.items()):
            print(f"  {label} -> {got}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
