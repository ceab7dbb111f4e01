"""The fixed benchmark corpus (benchmarks/corpus.txt): in-car prompts, so runs are comparable over time."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from vox_edge.config import DEFAULT_MAX_TEXT_BYTES
from vox_edge.errors import TextError


def load_corpus(path: str | Path | None = None) -> list[str]:
    """Non-empty, non-comment lines of `path` (default: the packaged corpus.txt), in file order."""
    if path is None:
        text = resources.files("vox_edge.benchmarks").joinpath("corpus.txt").read_text(encoding="utf-8")
    else:
        from vox_edge.runtime.cli_input import read_bounded

        try:
            with open(path, "rb") as f:  # bounded like speak's text: /dev/zero is refused, not read forever
                text = read_bounded(f, DEFAULT_MAX_TEXT_BYTES, f"--corpus {path}", "use a smaller corpus")
        except OSError as e:
            raise TextError(f"--corpus {path}: cannot read ({e.strerror or e}).") from None
    lines = [ln.strip() for ln in text.splitlines()]
    out = [ln for ln in lines if ln and not ln.startswith("#")]
    if not out:
        raise TextError(f"benchmark corpus {path or 'corpus.txt'} has no utterances; one per line.")
    return out


def pick(corpus: list[str], n: int, start: int = 0) -> list[str]:
    """n utterances cycling through the corpus from `start` (warm-up and measurement use disjoint starts)."""
    return [corpus[(start + i) % len(corpus)] for i in range(n)]
