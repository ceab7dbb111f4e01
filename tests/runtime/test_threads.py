"""Thread safety: concurrent requests on one engine give exactly the audio of the same requests run serially."""

from __future__ import annotations

import threading

import numpy as np

N_THREADS, N_REQUESTS = 8, 20
TEXTS = ("Turn left.", "Keep right at the fork.", "Recalculating.", "In 300 meters, exit.")


def _request(k: int) -> dict:
    """Request k of a thread: varied text, voice, seed, steps and chunking so requests genuinely differ."""
    return {"text": TEXTS[k % len(TEXTS)], "voice": ("casual_female", "casual_male")[k % 2], "seed": k,
            "max_frames": 3 + k % 4, "flow_steps": 2 + k % 3, "first_chunk_frames": 1 + k % 2, "chunk_frames": 2}


def _speak(eng, k: int) -> np.ndarray:
    req = dict(_request(k))
    text = req.pop("text")
    if k % 3 == 0:  # mix the two entry points
        return eng.synthesize(text, **req).samples
    return np.concatenate([c.samples for c in eng.stream(text, **req)])


def test_8_threads_x_20_requests_equal_serial(engine):
    ids = [t * N_REQUESTS + r for t in range(N_THREADS) for r in range(N_REQUESTS)]
    engine._prefixes.clear()  # let the threads race to fill the voice-prefix cache too
    barrier = threading.Barrier(N_THREADS)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for r in range(N_REQUESTS):
                k = t * N_REQUESTS + r
                results[k] = _speak(engine, k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(N_THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors[0]
    assert sorted(results) == ids
    for k in ids:
        serial = _speak(engine, k)
        assert serial.shape == (_request(k)["max_frames"] * engine.samples_per_frame,)
        assert np.array_equal(results[k], serial), f"request {k} differs when run concurrently"
