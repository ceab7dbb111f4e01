"""NPU bundles of the tiny checkpoint, exported once per session and target (`vox-edge export --target`)."""

from __future__ import annotations

import threading
from pathlib import Path

_LOCK = threading.Lock()
_BUILT: dict[tuple[str, str], Path] = {}
CONTEXT = 256  # voice prefix + a test sentence + the parity run's frames fit
PREFILL_CHUNK = 8


def npu_bundle(checkpoint: Path, out_root: Path, target: str) -> Path:
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.npu_target import NpuShapes

    key = (str(checkpoint), target)
    with _LOCK:
        if key not in _BUILT:
            out = out_root / f"tiny_{target}"
            export_bundle(checkpoint, out, target=target, npu_shapes=NpuShapes(seq_len=PREFILL_CHUNK, context=CONTEXT),
                          progress=lambda m: None)
            _BUILT[key] = out
    return _BUILT[key]
