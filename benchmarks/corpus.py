"""The fixed benchmark corpus (benchmarks/corpus.txt): in-car prompts, so runs are comparable over time."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def load_corpus(path: str | Path | None = None) -> list[str]:
    """Non-empty, non-comment lines of `path` (default: the packaged corpus.txt), in file order."""
    if path is None:
        text = resources.files("vox_edge.benchmarks").joinpath("corpus.txt").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines()]
    out = [ln for ln in lines if ln and not ln.startswith("#")]
    if not out:
        raise ValueError(f"benchmark corpus {path or 'corpus.txt'} has no utterances")
    return out


def pick(corpus: list[str], n: int, start: int = 0) -> list[str]:
    """n utterances cycling through the corpus from `start` (warm-up and measurement use disjoint starts)."""
    return [corpus[(start + i) % len(corpus)] for i in range(n)]
