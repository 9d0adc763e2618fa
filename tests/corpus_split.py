"""Assign new corpus cases to the development or the held-out part, once.

Run: ``python -m tests.corpus_split``.

The split lives in ``tests/diagnose_split.json``. A case is drawn when this first sees it,
with a generator seeded by the fixed seed and the case's name, so the draw does not depend
on the order cases arrive in and cannot be redrawn; assigned cases never move. Cases the
rules were tuned on before the split existed are development cases.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SPLIT = Path(__file__).parent / "diagnose_split.json"
CORPUS = Path(__file__).parent / "diagnose_corpus"


def load_split() -> dict[str, object]:
    data: dict[str, object] = json.loads(SPLIT.read_text(encoding="utf-8"))
    return data


def part_of(name: str, split: dict[str, object]) -> str | None:
    """``dev``, ``heldout`` or None when the case has not been assigned yet."""
    for part in ("dev", "heldout"):
        if name in split[part]:  # type: ignore[operator]
            return part
    return None


def draw(name: str, split: dict[str, object]) -> str:
    if name in split["tuned_before_split"]:  # type: ignore[operator]
        return "dev"
    chance = random.Random(f"{split['seed']}:{name}").random()
    return "heldout" if chance < float(split["heldout_fraction"]) else "dev"  # type: ignore[arg-type]


def main() -> int:
    split = load_split()
    added = {"dev": 0, "heldout": 0}
    for path in sorted(CORPUS.glob("*.txt")):
        name = path.stem
        if part_of(name, split) is None:
            part = draw(name, split)
            split[part].append(name)  # type: ignore[attr-defined]
            added[part] += 1
    for part in ("dev", "heldout"):
        split[part] = sorted(split[part])  # type: ignore[call-overload]
    SPLIT.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    dev, held = len(split["dev"]), len(split["heldout"])  # type: ignore[arg-type]
    print(f"assigned {added['dev']} to dev and {added['heldout']} to held-out", end="; ")
    print(f"now {dev} dev, {held} held-out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
