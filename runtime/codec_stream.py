"""Streaming codec decode (docs/model.md#codec-streaming): each chunk decodes [left context + new frames] and keeps the new samples.

Every codec op is causal; only the edge padding at the start of a decoded window differs from a one-shot
decode, and the codec's receptive field in frames of left context hides it completely (21 for the
release, 13 for the small default codec; `CodecConfig.min_left_context_frames`, the engine's default). With that
much context the concatenated chunks equal a one-shot decode of all frames. The first chunk is small (low
time-to-first-audio); later ones double in size up to `chunk_frames` (fewer graph calls, less re-decoded
context). Doubling is what keeps a player fed: chunk k+1 takes RTF x its length to make while chunk k plays,
so with RTF < 0.5 it is always ready in time. Jumping straight from 2 frames to 25 left every utterance with a
~190 ms gap after its first 160 ms at RTF 0.2 (the 2-core AVX2 VM; `vox-edge bench` reports these gaps).

A codec graph with the optional `context_frames` input (manifest `optional_inputs`) is told how many of the
window's frames are context: it returns the new frames' audio only and runs its output head (output_proj + iSTFT,
~45 % of a window) on them and a few patches before, not on the whole context.

Fixed-shape codec graphs (exported for NPU providers with a window of T frames) are fed [context + new
+ padding] right-padded to T: every op is causal, so the padding frames change no sample before them,
and their samples are dropped. Chunks are then at most T − left_context frames. A fixed-window source_filter codec
(centred frame decoder) also takes `frame_mask` [1, T] (1 = real frame) and returns, for the real frames, what a
dynamic-T graph returns for them alone (export/torch_graphs.py masked_render_params); its chunks are at most
T − left_context − (frame_grid − 1) − right_context_frames frames. A dynamic-T source_filter codec with the
optional `render_from` input (manifest optional_inputs) is told the first renderer frame the new samples need and
runs its frame decoder (about half of a window's graph time) from a margin before it, not from the window's start.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from vox_edge.config import CodecConfig

from . import source_filter


class _Chunked:
    """What both streams share: the frames kept for the next window and the doubling chunk schedule."""

    def __init__(self, first_chunk_frames: int, chunk_frames: int, left_context_frames: int):
        self._first, self._chunk, self._ctx = first_chunk_frames, chunk_frames, left_context_frames
        self._frames: list[np.ndarray] = []  # each [1+A] int64, -2 space
        self._chunks_done = 0
        self.frames_decoded = 0

    def _target(self) -> int:
        """Frames in the next chunk: first, 2·first, 4·first, ... capped at chunk_frames."""
        return min(self._chunk, self._first << min(self._chunks_done, 30))


class CodecStream(_Chunked):
    """Feed frames one by one with `push`; get audio whenever a chunk is complete, and the rest from `flush`."""

    def __init__(self, session: ort.InferenceSession, samples_per_frame: int, first_chunk_frames: int = 2,
                 chunk_frames: int = 12, left_context_frames: int = 25, context_input: bool = False):
        if first_chunk_frames < 1 or chunk_frames < 1 or left_context_frames < 0:
            raise ValueError("chunk sizes must be >= 1 and left_context_frames >= 0")
        self._window = fixed_frames(session)  # None = dynamic T
        if self._window is not None:
            room = self._window - left_context_frames
            if room < 1:
                raise ValueError(f"the codec graph's fixed window of {self._window} frames leaves no room for new "
                                 f"frames after {left_context_frames} frames of context; re-export with a larger window")
            first_chunk_frames, chunk_frames = min(first_chunk_frames, room), min(chunk_frames, room)
        self._sess, self._spf = session, samples_per_frame
        # the graph's optional `context_frames` input (manifest optional_inputs): it returns the new frames' audio
        # only and skips the output head's work on the context (export/codec_context.py)
        self._context_input = context_input and self._window is None
        super().__init__(first_chunk_frames, chunk_frames, left_context_frames)  # _frames: context + pending frames
        self._pending = 0  # frames not yet decoded (at the end of _frames)

    def push(self, codes_m2: np.ndarray) -> np.ndarray | None:
        """codes_m2 [1+A] (−2 space) -> audio [n·spf] float32 when a chunk completes, else None."""
        self._frames.append(np.asarray(codes_m2, dtype=np.int64))
        self._pending += 1
        return self._decode() if self._pending >= self._target() else None

    def flush(self) -> np.ndarray:
        """Audio of the frames not decoded yet ([0] when none)."""
        return self._decode() if self._pending else np.zeros(0, np.float32)

    def _decode(self) -> np.ndarray:
        n = self._pending
        ctx = len(self._frames) - n  # <= left_context_frames (fewer at the very start: same as one-shot)
        codes = np.stack(self._frames)[None]  # [1, ctx+n, 1+A]
        if self._window is not None and codes.shape[1] < self._window:  # right-pad: causal, so harmless
            codes = np.concatenate([codes, np.zeros((1, self._window - codes.shape[1], codes.shape[2]), np.int64)], 1)
        if self._context_input:
            (audio,) = self._sess.run(["audio"], {"codes": codes, "context_frames": np.array([ctx], np.int64)})
            out = np.ascontiguousarray(audio[0], dtype=np.float32)  # [n·spf]
        else:
            (audio,) = self._sess.run(["audio"], {"codes": codes})  # [1, (ctx+n)·spf]
            out = np.ascontiguousarray(audio[0, ctx * self._spf:(ctx + n) * self._spf], dtype=np.float32)  # [n·spf]
        self._frames = self._frames[-self._ctx:] if self._ctx else []  # keep only the next chunk's context
        self._pending = 0
        self._chunks_done += 1
        self.frames_decoded += n
        return out


FRAME_MASK = "frame_mask"  # float32 [1, T] of a fixed-window source_filter codec: 1 for real frames, 0 for padding
_NO_END = 1 << 40  # codec_step render_end of a call that does not end the stream
RENDER_FROM = "render_from"  # int64 [1], optional, of a dynamic source_filter codec: first renderer frame returned


def fixed_frames(session: ort.InferenceSession) -> int | None:
    """T of a fixed-shape codec graph (its `codes` input is [1, T, 1+A] with an integer T), else None."""
    shape = next(i.shape for i in session.get_inputs() if i.name == "codes")
    return shape[1] if isinstance(shape[1], int) else None


class SourceFilterStream(_Chunked):
    """CodecStream's counterpart for a `source_filter` codec: the graph returns renderer parameters per 80 Hz frame
    and NumPy renders them (runtime/source_filter.py); same `push` / `flush`.

    Three things differ from a causal codec. The frame decoder is centred, so a chunk is decoded once
    `right_context_frames` more frames have arrived (about 0.5 s of audio, a few frames of generation time).
    A window starts on the renderer's frame grid (every `frame_grid` codec frames), so its renderer frames, and
    the noise drawn per absolute renderer frame, are the one-shot decode's. And the pulse phase is anchored at the
    first new sample to the exact phase where the previous chunk ended. Concatenated chunks then equal a one-shot
    decode (`flush` alone) to float rounding.
    """

    def __init__(self, session: ort.InferenceSession, codec: CodecConfig, first_chunk_frames: int = 2,
                 chunk_frames: int = 12, left_context_frames: int = 25, seed: int = 0, render_from: bool = False):
        if first_chunk_frames < 1 or chunk_frames < 1 or left_context_frames < codec.min_left_context_frames:
            raise ValueError("chunk sizes must be >= 1 and left_context_frames >= the codec's receptive field")
        self._sess, self._cfg, self._seed = session, codec, seed
        self._spf, self._hop = codec.samples_per_frame, codec.renderer_hop
        self._grid, self._ahead = codec.frame_grid, codec.right_context_frames
        # session None: no windowed graph (StepSourceFilterStream over a bundle that carries codec_step alone)
        self._window = fixed_frames(session) if session is not None else None  # None = dynamic T
        self._mask_input = session is not None and FRAME_MASK in {i.name for i in session.get_inputs()}
        # the graph's optional `render_from` input (manifest optional_inputs): it returns the parameters from the
        # first renderer frame the new samples need and runs its frame decoder only from a margin before it
        self._render_from = render_from and self._window is None
        if self._window is not None:
            # a window holds up to grid - 1 frames before the left context (its start is on the grid), the
            # context, the new frames and the lookahead: the new frames get what remains
            room = self._window - left_context_frames - (self._grid - 1) - self._ahead
            if room < 1:
                raise ValueError(f"the codec graph's fixed window of {self._window} frames leaves no room for new "
                                 f"frames after {left_context_frames} frames of context, {self._grid - 1} of grid "
                                 f"alignment and {self._ahead} of lookahead; re-export with a larger window")
            first_chunk_frames, chunk_frames = min(first_chunk_frames, room), min(chunk_frames, room)
        super().__init__(first_chunk_frames, chunk_frames, left_context_frames)  # _frames: from index _base on
        self._base = 0
        self._emitted = 0  # absolute codec frames whose audio has been returned
        self._phase = 0.0  # pulse phase after the last returned sample
        self._noise: dict[int, np.ndarray] = {}  # renderer noise blocks drawn so far (frame_noise's cache)

    def push(self, codes_m2: np.ndarray) -> np.ndarray | None:
        self._frames.append(np.asarray(codes_m2, dtype=np.int64))
        ready = self._base + len(self._frames) - self._emitted - self._ahead
        return self._decode(self._target(), end=self._base + len(self._frames)) if ready >= self._target() else None

    def flush(self) -> np.ndarray:
        total = self._base + len(self._frames)
        return self._decode(total - self._emitted, end=total) if total > self._emitted else np.zeros(0, np.float32)

    def _decode(self, n: int, end: int) -> np.ndarray:
        start = max(0, (self._emitted - self._ctx) // self._grid * self._grid)
        codes = np.stack(self._frames[start - self._base: end - self._base])[None]  # [1, end - start, 1+A]
        n_real = -(-codes.shape[1] * self._spf // self._hop)  # renderer frames of the real codec frames
        # Render only the frames the new samples need (the left context is for the networks, not the renderer):
        # a sample reaches 2 STFT frames each way, whose pulse spectra reach 2 more frames and the next f0.
        anchor = (self._emitted - start) * self._spf
        a = max(0, anchor // self._hop - 4)
        b = min(n_real, (anchor + n * self._spf - 1) // self._hop + 6)
        feed = {"codes": codes}
        if self._window is not None:  # right-padded to the fixed window; frame_mask tells the graph where it ends
            pad = self._window - codes.shape[1]
            feed["codes"] = np.concatenate([codes, np.zeros((1, pad, codes.shape[2]), np.int64)], 1)
            if self._mask_input:
                feed[FRAME_MASK] = (np.arange(self._window) < codes.shape[1]).astype(np.float32)[None]
        if self._render_from:  # the graph's outputs start at renderer frame a
            feed[RENDER_FROM] = np.array([a], np.int64)
        out = self._sess.run(None, feed)
        skip = 0 if self._render_from else a
        params = {k: v[0, :, skip: skip + b - a] for k, v in zip(("lh", "theta", "ln", "lr", "phi"), out[:5])}
        f0 = out[5][0, skip: skip + b - a]
        first_frame = start * self._spf // self._hop + a  # an integer: `start` is on the grid
        for block in [k for k in self._noise if k < first_frame // source_filter.NOISE_BLOCK]:  # windows only move on
            del self._noise[block]
        noise = source_filter.frame_noise(self._seed, first_frame, b - a, self._noise)
        local = anchor - a * self._hop
        audio, phase = source_filter.render_window(params, f0, noise, self._phase, local)
        out_audio = audio[local: local + n * self._spf]
        self._phase = float(phase[local + n * self._spf - 1])
        self._emitted += n
        keep = max(0, (self._emitted - self._ctx) // self._grid * self._grid)  # the next window's first frame
        del self._frames[: keep - self._base]
        self._base = keep
        self._chunks_done += 1
        self.frames_decoded += n
        return np.ascontiguousarray(out_audio, dtype=np.float32)


class StepSourceFilterStream(SourceFilterStream):
    """SourceFilterStream over the stateful `codec_step` graph (export/codec_step.py): each chunk feeds only the
    frames not seen yet and keeps every layer's state, so no frame is decoded twice. The graph returns the frame
    decoder's parameters `delay` renderer frames behind the features it was given (its centred convolutions), so a
    chunk still waits for `right_context_frames` frames after it; its samples are rendered exactly as the windowed
    stream renders them. `flush` makes the graph's last call (`step_final_plan`: the resampling's clamp at the last
    frame and the frame decoder's zero padding after it), so the windowed graph is not called at all: `window` may
    be None (a bundle that carries codec_step alone)."""

    def __init__(self, step: ort.InferenceSession, window: ort.InferenceSession | None, codec: CodecConfig,
                 first_chunk_frames: int = 2, chunk_frames: int = 12, left_context_frames: int = 25, seed: int = 0,
                 render_from: bool = False):
        super().__init__(window, codec, first_chunk_frames, chunk_frames, left_context_frames, seed, render_from)
        from vox_edge.manifest import codec_step_io, codec_step_states

        self._step, self._names = step, codec_step_io(codec)[0]
        self._states = [np.zeros(shape, np.float32) for _, shape in codec_step_states(codec)]
        self._delay = (codec.frame_decoder_layers + 1) * (codec.frame_decoder_kernel // 2)
        self._fed = 0  # codec frames through the step graph
        self._p0 = self._f0_0 = 0  # absolute renderer frame of self._params[..][:, 0], of self._f0[0]
        self._params = [np.zeros((source_filter.N_BINS, 0), np.float32) for _ in range(5)]
        self._f0 = np.zeros(0, np.float32)

    def push(self, codes_m2: np.ndarray) -> np.ndarray | None:
        self._frames.append(np.asarray(codes_m2, dtype=np.int64))
        total = self._base + len(self._frames)
        if total - self._emitted - self._ahead < self._target():
            return None
        first, lo, hi, w = step_resample_plan(self._cfg, self._fed, total - self._fed)
        self._feed(self._frames[self._fed - self._base:], first, lo, hi, w, _NO_END)
        return self._render(self._target(), _NO_END)

    def flush(self) -> np.ndarray:
        """The rest, through the graph's last call: the clamped resampling and the frame decoder's zero padding."""
        total = self._base + len(self._frames)
        if total <= self._emitted:
            return np.zeros(0, np.float32)
        first, lo, hi, w, end = step_final_plan(self._cfg, self._fed, total, self._delay)
        frames = self._frames[self._fed - self._base:]
        if not frames:  # every frame was fed: one more (its features are never read) lets the graph run
            frames = self._frames[-1:]
        self._feed(frames, first, lo, hi, w, end)
        return self._render(total - self._emitted, end)

    def _feed(self, frames: list, first: int, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, end: int) -> None:
        codes = np.stack(frames)[None]  # [1, m, 1+A]
        out = self._step.run(None, dict(zip(self._names, [codes, np.array([self._fed], np.int64), lo, hi, w,
                                                          np.array([first], np.int64), np.array([end], np.int64),
                                                          *self._states])))
        self._states = out[6:]
        self._fed += len(frames)
        lag = first - self._delay  # the parameters' first renderer frame; frames before 0 are padding, dropped
        drop = max(0, self._p0 + self._params[0].shape[1] - lag)
        self._params = [np.concatenate([p, o[0, :, drop:]], 1) for p, o in zip(self._params, out[:5])]
        self._f0 = np.concatenate([self._f0, out[5][0]])

    def _render(self, n: int, end: int) -> np.ndarray:
        """The next n frames' samples, rendered as SourceFilterStream._decode does, in absolute renderer frames."""
        anchor = self._emitted * self._spf
        a = max(0, anchor // self._hop - 4)
        b = min(end, (anchor + n * self._spf - 1) // self._hop + 6)
        if b > self._p0 + self._params[0].shape[1]:
            raise RuntimeError("codec_step: parameters missing for a chunk (right context too short)")
        params = {k: v[:, a - self._p0: b - self._p0] for k, v in zip(("lh", "theta", "ln", "lr", "phi"), self._params)}
        noise = source_filter.frame_noise(self._seed, a, b - a, self._noise)
        local = anchor - a * self._hop
        audio, phase = source_filter.render_window(params, self._f0[a - self._f0_0: b - self._f0_0], noise,
                                                   self._phase, local)
        out_audio = audio[local: local + n * self._spf]
        self._phase = float(phase[local + n * self._spf - 1])
        self._emitted += n
        keep = min(self._fed, self._emitted) - 1  # the last fed frame stays: flush may need one to feed
        del self._frames[: max(0, keep - self._base)]
        self._base = max(self._base, keep)
        cut = max(0, (self._emitted * self._spf) // self._hop - 4)  # the next chunk's first renderer frame
        self._params = [p[:, max(0, cut - self._p0):] for p in self._params]
        self._f0 = self._f0[max(0, cut - self._f0_0):]
        self._p0, self._f0_0 = max(self._p0, cut), max(self._f0_0, cut)
        for block in [k for k in self._noise if k < self._p0 // source_filter.NOISE_BLOCK]:
            del self._noise[block]
        self._chunks_done += 1
        self.frames_decoded += n
        return np.ascontiguousarray(out_audio, dtype=np.float32)



def _complete(codec: CodecConfig, n_pos: int) -> int:
    """Renderer frames j whose upper 100 Hz neighbour floor(j·hop/patch) + 1 is among the first n_pos positions."""
    return ((n_pos - 1) * codec.patch_size - 1) // codec.renderer_hop + 1


def step_resample_plan(codec: CodecConfig, pos: int, m: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """A codec_step call's (render_first, resample_lo, resample_hi, resample_w) for the m codec frames after the
    first `pos`: renderer frame j sits at 100 Hz position j·hop/patch (5j/4 at the v2 dims) between its two
    neighbours, weighted as AudioTokenizer.render_params' linear resampling does; the frames whose upper neighbour
    arrives with these m frames are the call's, their neighbours indexed into [the last old feature, the m·U new
    features]."""
    u, hop, patch = codec.upsample_factor, codec.renderer_hop, codec.patch_size
    j0, j1 = _complete(codec, u * pos), _complete(codec, u * (pos + m))
    j = np.arange(j0, j1, dtype=np.int64)
    lo = (j * hop) // patch
    w = ((j * hop) % patch).astype(np.float32) / np.float32(patch)
    return j0, lo - (u * pos - 1), lo - (u * pos - 2), w


def step_final_plan(codec: CodecConfig, pos: int, total: int, pad: int) -> tuple[int, np.ndarray, np.ndarray,
                                                                                 np.ndarray, int]:
    """The last codec_step call of a stream of `total` codec frames, `pos` of them fed: every renderer frame left up to
    F = ceil(total·spf / hop), with the one-shot's clamp at the last 100 Hz position, then `pad` rows past the end
    (zero padding for the frame decoder; their indexes are arbitrary). -> (render_first, lo, hi, w, F)."""
    u, hop, patch = codec.upsample_factor, codec.renderer_hop, codec.patch_size
    n_in, f = u * total, -(-total * codec.samples_per_frame // hop)
    j0 = _complete(codec, u * pos)
    j = np.arange(j0, f, dtype=np.int64)
    lo = np.minimum((j * hop) // patch, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    w = ((j * hop) % patch).astype(np.float32) / np.float32(patch)
    w = np.where((j * hop) // patch > n_in - 1, np.float32(1), w).astype(np.float32)  # clamped: (pos - lo) clips at 1
    base = u * pos - 1
    fill = np.zeros(pad, np.int64)
    return (j0, np.concatenate([lo - base, fill]), np.concatenate([hi - base, fill]),
            np.concatenate([w, np.zeros(pad, np.float32)]), f)
