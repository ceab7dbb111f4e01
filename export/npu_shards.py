"""Layer-by-layer QDQ of a large fixed-shape NPU backbone, so the export's peak memory is about one shard's.

onnxruntime's static quantiser loads the whole FP32 graph and runs it for its ranges: 13.7 GB for the 4B backbone
(12.1 GB of FP32 weights), over a 12 GB budget. So a backbone whose FP32 weights exceed SHARD_BYTES is quantised
in shards of whole decoder layers:

1. split   the FP32 graph (export/npu_graphs.py) is cut at the residual stream between layers into shard graphs
           that share its external-data file (the graph protos only are written: no weight is copied);
2. run     the calibration run drives a session-like stand-in for the whole backbone (`ShardedBackbone`) that
           runs the shards one after another. Its shards are dynamic-INT8 copies (MatMul weights int8, activations
           float; a quarter of the FP32 bytes) when the FP32 backbone does not fit CALIBRATION_FP32_BYTES: the
           recorded backbone feeds (embeddings, masks, RoPE tables, KV caches) then come from a run within the
           CPU INT8 path's agreement of FP32, not from FP32 itself (the ranges below are FP32's on those feeds);
3. quantise each FP32 shard in turn with the whole graph's options, on its own inputs: the recorded feeds, the
           residual stream carried from the previous FP32 shard (so a boundary tensor gets one range, the same on
           both sides);
4. stitch  the QDQ shards into one graph with the whole graph's I/O and one external-data file, copying one shard's
           weights at a time; a boundary's back-to-back DequantizeLinear -> QuantizeLinear pair with equal
           parameters (an exact identity) is removed.

Any other graph over SHARD_BYTES (the full-size flow head, flow_velocity: 349 M parameters, 1.4 GB FP32, whose
whole-graph QDQ alone took 8.6 GB) goes through steps 3 and 4 the same way, cut where a single float tensor is all
that crosses between its nodes (the residual stream between its layers; `plan_cuts`), on the calibration feeds the
whole export recorded (quantize_graph_by_layer).

Resuming: given a work directory (`vox-edge export --work-dir`, export/npu_target.py keys it by checkpoint and
options), each finished step stays there: the dynamic-INT8 calibration copies, each QDQ shard with the FP32
tensors it hands to the shards after it (`carry.npz`), marked done with the sha256 of the FP32 shard graph it came
from (a shard whose graph changed is done again, and so is every one after it). A killed export run again with the
same command continues after the last shard done and writes the same graphs.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Mapping

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

SHARD_BYTES = 1 << 29  # FP32 weight bytes per shard: a backbone over this is quantised shard by shard (one 4B layer: 464 MB)
CALIBRATION_FP32_BYTES = 4 << 30  # above this, the calibration run's shards are dynamic INT8
EMBEDS, HIDDEN = "inputs_embeds", "hidden_states"
SHARED_INPUTS = ("attention_mask", "rope_cos", "rope_sin")
ALIGN = 4096  # external-data offsets (page-aligned: onnxruntime can map them)
DONE = "done"  # a finished step's marker: the sha256 of the graph file it was made from


def residual(layer: int) -> str:
    """The residual stream entering decoder layer `layer` (>= 1): export/npu_graphs.py's skip_norm Add."""
    return f"layers.{layer}.attention_norm/residual/out"


def weight_bytes(model: onnx.ModelProto) -> int:
    from vox_edge.quantize.onnx_io import initializer_bytes

    return initializer_bytes(model)


def _layer_bytes(model: onnx.ModelProto, n_layers: int) -> list[int]:
    """FP32 weight bytes per decoder layer (initializers named layers.{i}.*)."""
    sizes = [0] * n_layers
    for t in model.graph.initializer:
        if t.name.startswith("layers."):
            i = int(t.name.split(".")[1])
            if t.data_location == TensorProto.EXTERNAL:
                sizes[i] += next(int(e.value) for e in t.external_data if e.key == "length")
            else:
                sizes[i] += len(t.raw_data)
    return sizes


def plan_shards(layer_bytes: list[int], max_bytes: int) -> list[tuple[int, int]]:
    """Consecutive [a, b) layer ranges, each at most max_bytes of weights (at least one layer each)."""
    shards, a, acc = [], 0, 0
    for i, size in enumerate(layer_bytes):
        if i > a and acc + size > max_bytes:
            shards.append((a, i))
            a, acc = i, 0
        acc += size
    shards.append((a, len(layer_bytes)))
    return shards


@dataclass
class Shard:
    path: Path
    layers: tuple[int, int]  # decoder layers [a, b) of a backbone; node positions [a, b) of any other graph
    inputs: list[str]
    outputs: list[str]
    unit: str = "layers"

    def label(self) -> str:
        return f"{self.unit} {self.layers[0]}-{self.layers[1] - 1}"


def split_backbone(fp32: Path, n_layers: int, ranges: list[tuple[int, int]], out_dir: Path) -> list[Shard]:
    """Shard graphs of the FP32 backbone at `fp32` for the layer ranges, written beside it (they read its external
    data file, so out_dir must be fp32's folder)."""
    if Path(out_dir).resolve() != Path(fp32).parent.resolve():
        raise ValueError("shard graphs must sit beside the backbone: they read its external-data file")
    model = onnx.load(str(fp32), load_external_data=False)
    shards = []
    for k, (a, b) in enumerate(ranges):
        pasts = [f"past_key_values.{i}.{kind}" for kind in ("key", "value") for i in range(a, b)]
        presents = [f"present.{i}.{kind}" for kind in ("key", "value") for i in range(a, b)]
        ins = [EMBEDS if a == 0 else residual(a), *SHARED_INPUTS, *pasts]
        outs = [HIDDEN if b == n_layers else residual(b), *presents]
        sub = _extract(model, ins, outs, f"{model.graph.name}_layers_{a}_{b - 1}")
        path = Path(out_dir) / f"{Path(fp32).stem}.shard{k}.onnx"
        with open(path, "wb") as f:
            f.write(sub.SerializeToString())
        shards.append(Shard(path, (a, b), [i.name for i in sub.graph.input], outs))
    return shards


def _extract(model: onnx.ModelProto, ins: list[str], outs: list[str], name: str) -> onnx.ModelProto:
    """The nodes between `ins` and `outs` as a model (initializers keep their external-data references). A residual
    boundary gets inputs_embeds' type and shape; an input no node of the slice reads is not declared."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    needed, seen, stack = set(), set(ins), list(outs)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        node = producer.get(t)
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(i for i in node.input if i)
    nodes = [n for n in g.node if id(n) in needed]
    used = {i for n in nodes for i in n.input}
    declared = {v.name: v for v in [*g.input, *g.output]}
    inits = {t.name for t in g.initializer}
    missing = used - inits - set(ins) - {o for n in nodes for o in n.output}
    if missing:
        raise ValueError(f"layer slice {name} reads {sorted(missing)[:3]}, which are not its inputs")
    like = declared[EMBEDS]

    def info(n: str) -> onnx.ValueInfoProto:
        if n in declared:
            return declared[n]
        v = onnx.ValueInfoProto()
        v.CopyFrom(like)
        v.name = n
        return v

    graph = onnx.helper.make_graph(nodes, name, [info(n) for n in ins if n in used or n == ins[0]],
                                   [info(n) for n in outs], [t for t in g.initializer if t.name in used])
    sub = onnx.helper.make_model(graph, opset_imports=list(model.opset_import), producer_name="vox-edge")
    sub.ir_version = model.ir_version
    return sub


class ShardedBackbone:
    """A session-like stand-in for the whole backbone (get_inputs / get_outputs / run) over shard sessions."""

    def __init__(self, whole: Path, shards: list[Shard], sessions: list[Any]):
        model = onnx.load(str(whole), load_external_data=False)
        info = lambda vi: SimpleNamespace(  # noqa: E731 - what Backbone / StaticCache read of a NodeArg
            name=vi.name, type="tensor(float)",
            shape=[d.dim_value if d.HasField("dim_value") else d.dim_param for d in vi.type.tensor_type.shape.dim])
        self._inputs = [info(v) for v in model.graph.input]
        self._outputs = [info(v) for v in model.graph.output]
        self._shards, self._sessions = shards, sessions

    def get_inputs(self):
        return self._inputs

    def get_outputs(self):
        return self._outputs

    def get_providers(self):
        return ["CPUExecutionProvider"]

    def run(self, names, feed, *args):
        values = dict(feed)
        for shard, sess in zip(self._shards, self._sessions):
            outs = sess.run(shard.outputs, {n: values[n] for n in shard.inputs})
            values.update(zip(shard.outputs, outs))
        return [values[n] for n in (names or [o.name for o in self._outputs])]


def _release() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc keeps a quantiser's transient gigabytes otherwise:
    the 4B calibration shards left 8.4 GB resident for 3.3 GB of sessions)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _session(path: Path) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(os.fspath(path), so, providers=["CPUExecutionProvider"])


def digest(path: Path) -> str:
    """sha256 of a file (a graph proto: its external weights are the checkpoint's, which the work key covers)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def is_done(folder: Path, tag: str) -> bool:
    marker = Path(folder) / DONE
    return marker.is_file() and marker.read_text(encoding="utf-8") == tag


def mark_done(folder: Path, tag: str) -> None:
    tmp = Path(folder) / (DONE + ".tmp")
    tmp.write_text(tag, encoding="utf-8")
    os.replace(tmp, Path(folder) / DONE)


def fresh(folder: Path) -> Path:
    """An empty folder (what an interrupted step left there is removed)."""
    shutil.rmtree(folder, ignore_errors=True)
    Path(folder).mkdir(parents=True)
    return Path(folder)


def save_arrays(path: Path, rows: list[Mapping[str, np.ndarray]]) -> None:
    """A list of name -> array dicts (calibration feeds, carried tensors) as one .npz, written atomically."""
    names = [list(r) for r in rows]
    arrays = {f"a{i}_{j}": np.asarray(r[n]) for i, r in enumerate(rows) for j, n in enumerate(names[i])}
    tmp = Path(path).with_name(Path(path).name + ".tmp.npz")
    np.savez(tmp, __names__=np.frombuffer(json.dumps(names).encode(), np.uint8), **arrays)
    os.replace(tmp, path)


def load_arrays(path: Path) -> list[dict[str, np.ndarray]]:
    with np.load(path) as z:
        names = json.loads(z["__names__"].tobytes().decode())
        return [{n: z[f"a{i}_{j}"] for j, n in enumerate(row)} for i, row in enumerate(names)]


def calibration_backbone(whole: Path, shards: list[Shard], scratch: Path, int8: bool,
                         progress: Callable[[str], None], resume: bool = False) -> ShardedBackbone:
    """The calibration run's backbone: the FP32 shards, or (int8) their dynamic-INT8 copies (kept in scratch and
    reused when resume)."""
    from vox_edge.quantize.int8 import quantize_int8_dynamic

    if not int8:
        return ShardedBackbone(whole, shards, [_session(s.path) for s in shards])
    sessions = []
    for k, s in enumerate(shards):
        folder, tag = scratch / f"calib{k}", digest(s.path)
        dst = folder / s.path.name
        if resume and is_done(folder, tag):
            note = "dynamic INT8 copy (from the work directory)"
        else:
            fresh(folder)
            quantize_int8_dynamic(s.path, dst, conv_weights="fp32")
            _release()
            mark_done(folder, tag)
            note = "dynamic INT8 copy"
        sessions.append(_session(dst))
        progress(f"[export] backbone calibration shard {k + 1}/{len(shards)} ({s.label()}): {note}")
    return ShardedBackbone(whole, shards, sessions)


def quantize_shards(shards: list[Shard], feeds: list[Mapping[str, np.ndarray]], scratch: Path, opts: dict,
                    progress: Callable[[str], None], resume: bool = False, name: str = "backbone",
                    after_shard: Callable[[int], None] | None = None) -> list[Path]:
    """QDQ each FP32 shard on its own inputs: the recorded feeds' graph inputs and the tensors earlier FP32 shards
    computed from them (the residual stream). resume: the shards done in scratch are taken from there (with the
    FP32 tensors they hand on), from the first one not done on. after_shard(k): called after shard k is done (a
    test's interruption point)."""
    from vox_edge.quantize.int8 import quantize_int8_static

    later = [set().union(*(t.inputs for t in shards[k + 1:])) for k in range(len(shards))]
    tags = [digest(s.path) for s in shards]
    start = 0
    if resume:
        while start < len(shards) and is_done(scratch / f"q{start}", tags[start]):
            start += 1
    carried = load_arrays(scratch / f"q{start - 1}" / "carry.npz") if start else [{} for _ in feeds]
    out = []
    for k, s in enumerate(shards):
        folder = scratch / f"q{k}"
        dst = folder / s.path.name
        if k < start:
            out.append(dst)
            progress(f"[export] {name} shard {k + 1}/{len(shards)} ({s.label()}): QDQ (from the work directory)")
            continue
        shard_feeds = [{n: (c[n] if n in c else f[n]) for n in s.inputs} for f, c in zip(feeds, carried)]
        handed = [o for o in s.outputs if o in later[k]]
        if handed:  # what the shards after this one read, from this FP32 shard
            sess = _session(s.path)
            for c, f in zip(carried, shard_feeds):
                c.update(zip(handed, sess.run(handed, f)))
            del sess
        for c in carried:
            for n in [n for n in c if n not in later[k]]:
                del c[n]
        fresh(folder)
        written = quantize_int8_static(s.path, dst, shard_feeds, **opts)
        out.append(written[0])
        if resume:
            save_arrays(folder / "carry.npz", carried)
            mark_done(folder, tags[k])
        del shard_feeds
        _release()
        progress(f"[export] {name} shard {k + 1}/{len(shards)} ({s.label()}): QDQ")
        if after_shard is not None:
            after_shard(k)
    return out


def stitch(whole: Path, quantized: list[Path], shards: list[Shard], dst: Path) -> list[Path]:
    """One QDQ graph from the QDQ shards: the whole graph's I/O (names, order), one external-data file dst.data.
    Names inside a shard get the prefix `shard{k}/` except the whole graph's I/O and the residual boundaries."""
    ref = onnx.load(str(whole), load_external_data=False)
    public = {v.name for v in ref.graph.input} | {v.name for v in ref.graph.output} \
        | {n for s in shards for n in (*s.inputs, *s.outputs)}
    data_path = dst.with_name(dst.name + ".data")
    nodes, inits, opsets, domains = [], [], {}, set()
    with open(data_path, "wb") as data:
        for k, q in enumerate(quantized):
            m = onnx.load(str(q), load_external_data=True)
            rename = lambda name: name if (not name or name in public) else f"shard{k}/{name}"  # noqa: E731
            for o in m.opset_import:
                opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
            for n in m.graph.node:
                n.name = rename(n.name or n.output[0])
                n.input[:] = [rename(i) for i in n.input]
                n.output[:] = [rename(o) for o in n.output]
                domains.add(n.domain)
                nodes.append(n)
            for t in m.graph.initializer:
                t.name = rename(t.name)
                if t.data_location != TensorProto.EXTERNAL:
                    raw = t.raw_data or numpy_helper.from_array(numpy_helper.to_array(t)).raw_data
                    if len(raw) >= 1024:
                        pad = (-data.tell()) % ALIGN
                        data.write(b"\0" * pad)
                        offset = data.tell()
                        data.write(raw)
                        t.ClearField("raw_data")
                        for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
                            t.ClearField(f)
                        t.data_location = TensorProto.EXTERNAL
                        del t.external_data[:]
                        for key, val in (("location", data_path.name), ("offset", str(offset)),
                                         ("length", str(len(raw)))):
                            e = t.external_data.add()
                            e.key, e.value = key, val
                    elif not t.raw_data:
                        t.raw_data = raw
                        for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
                            t.ClearField(f)
                inits.append(t)
            del m
            _release()
    graph = onnx.helper.make_graph(nodes, ref.graph.name, list(ref.graph.input), list(ref.graph.output), inits)
    drop_identity_requant(graph)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in opsets.items()],
                                   producer_name="vox-edge", doc_string=ref.doc_string)
    model.ir_version = onnx.load(str(quantized[0]), load_external_data=False).ir_version
    for src in ref.metadata_props:
        p = model.metadata_props.add()
        p.key, p.value = src.key, src.value
    tmp = dst.with_name(dst.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, dst)
    return [dst, data_path]


def drop_identity_requant(graph: onnx.GraphProto) -> int:
    """Remove DequantizeLinear -> QuantizeLinear pairs whose scale and zero point are the same initializers' values
    (a stitched boundary: the exact identity on the quantised grid); the Q's consumers read the DQ's input."""
    inits = {t.name: t for t in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    users: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    outputs = {o.name for o in graph.output}

    def value(name: str):
        t = inits.get(name)
        return None if t is None or t.data_location == TensorProto.EXTERNAL else numpy_helper.to_array(t)

    def same(a: str, b: str) -> bool:
        x, y = value(a), value(b)
        return x is not None and y is not None and x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)

    replace, dead = {}, set()
    for q in graph.node:
        if q.op_type != "QuantizeLinear" or len(q.input) < 3:
            continue
        dq = producer.get(q.input[0])
        if dq is None or dq.op_type != "DequantizeLinear" or len(dq.input) < 3 or dq.output[0] in outputs:
            continue
        if not (same(q.input[1], dq.input[1]) and same(q.input[2], dq.input[2])):
            continue
        replace[q.output[0]] = dq.input[0]
        dead.add(id(q))
        if users.get(dq.output[0], 0) == 1:
            dead.add(id(dq))
    if not replace:
        return 0
    kept = [n for n in graph.node if id(n) not in dead]
    for n in kept:
        n.input[:] = [replace.get(i, i) for i in n.input]
    del graph.node[:]
    graph.node.extend(kept)
    used = {i for n in graph.node for i in n.input}
    keep_inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)
    return len(replace)


@contextmanager
def _shard_files(shards: list, scratch: Path, work: Path | None):
    """Around a sharded quantisation: the shard graphs go afterwards, and so does the scratch folder unless it is
    the work folder kept for a resumed export."""
    try:
        yield
    finally:
        for s in shards:
            s.path.unlink(missing_ok=True)
        if work is None:
            shutil.rmtree(scratch, ignore_errors=True)


def quantize_backbone_by_layer(fp32: Path, dst: Path, n_layers: int, feeds_of: Callable[[ShardedBackbone], list],
                               opts: dict, progress: Callable[[str], None], max_shard_bytes: int | None = None,
                               calibration_fp32_bytes: int | None = None, work: Path | None = None,
                               feeds: list | None = None,
                               after_shard: Callable[[int], None] | None = None) -> list[Path]:
    """The whole flow (module doc): fp32 backbone graph -> QDQ graph at dst (+ dst.data). feeds_of(backbone) runs
    the calibration with the given stand-in backbone and returns the backbone feeds it recorded; feeds: those
    feeds already recorded (a resumed export: no calibration run). work: a folder kept between runs (resume)."""
    model = onnx.load(str(fp32), load_external_data=False)
    ranges = plan_shards(_layer_bytes(model, n_layers), SHARD_BYTES if max_shard_bytes is None else max_shard_bytes)
    total = weight_bytes(model)
    del model
    scratch = fresh(fp32.parent / ".shards") if work is None else Path(work)
    scratch.mkdir(parents=True, exist_ok=True)
    shards = split_backbone(fp32, n_layers, ranges, fp32.parent)
    with _shard_files(shards, scratch, work):
        progress(f"[export] backbone: {total / 2**30:.1f} GiB of FP32 weights, quantised in {len(shards)} shards "
                 f"of layers {', '.join(f'{a}-{b - 1}' for a, b in ranges)}")
        if feeds is None:
            limit = CALIBRATION_FP32_BYTES if calibration_fp32_bytes is None else calibration_fp32_bytes
            backbone = calibration_backbone(fp32, shards, scratch, total > limit, progress, resume=work is not None)
            feeds = feeds_of(backbone)
            del backbone
            _release()
            for k in range(len(shards)):  # the calibration's own copies (3 GB at full size): done with
                shutil.rmtree(scratch / f"calib{k}", ignore_errors=True)
        quantized = quantize_shards(shards, feeds, scratch, opts, progress, resume=work is not None,
                                    after_shard=after_shard)
        del feeds
        _release()
        return stitch(fp32, quantized, shards, dst)


def plan_cuts(model: onnx.ModelProto, max_bytes: int) -> list[tuple[int, int]]:
    """Consecutive [a, b) node ranges of a graph, each at most max_bytes of weights where the cuts allow: a cut
    goes only where one float tensor is all that earlier nodes hand to later ones (the graph's inputs and its
    constants aside). One range when no cut is needed or possible."""
    nodes, g = list(model.graph.node), model.graph
    inits = {t.name: t for t in g.initializer}
    const = {o for n in nodes if n.op_type == "Constant" for o in n.output}
    produced = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    last = {}
    for i, n in enumerate(nodes):
        for x in n.input:
            if x in produced and x not in const:
                last[x] = i
    types = {v.name: v.type.tensor_type.elem_type for v in _inferred(model).graph.value_info}
    ends: dict[int, list[str]] = {}
    for t, j in last.items():
        ends.setdefault(j, []).append(t)
    cuts, crossing = [], set()  # crossing: tensors made before node p and read at or after it
    for p in range(1, len(nodes)):
        crossing |= {o for o in nodes[p - 1].output if o in last}
        crossing -= set(ends.get(p - 1, ()))
        if len(crossing) == 1 and types.get(next(iter(crossing))) == TensorProto.FLOAT:
            cuts.append(p)
    seen, node_bytes = set(), []
    for n in nodes:
        size = 0
        for x in n.input:
            if x in inits and x not in seen:
                seen.add(x)
                size += _tensor_bytes(inits[x])
        node_bytes.append(size)
    prefix = np.concatenate([[0], np.cumsum(node_bytes)])
    ranges, a = [], 0
    while True:
        fits = [c for c in cuts if c > a and prefix[c] - prefix[a] <= max_bytes]
        if prefix[len(nodes)] - prefix[a] <= max_bytes or not [c for c in cuts if c > a]:
            ranges.append((a, len(nodes)))
            return ranges
        c = fits[-1] if fits else next(c for c in cuts if c > a)
        ranges.append((a, c))
        a = c


def _tensor_bytes(t: onnx.TensorProto) -> int:
    if t.data_location == TensorProto.EXTERNAL:
        return next((int(e.value) for e in t.external_data if e.key == "length"), 0)
    return len(t.raw_data) or t.ByteSize()


def _inferred(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference on a copy without the large weights' bytes (their dims and types are what it reads)."""
    light = onnx.ModelProto()
    light.CopyFrom(model)
    for t in light.graph.initializer:
        if t.data_location != TensorProto.EXTERNAL and len(t.raw_data) > (1 << 16):
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL  # a reference shape inference does not follow
            e = t.external_data.add()
            e.key, e.value = "location", "elsewhere"
    return onnx.shape_inference.infer_shapes(light)


def split_graph(fp32: Path, ranges: list[tuple[int, int]], out_dir: Path) -> list[Shard]:
    """Shard graphs of the graph at `fp32` for node ranges (plan_cuts), written beside it (external weights stay in
    its data file; inline ones are copied into the shard that reads them)."""
    if Path(out_dir).resolve() != Path(fp32).parent.resolve():
        raise ValueError("shard graphs must sit beside the graph: they read its external-data file")
    model = onnx.load(str(fp32), load_external_data=False)
    g = model.graph
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute):
        raise ValueError(f"{fp32.name}: a graph with subgraphs (If / Loop) is not split")
    nodes = list(g.node)
    info = {v.name: v for v in _inferred(model).graph.value_info}
    info.update({v.name: v for v in [*g.input, *g.output]})
    inits = {t.name: t for t in g.initializer}
    const = {o: n for n in nodes if n.op_type == "Constant" for o in n.output}
    graph_outputs = {v.name for v in g.output}
    shards = []
    for k, (a, b) in enumerate(ranges):
        part = nodes[a:b]
        made = {o for n in part for o in n.output}
        reads = [x for n in part for x in n.input if x]
        extra = [const[x] for x in dict.fromkeys(reads) if x in const and x not in made]
        made |= {o for n in extra for o in n.output}
        later = {x for n in nodes[b:] for x in n.input}
        ins = [x for x in dict.fromkeys(reads) if x not in made and x not in inits]
        outs = [o for n in part for o in n.output if o and (o in graph_outputs or (o in later and o not in const))]
        missing = [x for x in (*ins, *outs) if x not in info]
        if missing:
            raise ValueError(f"{fp32.name}: no type for {missing[:3]} (shape inference)")
        sub = onnx.helper.make_graph([*extra, *part], f"{g.name}_nodes_{a}_{b - 1}", [info[x] for x in ins],
                                     [info[x] for x in outs], [inits[x] for x in dict.fromkeys(reads) if x in inits])
        sub_model = onnx.helper.make_model(sub, opset_imports=list(model.opset_import), producer_name="vox-edge")
        sub_model.ir_version = model.ir_version
        path = Path(out_dir) / f"{Path(fp32).stem}.shard{k}.onnx"
        with open(path, "wb") as f:
            f.write(sub_model.SerializeToString())
        shards.append(Shard(path, (a, b), ins, outs, unit="nodes"))
    return shards


def quantize_graph_by_layer(fp32: Path, dst: Path, feeds: list[Mapping[str, np.ndarray]], opts: dict,
                            progress: Callable[[str], None], name: str, max_shard_bytes: int | None = None,
                            work: Path | None = None,
                            after_shard: Callable[[int], None] | None = None) -> list[Path] | None:
    """QDQ of a graph other than the backbone (the flow head) in shards cut by plan_cuts: -> dst (+ dst.data).
    None when the graph is not cut (under max_shard_bytes, or no cut found): quantise it whole."""
    model = onnx.load(str(fp32), load_external_data=False)
    limit = SHARD_BYTES if max_shard_bytes is None else max_shard_bytes
    total = weight_bytes(model)
    if total <= limit:
        return None
    ranges = plan_cuts(model, limit)
    del model
    if len(ranges) < 2:
        progress(f"[export] {name}: {total / 2**30:.2f} GiB of FP32 weights and no cut: quantised whole")
        return None
    scratch = fresh(fp32.parent / f".shards-{name}") if work is None else Path(work)
    scratch.mkdir(parents=True, exist_ok=True)
    shards = split_graph(fp32, ranges, fp32.parent)
    with _shard_files(shards, scratch, work):
        progress(f"[export] {name}: {total / 2**30:.2f} GiB of FP32 weights, quantised in {len(shards)} shards of "
                 f"nodes {', '.join(f'{a}-{b - 1}' for a, b in ranges)}")
        quantized = quantize_shards(shards, feeds, scratch, opts, progress, resume=work is not None, name=name,
                                    after_shard=after_shard)
        return stitch(fp32, quantized, shards, dst)
