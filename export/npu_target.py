"""`vox-edge export CKPT BUNDLE --target qnn-htp|openvino`: a bundle an NPU execution provider runs whole.

1. Every graph is written in FP32 at fixed shapes with standard ops only (export/npu_graphs.py): the backbone with
   a fixed-capacity KV cache (`--context`, positions per call `--prefill-chunk`), the flow graphs at their
   runtime batch sizes (the Euler loop stays in the runtime), the codec at its streaming window.
2. That FP32 bundle is run by the runtime itself on the CPU provider over reference texts (calibration), and every
   input each graph sees is recorded (subsampled, per graph).
3. Each graph is quantised to QDQ with vox_edge.quantize.int8.quantize_int8_static (QUANT below):
     qnn-htp   every op, A16W8: uint16 activations, int8 per-channel weights (the Hexagon HTP's w8a16; it has no
               float path on V68). uint8 activations cost the attention scores too much resolution next to the
               finite mask (all-op A8 on OpenVINO: 0.65 semantic agreement on tiny); per-tensor weights flipped
               semantic codes (tiny: 0.95 agreement, per-channel 1.00).
     openvino  the MatMuls with weights only, int8 per-channel weights: OpenVINO runs float ops on the device
               itself (an Intel NPU in FP16); all-op A8 or A16 QDQ missed the parity ladder on tiny. The backbone
               and flow_velocity take uint16 activations (A16W8, QUANT_GRAPH), the others uint8 (A8W8: flow_time;
               the codec unless source_filter). Trained voice v2 on OpenVINO's CPU plugin (VNNI class, 2026-12-08)
               against its FP32 export (check-ep, 20 frames): with A8W8 backbone and flow_velocity, semantic 0.90
               and acoustic +-1 0.84, both under the ladder; with them A16W8, semantic 1.00, acoustic 0.95 exact /
               1.00 within +-1, codec 70.7 dB, at a quarter of FP32's weight bytes (backbone 8.2 MB against 31.6 MB
               FP32; the full-size 4B's backbone would be ~14 GB FP32). flow_condition stays FP32 (KEEP_FP32), and
               so does a source_filter codec (its renderer parameters at A8W8: 1.4 dB SNR).
    qnn-htp also rewrites LayerNormalization and Erf, which the HTP refuses, and constant-index GatherND, which it
    runs wrong on 16-bit data, from ops it runs right (decompose_for_htp).
The manifest records the target and its shapes (`target`); the runtime reads them back (runtime/static_cache.py).

A graph over npu_shards.SHARD_BYTES of FP32 weights (the full-size 4B's backbone and flow head) is quantised layer by
layer (export/npu_shards.py). With a work directory (`--work-dir`), the calibration feeds, each QDQ shard and each
quantised graph are kept in `work_key` beneath it until the bundle is written: the same command run again after a kill
continues from there.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vox_edge.errors import ExportError
from vox_edge.manifest import NPU_TARGETS, load_manifest

from vox_edge.quantize.int8 import STATIC_OPS

from .npu_codec_split import export_split_codec
from .npu_graphs import decompose_for_htp, export_npu_backbone, fold_for_npu
from .torch_graphs import (CODEC_GRAPHS, FLOW_GRAPHS, OPSET, STATIC_CODEC_FRAMES, codec_aware_io, export_fp32,
                           graph_module, load_acoustic, load_codec)

# target -> quantize_int8_static options
QUANT = {
    "qnn-htp": {"activations": "u16", "weights": "s8", "per_channel": True, "reduce_range": False, "op_types": None},
    "openvino": {"activations": "u8", "weights": "s8", "per_channel": True, "reduce_range": False,
                 "op_types": STATIC_OPS},
}
# target -> graph -> options over QUANT[target] for that graph (quant_options). openvino: on the trained voice v2
# (check-ep on OpenVINO's CPU plugin against its FP32 export, 20 frames) the A8W8 weight MatMuls miss the ladder in
# two graphs: the backbone's hidden flips 2 of 20 semantic codes (0.90) and flow_velocity puts acoustic codes within
# +-1 at 0.84. With uint16 activations in both (A16W8, int8 weights as before): semantic 1.00, acoustic +-1 1.00
# (0.95 exact), the same as with both FP32, at a quarter of the weight bytes.
QUANT_GRAPH: dict[str, dict[str, dict]] = {
    "qnn-htp": {},
    "openvino": {"backbone": {"activations": "u16"}, "flow_velocity": {"activations": "u16"}},
}
# Graphs a target keeps in FP32: OpenVINO runs float ops on the device too (an Intel NPU in FP16), and the semantic
# head's argmax picks the next backbone input from logits whose top two can be 0.03 apart (tiny, 1 frame in 20
# flipped at u8 activations), for 0.5 % of a frame's compute. HTP (V68) has no float path: everything is QDQ there.
KEEP_FP32 = {"qnn-htp": (), "openvino": ("flow_condition",)}
CALIBRATION_TEXTS = (
    "Turn left in two hundred meters, then keep right at the fork.",
    "The battery is at forty two percent; the next charging station is eleven kilometers ahead.",
    "Calling Alex on speaker. Say cancel to stop.",
    "Heavy traffic on the ring road. Your arrival time is now six fifteen.",
)
CALIBRATION_STEPS = (7, 3)  # flow steps alternated over the texts: the profiles run 3, the reference 7
MAX_FEEDS = 48  # per graph: enough for min/max ranges, small enough to hold (a backbone feed carries its KV cache)
MAX_FEED_BYTES = 1 << 30  # per graph (1 GiB): fewer feeds when they are big (the 4B backbone's KV cache: 218 MB per feed)
SHARDED_FRAMES = 8  # frames per calibration text when the backbone is quantised in shards (export/npu_shards.py)


@dataclass(frozen=True)
class NpuShapes:
    """The fixed shapes of an NPU bundle (manifest `target`)."""

    seq_len: int = 16  # backbone positions per call: prompt chunks; a decode step pads its single frame to this
    context: int = 1024  # KV capacity: voice prefix + text + frames of one request
    codec_frames: int = STATIC_CODEC_FRAMES  # codec window: left context + new frames

    def validate(self) -> None:
        if not 1 <= self.seq_len <= self.context:
            raise ExportError(f"--prefill-chunk must be in [1, --context = {self.context}], got {self.seq_len}.")


def quant_options(target: str, name: str) -> dict:
    """The quantize_int8_static options of graph `name` in a `target` bundle: QUANT[target] with QUANT_GRAPH's."""
    return {**QUANT[target], **QUANT_GRAPH[target].get(name, {})}


def check_target(target: str) -> None:
    if target not in NPU_TARGETS:
        raise ExportError(f"unknown target {target!r}; use one of {', '.join(NPU_TARGETS)}.")


def export_npu_graphs(ckpt, out_dir: Path, shapes: NpuShapes, progress: Callable[[str], None],
                      target: str | None = None, work_dir: Path | None = None) -> dict[str, dict]:
    """FP32 fixed-shape graphs of every component into out_dir; returns manifest graph entries. A qnn-htp bundle's
    source_filter codec is two graphs, codec_trunk placed on the CPU (export/npu_codec_split.py).
    work_dir: the graphs are copied beneath it and taken from there by the same export run again (the full-size 4B's
    FP32 graphs: 13 GB, 6 to 35 minutes to export, a few to copy)."""
    from . import npu_shards

    kept = None
    if work_dir is not None:
        kept = Path(work_dir) / f"fp32-{_fp32_key(ckpt, shapes, target)}"
        if npu_shards.is_done(kept, "fp32"):
            for f in sorted(kept.iterdir()):
                if f.name not in (npu_shards.DONE, "graphs.json", "source"):
                    _copy(f, out_dir / f.name)
            progress(f"[export] FP32 graphs: from the work directory ({kept})")
            return json.loads((kept / "graphs.json").read_text(encoding="utf-8"))
    graphs = _export_npu_graphs(ckpt, out_dir, shapes, progress, target)
    if kept is not None:  # out_dir holds these graphs only, so far
        npu_shards.fresh(kept)
        for f in sorted(out_dir.iterdir()):
            if f.is_file():
                _copy(f, kept / f.name)
        (kept / "graphs.json").write_text(json.dumps(graphs), encoding="utf-8")
        (kept / "source").write_text(ckpt.fingerprint(), encoding="utf-8")
        npu_shards.mark_done(kept, "fp32")
    return graphs


def _fp32_key(ckpt, shapes: NpuShapes, target: str | None) -> str:
    import onnx
    import onnxruntime
    import torch

    key = {"format": WORK_FORMAT, "source": ckpt.fingerprint(), "target": target, "shapes": vars(shapes),
           "versions": [torch.__version__, onnx.__version__, onnxruntime.__version__, np.__version__]}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _copy(src: Path, dst: Path) -> None:
    """A copy, never a hard link: onnx refuses to load external data from a file with several links."""
    dst.unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def _export_npu_graphs(ckpt, out_dir: Path, shapes: NpuShapes, progress: Callable[[str], None],
                       target: str | None) -> dict[str, dict]:
    cfg = ckpt.config
    split = target == "qnn-htp" and cfg.codec.output_head == "source_filter"
    graphs = {"backbone": export_npu_backbone(ckpt, out_dir, shapes.seq_len, shapes.context, progress)}
    scratch = Path(tempfile.mkdtemp(prefix=".npu-", dir=out_dir))
    try:
        for group, load in ((FLOW_GRAPHS, load_acoustic), (CODEC_GRAPHS, load_codec)):
            module, wrapped = load(ckpt), None
            for name in group:
                if split and name == "codec_decoder":
                    graphs.update(export_split_codec(module, cfg, shapes.codec_frames, scratch, out_dir, progress))
                    continue
                progress(f"[export] {name}: torch.onnx.export (fp32, fixed shapes, folded for the NPU)")
                wrapped = graph_module(name, module if group is FLOW_GRAPHS else None,
                                       module if group is CODEC_GRAPHS else None)
                export_fp32(wrapped, name, cfg, scratch / f"{name}.onnx", static_shapes=True)
                fold_for_npu(scratch / f"{name}.onnx", out_dir / f"{name}.onnx")
                ins, outs = codec_aware_io(name, cfg)  # a source_filter codec returns renderer parameters
                graphs[name] = {"file": f"{name}.onnx", "precision": "fp32", "method": "none", "inputs": list(ins),
                                "outputs": list(outs), "opset": OPSET, "static_shapes": True, "extra_files": []}
            del module, wrapped
            gc.collect()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return graphs


class _Recorder:
    """A session that keeps (a subsample of) the feeds it runs: every `stride`-th call, the stride doubling
    whenever MAX_FEEDS are held, so the kept calls stay spread over the whole calibration run."""

    def __init__(self, session: Any):
        self._sess, self.feeds, self._stride, self._calls, self._max = session, [], 1, 0, MAX_FEEDS

    def run(self, names, feed, *args):
        if self._calls % self._stride == 0:
            self.feeds.append({k: np.array(v, copy=True) for k, v in feed.items()})
            if len(self.feeds) == 1:  # at least 4 feeds, however big
                self._max = max(4, min(MAX_FEEDS, MAX_FEED_BYTES // max(1, sum(v.nbytes for v in feed.values()))))
            if len(self.feeds) > self._max:
                self.feeds, self._stride = self.feeds[::2], self._stride * 2
        self._calls += 1
        return self._sess.run(names, feed, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sess, name)


def calibration_feeds(bundle: Path, frames: int, progress: Callable[[str], None],
                      backbone: Any = None) -> dict[str, list[dict]]:
    """Run the FP32 bundle on the CPU provider over CALIBRATION_TEXTS; graph name -> recorded feeds.
    backbone: a session-like stand-in for the backbone graph (npu_shards.ShardedBackbone) instead of its file."""
    from vox_edge.runtime.engine import Engine
    from vox_edge.runtime.sessions import SessionSettings, open_session

    recorders: dict[str, _Recorder] = {}

    def opener(name: str, path: Path) -> _Recorder:
        given = backbone if name == "backbone" and backbone is not None else None
        recorders[name] = _Recorder(given or open_session(path, SessionSettings()))
        return recorders[name]

    engine = Engine(load_manifest(bundle, verify="size"), None, prefix_cache=False, flow_loop=False,
                    open_graph=opener)
    voices = engine.voices
    for i, text in enumerate(CALIBRATION_TEXTS):
        engine.synthesize(text, voice=voices[i % len(voices)], max_frames=frames, seed=i,
                          flow_steps=CALIBRATION_STEPS[i % len(CALIBRATION_STEPS)])
    progress("[export] calibration: " + ", ".join(f"{n} {len(r.feeds)} feeds" for n, r in recorders.items()))
    return {n: r.feeds for n, r in recorders.items()}


WORK_FORMAT = 1  # what a work directory holds; a change of it starts every export's work afresh


def work_key(bundle: Path, target: str, frames: int) -> str:
    """What a resumed export must share with the one it continues: the checkpoint (fingerprint, params), the target
    and its shapes, the exporter's versions, the quantisation and calibration options, the shard sizes."""
    from . import npu_shards

    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    key = {"format": WORK_FORMAT, "source": manifest["source"]["fingerprint"], "params": manifest["params"],
           "target": manifest["target"], "exporter": manifest["exporter"],
           "quant": [QUANT[target], QUANT_GRAPH[target]], "keep": KEEP_FP32[target], "frames": frames,
           "texts": CALIBRATION_TEXTS, "steps": CALIBRATION_STEPS,
           "feeds": [MAX_FEEDS, MAX_FEED_BYTES, SHARDED_FRAMES],
           "shards": [npu_shards.SHARD_BYTES, npu_shards.CALIBRATION_FP32_BYTES]}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


class _Work:
    """A resumable export's folder (work_dir / work_key): calibration/ (feeds per graph), <graph>/ (its shards),
    graphs/<graph>/ (a quantised graph's files)."""

    def __init__(self, root: Path, progress: Callable[[str], None]):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        progress(f"[export] work directory {root} (a killed export run again the same way continues from it)")

    def feeds(self) -> dict[str, list[dict]] | None:
        from . import npu_shards

        folder = self.root / "calibration"
        if not npu_shards.is_done(folder, "feeds"):
            return None
        return {p.stem: npu_shards.load_arrays(p) for p in sorted(folder.glob("*.npz"))}

    def save_feeds(self, feeds: dict[str, list[dict]]) -> None:
        from . import npu_shards

        folder = npu_shards.fresh(self.root / "calibration")
        for name, rows in feeds.items():
            npu_shards.save_arrays(folder / f"{name}.npz", rows)
        npu_shards.mark_done(folder, "feeds")

    def restore(self, name: str, tag: str, dst: Path) -> list[Path] | None:
        """A quantised graph done before from the same FP32 graph (tag): copied to dst's folder."""
        from . import npu_shards

        folder = self.root / "graphs" / name
        if not npu_shards.is_done(folder, tag):
            return None
        files = sorted(p for p in folder.iterdir() if p.name != npu_shards.DONE)
        for f in files:  # unlinked first: never written through an existing file
            (dst.parent / f.name).unlink(missing_ok=True)
            shutil.copyfile(f, dst.parent / f.name)
        return [dst.parent / f.name for f in files]

    def keep(self, name: str, tag: str, written: list[Path]) -> None:
        from . import npu_shards

        folder = npu_shards.fresh(self.root / "graphs" / name)
        for f in written:
            shutil.copyfile(f, folder / Path(f).name)
        npu_shards.mark_done(folder, tag)


def quantize_npu_graphs(bundle: Path, graphs: dict[str, dict], target: str, frames: int,
                        progress: Callable[[str], None], work_dir: Path | None = None) -> None:
    """Quantise every graph of the FP32 bundle at `bundle` in place (quant_options); updates `graphs` entries.
    work_dir: keep what is done beneath it (module doc) and continue from what an earlier run left there; the
    export's own folder in it is removed once every graph is quantised."""
    from vox_edge.quantize.int8 import quantize_int8_static
    from vox_edge.quantize.onnx_io import move_model

    from . import npu_shards

    keep = KEEP_FP32[target]
    work = _Work(Path(work_dir) / work_key(bundle, target, frames), progress) if work_dir is not None else None
    cached = work.feeds() if work is not None else None
    if cached is not None:
        progress("[export] calibration: from the work directory (" + ", ".join(
            f"{n} {len(f)} feeds" for n, f in cached.items()) + ")")
    bb = graphs["backbone"]
    bb_path = bundle / bb["file"]
    sharded = "backbone" not in keep and npu_shards.weight_bytes(
        _load_proto(bb_path)) > npu_shards.SHARD_BYTES
    if sharded:
        # ORT's static quantiser holds the whole FP32 graph (13.7 GB for the 4B backbone): layer shards instead
        n_layers = load_manifest(bundle, verify="none").config.n_layers
        recorded: dict[str, list[dict]] = dict(cached or {})

        def feeds_of(stand_in) -> list[dict]:
            recorded.update(calibration_feeds(bundle, min(frames, SHARDED_FRAMES), progress, backbone=stand_in))
            if work is not None:
                work.save_feeds(recorded)
            return recorded.pop("backbone")

        if target == "qnn-htp" and _rewrite(bb_path, decompose_for_htp):
            progress("[export] backbone: LayerNormalization / Erf / constant-index GatherND rewritten for the HTP")
        staged = bundle / ".backbone-qdq" / bb_path.name  # the FP32 graph stays in place for the calibration run
        staged.parent.mkdir()
        opts = quant_options(target, "backbone")
        npu_shards.quantize_backbone_by_layer(bb_path, staged, n_layers, feeds_of, opts, progress,
                                              work=None if work is None else work.root / "backbone",
                                              feeds=recorded.pop("backbone") if cached is not None else None)
        for extra in bb["extra_files"]:
            (bundle / extra).unlink()
        bb_path.unlink()
        written = move_model(staged, bb_path)
        staged.parent.rmdir()
        bb.update(precision="int8", method="static", activations=opts["activations"], weights=opts["weights"],
                  opset=_opset(bb_path), extra_files=sorted(Path(p).name for p in written if Path(p) != bb_path))
        feeds = recorded
    else:
        feeds = cached if cached is not None else calibration_feeds(bundle, frames, progress)
        if work is not None and cached is None:
            work.save_feeds(feeds)
    if target == "openvino" and load_manifest(bundle, verify="none").config.codec.output_head == "source_filter":
        # A8W8 renderer parameters (log gains, phases) wreck the waveform: the default voice's architecture at
        # 1.4 dB SNR through its A8W8 codec against 55.6 dB through the same fixed window in FP32
        keep = (*keep, "codec_decoder")
    for name, entry in graphs.items():
        if sharded and name == "backbone":
            continue
        if entry.get("placement") == "cpu":
            progress(f"[export] {name}: kept FP32, placed on the CPU ({entry['placement_reason']})")
            continue
        if name in keep:
            progress(f"[export] {name}: kept FP32 for {target}")
            continue
        if not feeds.get(name):
            raise ExportError(f"{name}: the calibration run never called this graph; cannot quantise it.")
        opts = quant_options(target, name)
        src = bundle / entry["file"]
        fp32 = src.with_name(src.stem + ".fp32.onnx")
        src.rename(fp32)
        for extra in entry["extra_files"]:  # external data keeps its name: move it beside the renamed graph
            (bundle / extra).rename(bundle / (extra + ".fp32"))
        _relink_external(fp32, {e: e + ".fp32" for e in entry["extra_files"]})
        if target == "qnn-htp" and _rewrite(fp32, decompose_for_htp):
            progress(f"[export] {name}: LayerNormalization / Erf / constant-index GatherND rewritten for the HTP")
        fp32_data = _external_files(fp32)  # a large graph's weights: in a file the manifest may not list
        tag = npu_shards.digest(fp32)
        written = work.restore(name, tag, src) if work is not None else None
        if written is not None:
            progress(f"[export] {name}: QDQ from the work directory")
        else:
            progress(f"[export] {name}: QDQ {opts['activations']} activations / {opts['weights']} weights "
                     f"({len(feeds[name])} calibration feeds)")
            staged = bundle / f".{name}-qdq" / src.name  # beside the FP32 graph, which may own src's .data name
            staged.parent.mkdir(exist_ok=True)
            written = npu_shards.quantize_graph_by_layer(
                fp32, staged, feeds[name], opts, progress, name,
                work=None if work is None else work.root / name)
            if written is None:
                staged.parent.rmdir()
                written = quantize_int8_static(fp32, src, feeds[name], **opts)
            else:
                for f in fp32_data:
                    f.unlink(missing_ok=True)
                written = move_model(staged, src)
                staged.parent.rmdir()
            npu_shards._release()  # the quantiser's transient copies (the full-size flow head: several GB)
            if work is not None:
                work.keep(name, tag, written)
        fp32.unlink()
        for f in fp32_data:
            if f.exists() and f not in [Path(w) for w in written]:
                f.unlink()
        entry.update(precision="int8", method="static", activations=opts["activations"], weights=opts["weights"],
                     opset=_opset(src), extra_files=sorted(Path(p).name for p in written if Path(p) != src))
    if work is not None:  # every graph is quantised: what the work folder kept is in the bundle now
        shutil.rmtree(work.root, ignore_errors=True)
        fingerprint = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["source"]["fingerprint"]
        for kept in work.root.parent.glob("fp32-*"):  # this checkpoint's FP32 graphs (any shapes)
            if (kept / "source").is_file() and (kept / "source").read_text(encoding="utf-8") == fingerprint:
                shutil.rmtree(kept, ignore_errors=True)
        if not any(work.root.parent.iterdir()):
            work.root.parent.rmdir()


def _external_files(model_path: Path) -> list[Path]:
    """The external-data files a graph's initializers name (beside it)."""
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(model_path), load_external_data=False)
    names = {e.value for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL
             for e in t.external_data if e.key == "location"}
    return [model_path.parent / n for n in sorted(names)]


def _load_proto(path: Path):
    import onnx

    return onnx.load(str(path), load_external_data=False)


def _rewrite(model_path: Path, rewrite: Callable[[Any], int]) -> int:
    """Apply a graph pass to the graph file in place; external data stays where it is (the proto only is rewritten)."""
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    changed = rewrite(model)
    if changed:
        onnx.save_model(model, str(model_path))
    return changed


def _relink_external(model_path: Path, renamed: dict[str, str]) -> None:
    """Point a graph's external-data references at renamed files (the graph proto only is rewritten)."""
    import onnx
    from onnx import TensorProto

    if not renamed:
        return
    model = onnx.load(str(model_path), load_external_data=False)
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            for e in t.external_data:
                if e.key == "location" and e.value in renamed:
                    e.value = renamed[e.value]
    onnx.save_model(model, str(model_path))


def _opset(path: Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
