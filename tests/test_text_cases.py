"""Screen text -> spoken form in the nine Voxtral languages: the cases under tests/text_cases/<lang>.tsv.

Each file opens with a comment saying how its cases were checked (docs/text.md has the details). English keeps
its own table in test_text_frontend.py (EN_CASES, unchanged); en.tsv adds car and board messages to it.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import regex

from vox_edge.runtime.text import VOXTRAL_LANGUAGES, normalize

CASES_DIR = Path(__file__).parent / "text_cases"
MIN_CASES = 150


def _read(lang: str) -> list[tuple[str, str]]:
    rows = []
    for n, line in enumerate((CASES_DIR / f"{lang}.tsv").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        screen, spoken = line.split("\t")  # exactly two columns, or the file is broken
        rows.append((screen, spoken))
    return rows


CASES = [(lang, screen, spoken) for lang in VOXTRAL_LANGUAGES for screen, spoken in _read(lang)]


@pytest.mark.parametrize("lang, screen, spoken", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_spoken_form(lang, screen, spoken):
    assert normalize(screen, lang) == spoken


@pytest.mark.parametrize("lang", VOXTRAL_LANGUAGES)
def test_each_language_has_enough_cases_and_says_how_they_were_checked(lang):
    from test_text_frontend import EN_CASES

    rows = _read(lang)
    count = len(rows) + (len(EN_CASES) if lang == "en" else 0)
    assert count >= MIN_CASES, f"{lang}: {count} cases"
    assert len({screen for screen, _ in rows}) == len(rows), "duplicate screen text"
    assert (CASES_DIR / f"{lang}.tsv").read_text(encoding="utf-8").startswith("# "), "first line: how they were checked"


@pytest.mark.parametrize("lang", VOXTRAL_LANGUAGES)
def test_no_digit_is_left_for_the_model_to_guess(lang):
    for screen, _ in _read(lang):
        out = normalize(screen, lang)
        assert not regex.search(r"\p{Nd}", out), (screen, out)


def _mixed_text(lang: str, size: int) -> str:
    """About `size` characters of this language's cases shuffled together with odd input."""
    rng = random.Random(0)
    pieces = [screen for screen, _ in _read(lang)] + ["\U0001F600 <b>", "1.2.3.4", "a" * 50, "----", "3,5 % 7/8"]
    out, n = [], 0
    while n < size:
        p = rng.choice(pieces)
        out.append(p)
        n += len(p) + 1
    return " ".join(out)


@pytest.mark.parametrize("lang", VOXTRAL_LANGUAGES)
def test_100_kb_of_mixed_text_normalises_in_under_a_second(lang):
    text = _mixed_text(lang, 100_000)
    normalize(text[:2000], lang)  # first use compiles the language's rules; a car does that once at start-up
    best = min(_timed(text, lang) for _ in range(2))
    assert best < 1.0, f"{lang}: {best:.2f} s for {len(text)} characters"


def _timed(text: str, lang: str) -> float:
    """CPU seconds of this process: the 2-core test machine is shared, and wall time there measures the neighbours."""
    t0 = time.process_time()
    normalize(text, lang)
    return time.process_time() - t0


@pytest.mark.parametrize("lang", VOXTRAL_LANGUAGES)
def test_random_screen_text_never_trips_a_rule(lang, caplog):
    """A rule that raised would be replaced by the cleaned text with a warning: none may."""
    rng = random.Random(lang)
    alphabet = "0123456789 .,:;/-$€£₹%°CFkmhsu AMPap StDr#@&+x×()'\"\nºª erè٠١٢٣٫٬०१२ दمعÄß"
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        assert not regex.search("[0-9]", normalize(text, lang))
    assert "failed" not in caplog.text
