"""Runtime tests that need no torch: every fixture here reads the committed golden bundle (tests/golden/).

Run them alone after `pip install -e ".[dev]"` (no export extra): `pytest tests/runtime`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden_bundle import BUNDLE, EXPECTED
from runtime_fixtures import get_engine


@pytest.fixture(scope="session")
def tiny_bundle() -> Path:
    """The committed golden bundle (read-only: tests that change a bundle copy it first)."""
    return BUNDLE


@pytest.fixture(scope="session")
def engine(tiny_bundle):
    return get_engine(tiny_bundle)


@pytest.fixture(scope="session")
def expected() -> dict:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))
