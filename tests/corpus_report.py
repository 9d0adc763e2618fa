"""Accuracy of the diagnosis on the corpus of real reports: ``python -m tests.corpus_report``.

Each file in ``tests/diagnose_corpus/`` starts with ``# source:``, ``# label:`` and
``# confirmed:`` lines; the rest is the text as it was posted. The label ``none`` means
no pitfall of this tool applies, and the right answer is to name none.

The corpus is split once (``tests/diagnose_split.json``, see ``tests.corpus_split``).
Rules are written looking at the development part only: this report prints each
development case, but of the held-out part only the totals. ``--part dev`` leaves the
held-out part out entirely.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.diagnose import Diagnosis, diagnose

from .corpus_split import load_split, part_of

CORPUS = Path(__file__).parent / "diagnose_corpus"
_FRAME = re.compile(r'File "[^"]+", line \d+|\.py:\d+ in \w|^\s*at \w', re.MULTILINE)
_FINAL = re.compile(r"^\S*(?:Error|Exception|Greenlet)\b.*:", re.MULTILINE)
_CODE = re.compile(
    r"^\s*(?:async def |def |class |from \w[\w.]* import |import \w|await |\w+ = )", re.MULTILINE
)


@dataclass(frozen=True)
class Sample:
    """One stored report: where it came from, its confirmed label, its text, its part."""

    name: str
    source: str
    label: str
    text: str
    part: str


def load(part: str | None = None) -> list[Sample]:
    """The corpus, or one part of it (``dev`` or ``heldout``)."""
    split = load_split()
    samples = []
    for path in sorted(CORPUS.glob("*.txt")):
        header: dict[str, str] = {}
        body: list[str] = []
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not body and line.startswith("# ") and ":" in line and len(header) < 3:
                key, _, value = line[2:].partition(":")
                header[key.strip()] = value.strip()
            else:
                body.append(line)
        where = part_of(path.stem, split)
        if where is None:
            raise SystemExit(f"{path.name} is in no part: run python -m tests.corpus_split")
        if part is None or where == part:
            samples.append(
                Sample(path.stem, header["source"], header["label"], "\n".join(body), where)
            )
    return samples


def answer(diagnosis: Diagnosis) -> str:
    return diagnosis.pitfall or "none"


def top_two(diagnosis: Diagnosis) -> tuple[str, ...]:
    return (answer(diagnosis), *diagnosis.alternatives[:1])


def forms(text: str) -> dict[str, bool]:
    """Which forms a text has, by simple signs: frames, a final line, code, a non-English text."""
    letters = [c for c in text if c.isalpha()]
    foreign = sum(1 for c in letters if ord(c) > 0x24F)
    return {
        "frames": bool(_FRAME.search(text)),
        "final line": bool(_FINAL.search(text)),
        "code": len(_CODE.findall(text)) >= 2,
        "not English": bool(letters) and foreign / len(letters) > 0.15,
    }


@dataclass
class Score:
    """Counts for one part of the corpus."""

    cases: int = 0
    right: int = 0
    top2: int = 0
    confidence: Counter[str] = field(default_factory=Counter)
    confident_right: Counter[str] = field(default_factory=Counter)

    def add(self, label: str, diagnosis: Diagnosis) -> bool:
        ok = answer(diagnosis) == label
        self.cases += 1
        self.right += ok
        self.top2 += label in top_two(diagnosis)
        self.confidence[diagnosis.confidence] += 1
        self.confident_right[diagnosis.confidence] += ok
        return ok

    def lines(self, name: str) -> list[str]:
        if not self.cases:
            return [f"{name}: no cases"]
        out = [
            f"{name}: {self.right}/{self.cases} named right = {self.right / self.cases:.0%}, "
            f"top-2 {self.top2}/{self.cases} = {self.top2 / self.cases:.0%}"
        ]
        for level in ("high", "medium", "low", "none"):
            n = self.confidence[level]
            if n:
                ok = self.confident_right[level]
                out.append(f"  {level:6} answers: {ok}/{n} right = {ok / n:.0%}")
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus_report")
    parser.add_argument("--part", choices=("dev", "heldout", "both"), default="both")
    args = parser.parse_args(argv)
    samples = load(None if args.part == "both" else args.part)
    scores = {"dev": Score(), "heldout": Score()}
    confusion: dict[str, Counter[tuple[str, str]]] = {"dev": Counter(), "heldout": Counter()}
    nones: Counter[str] = Counter()
    shapes: Counter[str] = Counter()
    for sample in samples:
        diagnosis = diagnose(sample.text)
        got = answer(diagnosis)
        ok = scores[sample.part].add(sample.label, diagnosis)
        confusion[sample.part][(sample.label, got)] += 1
        if got == "none":
            nones[sample.part] += 1
        for form, present in forms(sample.text).items():
            shapes[form] += present
        if sample.part == "dev":
            mark = "ok " if ok else "BAD"
            alt = f" alt={','.join(diagnosis.alternatives[:2])}" if diagnosis.alternatives else ""
            print(
                f"{mark} {sample.name:48} label={sample.label:26} got={got} "
                f"({diagnosis.confidence}){alt}"
            )
    print()
    total = len(samples)
    print(f"corpus: {total} real reports", end="")
    print(" (" + ", ".join(f"{form} {n / total:.0%}" for form, n in shapes.items()) + ")")
    for part, name in (("dev", "development"), ("heldout", "held-out")):
        if scores[part].cases:
            print("\n".join(scores[part].lines(name)))
            print(f"  answered none: {nones[part]}")
            wrong = {pair: n for pair, n in confusion[part].items() if pair[0] != pair[1]}
            if wrong:
                print("  confusion (label -> answer: count):")
                for (label, got), count in sorted(wrong.items()):
                    print(f"    {label} -> {got}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
