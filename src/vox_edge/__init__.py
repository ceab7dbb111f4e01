"""vox-edge: offline, on-device Voxtral-architecture text-to-speech.

The root package holds only what both sides (export and runtime) share: typed errors,
the model config read from params.json, and the bundle manifest contract.
It imports nothing beyond numpy and the standard library.
"""

__version__ = "0.1.0"

from typing import Any

__all__ = ["load", "SynthesisOptions", "__version__"]


def __getattr__(name: str) -> Any:
    # `vox_edge.load(bundle)` without importing onnxruntime at `import vox_edge`.
    if name == "load":
        from .runtime import load

        return load
    if name == "SynthesisOptions":
        from .config import SynthesisOptions

        return SynthesisOptions
    raise AttributeError(f"module 'vox_edge' has no attribute {name!r}")
