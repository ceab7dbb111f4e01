"""Calibration feeds for static INT8: real inputs of each graph, recorded while the PyTorch reference runs.

source="generate": the reference generation loop (backbone + acoustic head) on a short text list, one
voice per text; the flow graphs see real backbone hiddens and Euler states, the codec sees the
generated codes, cut into streaming windows.
source="random": no backbone (the release backbone is 13.7 GB in FP32): hiddens are unit-RMS
Gaussians scaled by the backbone's final norm weight, i.e. what RMSNorm outputs look like.
"auto" generates when the backbone has fewer than GENERATE_MAX_PARAMS parameters.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from vox_edge.config import DEFAULT_CFG_ALPHA, END_AUDIO, N_AUDIO_SPECIAL

DEFAULT_TEXTS = (
    "Turn left in two hundred meters, then keep right at the fork.",
    "The battery is at forty two percent; the next charging station is eleven kilometers ahead.",
    "Calling Alex on speaker. Say cancel to stop.",
    "Heavy traffic on the ring road. Your arrival time is now six fifteen.",
)
GENERATE_MAX_PARAMS = 600_000_000
# n_frames per text defaults to 40, or 12 at release width: 4 x 12 frames still give 336 velocity feeds
# (subsampled to max_feeds) and a 37-frame codec window.
CODEC_WINDOWS = (2, 14, 37)  # first chunk, 2+12, and the steady-state 25 context + 12 new frames


@dataclass
class CalibrationSet:
    """graph name -> list of input feeds (name -> array)."""

    graphs: dict[str, list[dict[str, np.ndarray]]] = field(default_factory=dict)

    def feeds(self, name: str, static_shapes: dict[str, tuple[int, ...]] | None = None) -> list[dict[str, np.ndarray]]:
        """Feeds for `name`; with static_shapes (input -> shape) only those of exactly that shape."""
        out = self.graphs.get(name, [])
        if static_shapes:
            out = [f for f in out if all(f[k].shape == tuple(s) for k, s in static_shapes.items())]
        return out


def _subsample(items: list, n: int) -> list:
    if len(items) <= n:
        return items
    idx = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in idx]


def _generate(ckpt, texts, n_frames, noise, step, progress):
    """The reference loop per text -> ([1,D] hidden per frame, [1,1+A] codes per frame, velocity feeds).

    The END frame is included: its hidden and Euler states are real inputs of the flow graphs."""
    from .checkpoint import load_reference_model

    model = load_reference_model(ckpt, with_codec=False)
    voices = ckpt.config.voice_names
    hs: list[torch.Tensor] = []
    codes: list[torch.Tensor] = []
    with recording(model.acoustic_transformer) as feeds:
        for i, text in enumerate(texts):
            voice = voices[i % len(voices)]
            ids = torch.tensor(ckpt.tokenizer.encode_tts(text, voice))
            hidden, past = model.backbone(model.prompt_embeddings(ids, ckpt.voice(voice).float()))  # [1,L,D]
            h = hidden[:, -1]  # [1,D]: frame 0 comes from the last prompt position (docs/model.md#generation-loop)
            for f in range(n_frames):
                hs.append(h)
                codes.append(step(model.acoustic_transformer, h, noise[len(hs) - 1]))
                if int(codes[-1][0, 0]) == END_AUDIO:
                    break
                hidden, past = model.backbone(model.embed_codes(codes[-1])[:, None], past)
                h = hidden[:, -1]
            progress(f"[calibrate] text {i + 1}/{len(texts)}: {f + 1} frames")
    return hs, codes, feeds


@contextmanager
def recording(acoustic):
    """Record flow_velocity's inputs (x_t, time_cond, llm_cond) on every velocity call of `acoustic`."""
    feeds: list[dict[str, np.ndarray]] = []
    last_x: list[torch.Tensor] = []

    def on_input_projection(_m, args):  # x_t [B,A]
        last_x[:] = [args[0]]

    def on_first_layer(_m, args):  # seq [B,3,D] = [input_projection(x_t), time_cond, llm_cond]
        seq = args[0]
        feeds.append({"x_t": last_x[0].numpy().copy(), "time_cond": seq[:, 1].numpy().copy(),
                      "llm_cond": seq[:, 2].numpy().copy()})

    hooks = [acoustic.input_projection.register_forward_pre_hook(on_input_projection),
             next(iter(acoustic.layers.values())).register_forward_pre_hook(on_first_layer)]
    try:
        yield feeds
    finally:
        for hk in hooks:
            hk.remove()


def collect_calibration(ckpt, texts: tuple[str, ...] = DEFAULT_TEXTS, n_frames: int | None = None, source: str = "auto",
                        seed: int = 0, max_feeds: int = 128, cfg_alpha: float = DEFAULT_CFG_ALPHA,
                        progress: Callable[[str], None] = print) -> CalibrationSet:
    from .torch_graphs import load_acoustic

    cfg = ckpt.config
    n_steps = cfg.acoustic.n_decoding_steps
    if n_frames is None:  # the torch acoustic loop costs ~2 s a frame at release size on 2 cores
        n_frames = 40 if cfg.acoustic.dim < 2048 else 12
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(len(texts) * n_frames, 1, cfg.n_acoustic_codebook, generator=g)  # row f = frame f's x0
    if source == "auto":
        n_backbone = cfg.n_layers * (2 * cfg.dim * cfg.n_heads * cfg.head_dim + 2 * cfg.dim * cfg.n_kv_heads * cfg.head_dim
                                     + 3 * cfg.dim * cfg.hidden_dim)
        source = "generate" if n_backbone < GENERATE_MAX_PARAMS else "random"

    def step(acoustic, h, x0):  # one frame of the reference (docs/model.md#acoustic-step)
        return acoustic.decode_frame(h, x0, n_steps, cfg_alpha)

    with torch.no_grad():
        if source == "generate":
            progress(f"[calibrate] reference generation on {len(texts)} texts, up to {n_frames} frames each")
            hiddens, codes, velocity_feeds = _generate(ckpt, texts, n_frames, noise, step, progress)
        else:
            progress(f"[calibrate] {len(texts) * n_frames} random unit-RMS hiddens (backbone not loaded)")
            hs = torch.randn(len(texts) * n_frames, cfg.dim, generator=g)
            hs = hs * torch.rsqrt(hs.pow(2).mean(-1, keepdim=True)) * ckpt.tensor("norm.weight")
            hiddens = [hs[i:i + 1] for i in range(len(hs))]
            acoustic = load_acoustic(ckpt)
            with recording(acoustic) as velocity_feeds:
                codes = [step(acoustic, h, noise[i]) for i, h in enumerate(hiddens)]
    codes = torch.cat(codes)  # [F, 1+A], +2 space

    keep = codes[:, 0] != END_AUDIO
    frames = (codes[keep] - N_AUDIO_SPECIAL).numpy()  # [F', 1+A] in -2 space
    codec_feeds = []
    for t in CODEC_WINDOWS:
        for s in range(0, max(0, len(frames) - t) + 1, max(1, t // 2)):
            codec_feeds.append({"codes": frames[None, s:s + t].astype(np.int64)})
    ts = torch.linspace(0, 1, n_steps + 1)[:-1].numpy()
    cal = CalibrationSet({
        "flow_condition": _subsample([{"hidden": h.numpy().copy()} for h in hiddens], max_feeds),
        "flow_time": [{"t": ts}, {"t": np.random.default_rng(seed).random(n_steps).astype(np.float32)}],
        "flow_velocity": _subsample(velocity_feeds, max_feeds),
        "codec_decoder": _subsample(codec_feeds, max_feeds),
    })
    progress("[calibrate] " + ", ".join(f"{k}: {len(v)} feeds" for k, v in cal.graphs.items()))
    return cal
