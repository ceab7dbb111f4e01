"""The teacher (hibari-tts 0.2.1, Apache-2.0) opened so that its frame decoder's input is visible.

`features(text)` -> (x [130, F] float32, f0 [F] Hz): x is what hibari's frame decoder (`dec_in` .. `head`)
reads at 80 Hz: 128 duration-expanded text features, normalised log-f0 and normalised energy.
`params(text)` -> the renderer parameters (lh, theta, ln, lr, phi [601, F]; f0 [F]).
`decoder_session()` runs the frame decoder alone on any x (our codec's output) with the teacher's int8 weights.
"""
from __future__ import annotations

import json
import os

import numpy as np

TEACHER_VERSION = "0.2.1"
X_NAME = "/Concat_43_output_0"  # the frame decoder's input in hibari 0.2.1's graph
PARAM_NAMES = ("lh", "theta", "ln", "lr", "phi", "f0")


def teacher_model_path() -> str:
    import hibari

    path = os.path.join(os.path.dirname(hibari.__file__), "assets", "hibari.onnx")
    if not os.path.exists(path):
        raise FileNotFoundError(f"hibari-tts {TEACHER_VERSION} has no {path}: pip install hibari-tts=={TEACHER_VERSION}")
    return path


def _session(model, threads: int):
    from vox_edge.runtime.sessions import cpu_session

    return cpu_session(model, threads)


class TeacherGraph:
    def __init__(self, threads: int = 1):
        import onnx

        from vox_edge.benchmarks.quality_wer import HibariPeer

        self.peer = HibariPeer(threads)  # hibari's own synthesiser: the quality benchmark's --peer hibari
        self.tts = self.peer.tts
        m = onnx.load(teacher_model_path())
        m.graph.output.append(onnx.helper.make_tensor_value_info(X_NAME, onnx.TensorProto.FLOAT, None))
        self.sess = _session(m.SerializeToString(), threads)
        self.threads = threads

    def ids(self, text: str) -> np.ndarray:
        ps = "".join(self.tts.phonemize(text))
        ids = [self.tts.vocab[c] for c in ps if c in self.tts.vocab]
        if not ids:
            raise ValueError(f"no phonemes for {text!r}")
        return np.array([[0, *ids, 0]], np.int64)

    def run(self, text: str) -> dict[str, np.ndarray]:
        out = self.sess.run(None, {"ids": self.ids(text), "speed": np.array([1.0], np.float32)})
        names = [o.name for o in self.sess.get_outputs()]
        return {n: v[0] for n, v in zip(names, out)}

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        r = self.run(text)
        return r[X_NAME], r["f0"]

    def params(self, text: str) -> dict[str, np.ndarray]:
        r = self.run(text)
        return {k: r[k] for k in PARAM_NAMES}

    def decoder_session(self):
        """The frame decoder alone: x [1, 130, F] -> lh, theta, ln, lr, phi (f0 is not its output)."""
        import onnx.utils

        path = os.path.join(os.path.expanduser("~/.cache/vox-edge/voice_v2"), "teacher_frame_decoder.onnx")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            onnx.utils.extract_model(teacher_model_path(), path + ".tmp", [X_NAME], list(PARAM_NAMES[:5]))
            os.replace(path + ".tmp", path)
        return _session(path, self.threads)


def vocab() -> dict:
    import hibari

    with open(os.path.join(os.path.dirname(hibari.__file__), "assets", "vocab.json"), encoding="utf-8") as f:
        return json.load(f)
