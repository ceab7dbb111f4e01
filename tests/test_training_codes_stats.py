"""training/tts/codes_stats.py: the entropies stage-3 cross-entropy is read against."""

from __future__ import annotations

import math

import numpy as np

from training.tts.codes_stats import entropies


def test_a_cycle_is_certain_given_the_previous_code_but_not_alone():
    seqs = [np.array([0, 1, 2, 3] * 50), np.array([2, 3, 0, 1] * 10)]
    e = entropies(seqs, 8)
    assert math.isclose(e["unigram_nats"], math.log(4), abs_tol=1e-3) and e["used"] == 4
    assert e["given_previous_nats"] == 0.0 and e["repeat_rate"] == 0.0


def test_independent_uniform_codes_stay_uncertain():
    rng = np.random.default_rng(0)
    e = entropies([rng.integers(0, 4, 20000)], 4)
    assert abs(e["unigram_nats"] - math.log(4)) < 0.01
    assert abs(e["given_previous_nats"] - math.log(4)) < 0.01
