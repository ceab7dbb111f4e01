"""Voice-prefix KV cache: `[BOS] [BEGIN_AUDIO] [AUDIO]×N [NEXT_AUDIO_TEXT]` is the same for every request of a
voice (docs/model.md#prompt-layout), so it is prefilled once per voice and every request prefills only its text on top.

Entries are immutable (read-only arrays), so concurrent requests share them without copies; a miss is
filled under a lock so a voice is prefilled once even when many threads ask for it at the same moment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .backbone import Past


@dataclass(frozen=True)
class Prefix:
    ids: tuple[int, ...]  # the prefix token ids (for checks and debugging)
    past: Past  # presents after the prefix: 2·n_layers arrays [1,KV,P,hd], read-only


class PrefixCache:
    def __init__(self, build: Callable[[str], Prefix]):
        self._build = build
        self._store: dict[str, Prefix] = {}
        self._lock = threading.Lock()

    def get(self, voice: str) -> Prefix:
        got = self._store.get(voice)
        if got is None:
            with self._lock:
                got = self._store.get(voice)
                if got is None:
                    got = self._build(voice)
                    for a in got.past:
                        a.setflags(write=False)
                    self._store[voice] = got
        return got

    def __contains__(self, voice: str) -> bool:
        return voice in self._store

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for p in list(self._store.values()) for a in p.past)

