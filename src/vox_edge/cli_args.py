"""argparse value types shared by every `vox-edge` subcommand: a bad value fails at parse time, with the same
limits the engine enforces (vox_edge.config holds them). Standard library only."""

from __future__ import annotations

import argparse
from typing import Callable


def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An integer in [lo, hi] (no upper bound when hi is None)."""
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not an integer") from None
        if v < lo or hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"must be >= {lo}, got {v}" if hi is None else
                                             f"must be in [{lo}, {hi}], got {v}")
        return v
    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """A finite number in [lo, hi] (NaN and infinities are refused)."""
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
        if not lo <= v <= hi:  # also rejects nan
            raise argparse.ArgumentTypeError(f"must be in [{lo:g}, {hi:g}], got {s}")
        return v
    return parse


def name(s: str) -> str:
    """A non-empty name (a voice, a language): '' is an error, not 'the default'."""
    if not s.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return s
