"""Streaming on the golden bundle: the chunks of `stream` concatenate to `synthesize`; the chunking and the
voice-prefix cache change no code and the audio only in float rounding (the codec runs on other window sizes)."""

from __future__ import annotations

import numpy as np
import pytest
from golden_bundle import REQUESTS
from runtime_fixtures import get_engine

TEXT, KW = REQUESTS[0][1], REQUESTS[0][2]


def test_stream_concatenation_equals_synthesize(engine):
    chunks = list(engine.stream(TEXT, **KW))
    whole = engine.synthesize(TEXT, **KW)
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), whole.samples)
    assert [c.index for c in chunks] == list(range(len(chunks))) and [c.is_last for c in chunks][-1]
    assert sum(c.is_last for c in chunks) == 1 and sum(c.frames for c in chunks) == KW["max_frames"]
    assert chunks[0].frames == 2 and chunks[0].t_first is not None  # first audio after two frames


@pytest.mark.parametrize("first,every", [(1, 1), (3, 5), (12, 12)])
def test_chunking_does_not_change_audio(engine, first, every):
    ref = engine.synthesize(TEXT, **KW)
    chunks = list(engine.stream(TEXT, first_chunk_frames=first, chunk_frames=every, **KW))
    assert chunks[0].frames == min(first, KW["max_frames"])
    assert np.abs(np.concatenate([c.samples for c in chunks]) - ref.samples).max() <= 1e-5
    assert np.array_equal(engine.synthesize(TEXT, first_chunk_frames=first, chunk_frames=every, **KW).codes[0],
                          ref.codes[0])


def test_voice_prefix_cache_equals_no_cache(engine, tiny_bundle):
    uncached = get_engine(tiny_bundle, prefix_cache=False)
    for _ in range(2):  # the second call reads the prefix from the cache
        a, b = engine.synthesize(TEXT, **KW), uncached.synthesize(TEXT, **KW)
        assert np.array_equal(a.codes[0], b.codes[0]) and np.abs(a.samples - b.samples).max() <= 1e-5
