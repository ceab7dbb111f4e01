"""vox-edge runtime: NumPy + ONNX Runtime only (never torch).

    from vox_edge.runtime import load
    engine = load("bundle/")
    for chunk in engine.stream("Hello."): ...

`load`, `Engine`, `AudioChunk` and `Audio` are imported on first use, so importing a light submodule
(e.g. `vox_edge.runtime.cli_commands` when the CLI builds its parser) does not load onnxruntime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Audio", "AudioChunk", "Engine", "load"]

if TYPE_CHECKING:
    from .engine import Audio, AudioChunk, Engine, load


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'vox_edge.runtime' has no attribute {name!r}")
