"""Per-stage timings through the engine's public hook: each graph is opened as a timing proxy.

`timed_opener` is an `open_graph` for `vox_edge.runtime.load`: it opens every graph exactly as the engine
would (`open_session` with the profile's settings) and wraps it in a `TimedSession`. Every `run` is then
recorded with the graph name, its leading sequence length (prefill vs step for the backbone, frames for the
codec), and the wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnxruntime as ort

from vox_edge.runtime.sessions import SessionSettings, open_session

# Which input's axis-1 length identifies the call kind per graph (backbone: S tokens; codec: T frames).
_LENGTH_INPUT = {"backbone": "inputs_embeds", "codec_decoder": "codes", "codec_step": "codes"}


@dataclass
class Call:
    graph: str
    length: int  # S for the backbone, T frames for the codec, batch rows otherwise
    ms: float
    kv_bytes: int  # backbone: bytes of the past KV fed in (what the step must read besides weights); else 0
    utterance: int  # -1 outside a measured utterance (load, warm-up)
    index: int  # call number of this graph within the utterance


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    utterance: int = -1
    _counts: dict[str, int] = field(default_factory=dict)

    def begin(self, utterance: int) -> None:
        self.utterance = utterance
        self._counts = {}

    def end(self) -> None:
        self.utterance = -1

    def add(self, graph: str, length: int, ms: float, kv_bytes: int = 0) -> None:
        i = self._counts.get(graph, 0)
        self._counts[graph] = i + 1
        self.calls.append(Call(graph, length, ms, kv_bytes, self.utterance, i))

    def measured(self, graph: str) -> list[Call]:
        return [c for c in self.calls if c.graph == graph and c.utterance >= 0]


class TimedSession:
    """Wraps an InferenceSession: `run` is timed and recorded, everything else is passed through."""

    def __init__(self, sess: ort.InferenceSession, graph: str, recorder: Recorder):
        self._sess, self._graph, self._rec = sess, graph, recorder
        self._len_input = _LENGTH_INPUT.get(graph)

    def run(self, output_names: Any, input_feed: dict[str, Any], run_options: Any = None) -> Any:
        t = time.perf_counter()
        out = self._sess.run(output_names, input_feed, run_options)
        ms = (time.perf_counter() - t) * 1e3
        x = input_feed.get(self._len_input) if self._len_input else next(iter(input_feed.values()))
        shape = np.shape(x)
        length = int(shape[1]) if self._len_input and len(shape) > 1 else int(shape[0]) if shape else 1
        kv = sum(int(getattr(v, "nbytes", 0)) for k, v in input_feed.items() if k.startswith("past_")) \
            if self._graph == "backbone" else 0
        self._rec.add(self._graph, length, ms, kv)
        return out

    def io_binding(self) -> "TimedBinding":
        return TimedBinding(self._sess.io_binding())

    def run_with_iobinding(self, binding: Any, run_options: Any = None) -> None:
        """The in-place KV cache's call (runtime.backbone): timed like `run`, its length and past read from the
        inputs bound for this call."""
        inner = binding.inner if isinstance(binding, TimedBinding) else binding
        t = time.perf_counter()
        self._sess.run_with_iobinding(inner, run_options)
        ms = (time.perf_counter() - t) * 1e3
        length, kv = (binding.length(self._len_input), binding.kv_bytes()) if isinstance(binding, TimedBinding) else (1, 0)
        self._rec.add(self._graph, length, ms, kv if self._graph == "backbone" else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sess, name)


_ITEM_BYTES = {"tensor(float)": 4, "tensor(float16)": 2}


class TimedBinding:
    """An IOBinding that remembers what was bound, so a timed call knows its sequence length and how much of the
    bound KV buffers holds a past (`past_length` rows of each [1,KV,C,hd] buffer)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self._cpu: dict[str, Any] = {}
        self._buffers: dict[str, Any] = {}

    def bind_cpu_input(self, name: str, arr: Any) -> None:
        self._cpu[name] = arr
        self.inner.bind_cpu_input(name, arr)

    def bind_ortvalue_input(self, name: str, value: Any) -> None:
        self._buffers[name] = value
        self.inner.bind_ortvalue_input(name, value)

    def length(self, name: str | None) -> int:
        shape = np.shape(self._cpu.get(name)) if name else ()
        return int(shape[1]) if len(shape) > 1 else 1

    def kv_bytes(self) -> int:
        past = self._cpu.get("past_length")
        if past is None:
            return 0
        rows = int(np.asarray(past).reshape(-1)[0])
        per_row = [int(np.prod(v.shape())) // v.shape()[2] * _ITEM_BYTES.get(v.data_type(), 4)  # [1,KV,C,hd] buffers
                   for n, v in self._buffers.items() if n.startswith("past_")]
        return rows * sum(per_row)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def timed_opener(settings: SessionSettings, recorder: Recorder) -> Callable[[str, Path], TimedSession]:
    """An Engine `open_graph`: the session the engine would open for graph `name`, timed into `recorder`."""

    def open_graph(name: str, path: Path) -> TimedSession:
        # a bundle's prompt graph (backbone_prefill) is recorded as the backbone's calls of S > 1 positions: the
        # stages (prefill, step) are told apart by length, whichever graph ran them
        return TimedSession(open_session(path, settings), "backbone" if name == "backbone_prefill" else name, recorder)

    return open_graph
