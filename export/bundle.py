"""`export_bundle`: checkpoint directory -> bundle directory the runtime loads (contract: vox_edge.manifest).

Everything is written into `BUNDLE.partial/`; manifest.json is written last, the result is checked with
the runtime's own `load_manifest`, and only then is the directory renamed into place. An interrupted or
failed export therefore never leaves a directory the runtime accepts, and never touches an existing
bundle at BUNDLE until the new one is complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from vox_edge.errors import ExportError
from vox_edge.manifest import (COMPONENTS, FORMAT, MANIFEST_FILE, load_manifest, schema_version_for, sha256_file,
                               synthesis_problem, validate_manifest_dict)
from vox_edge.quantize.plan import split_spec

from .checkpoint import NOTICES_DIR, WEIGHTS_FILE, Checkpoint
from .onnx_utils import TensorReader

TOK_EMBEDDINGS = "mm_audio_embeddings.tok_embeddings.weight"
AUDIO_EMBEDDINGS = "mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"
EMBED_CHUNK_ROWS = 4096  # rows of the text table converted per step (48 MB of f32 at full width)
FP16_MAX = float(np.finfo(np.float16).max)


def component_precisions(precision: str, per_component: dict[str, str] | None) -> dict[str, str]:
    """{'backbone'|'acoustic'|'codec': spec}; a spec is a precision with optional '-option' suffixes."""
    out = {c: precision for c in COMPONENTS}
    for c, p in (per_component or {}).items():
        if c not in COMPONENTS:
            raise ExportError(f"unknown component {c!r} in the per-component precisions; use {', '.join(COMPONENTS)}.")
        out[c] = p
    for c, p in out.items():
        split_spec(p, c, ExportError)
    return out


def _write_npy_streaming(path: Path, shape: tuple[int, int], dtype, chunks) -> None:
    """Write a .npy from row chunks with plain writes (no memmap: dirty mapped pages would count as RSS)."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape})
        for c in chunks:
            f.write(np.ascontiguousarray(c, dtype=dtype).data)


def _fp16_rows(reader: TensorReader, name: str, clipped: list[int]):
    """Row chunks of a 2-D checkpoint tensor as float16, values beyond the float16 range clipped (counted)."""
    rows = reader.shape(name)[0]
    for r0 in range(0, rows, EMBED_CHUNK_ROWS):
        c = reader.rows(name, r0, min(rows, r0 + EMBED_CHUNK_ROWS))  # [n, D] f32
        big = np.abs(c) > FP16_MAX
        if big.any():  # BF16 reaches 3e38, FP16 only 65504
            clipped[0] += int(big.sum())
            np.clip(c, -FP16_MAX, FP16_MAX, out=c)
        yield c.astype(np.float16)


def int8_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[rows, D] float32 -> (int8 [rows, D], float32 scale [rows]): symmetric per row, round to nearest, so row r
    is q[r] * scale[r] within scale[r] / 2 per value (a zero row has scale 0)."""
    a = np.asarray(a, np.float32)
    scale = (np.abs(a).max(axis=1) / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(a / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


def write_arrays(reader: TensorReader, out_dir: Path, progress: Callable[[str], None],
                 audio_fp16: bool = False, audio_int8: bool = False) -> dict[str, dict]:
    """arrays/audio_codebook_embeddings.npy f32 [rows, D] (f16 if `audio_fp16`, int8 + a scale per row in
    audio_codebook_embeddings.scale.npy if `audio_int8`); arrays/tok_embeddings.npy f16.

    The audio table's 37-row sums are the backbone's input every frame. FP32 holds its BF16 checkpoint values
    exactly (an FP32 bundle is the bit-exact reference); FP16 holds them exactly down to 2^-17 in magnitude and
    within 2^-25 below: the backbone spec's `table16` option (measured on the INT8 default voice: identical codes
    with either table, docs/bundle.md#arrays). INT8 (`table8`, manifest schema 4) rounds each value to 1/254 of
    its row's largest: half FP16's size, not exact (training/voice_v2/README.md measures what it changes)."""
    (out_dir / "arrays").mkdir(exist_ok=True)
    entries = {}
    clipped = [0]
    if audio_int8:
        q, scale = int8_rows(reader.f32(AUDIO_EMBEDDINGS))
        np.save(out_dir / "arrays" / "audio_codebook_embeddings.npy", q)
        np.save(out_dir / "arrays" / "audio_codebook_embeddings.scale.npy", scale)
        entries["audio_codebook_embeddings"] = {"file": "arrays/audio_codebook_embeddings.npy", "dtype": "int8",
                                                "scale": "arrays/audio_codebook_embeddings.scale.npy",
                                                "shape": list(q.shape)}
        del q
    elif audio_fp16:
        rows, dim = reader.shape(AUDIO_EMBEDDINGS)
        _write_npy_streaming(out_dir / "arrays" / "audio_codebook_embeddings.npy", (rows, dim), np.float16,
                             _fp16_rows(reader, AUDIO_EMBEDDINGS, clipped))
        entries["audio_codebook_embeddings"] = {"file": "arrays/audio_codebook_embeddings.npy", "dtype": "float16",
                                                "shape": [rows, dim]}
    else:
        audio = reader.f32(AUDIO_EMBEDDINGS)  # [9088, D]: 111 MB at full size
        np.save(out_dir / "arrays" / "audio_codebook_embeddings.npy", audio)
        entries["audio_codebook_embeddings"] = {"file": "arrays/audio_codebook_embeddings.npy", "dtype": "float32",
                                                "shape": list(audio.shape)}
        del audio
    rows, dim = reader.shape(TOK_EMBEDDINGS)
    _write_npy_streaming(out_dir / "arrays" / "tok_embeddings.npy", (rows, dim), np.float16,
                         _fp16_rows(reader, TOK_EMBEDDINGS, clipped))
    if clipped[0]:
        progress(f"[export] warning: {clipped[0]} embedding values exceed the FP16 range and were clipped")
    entries["tok_embeddings"] = {"file": "arrays/tok_embeddings.npy", "dtype": "float16", "shape": [rows, dim]}
    progress(f"[export] arrays: audio codebook embeddings {'int8' if audio_int8 else 'fp16' if audio_fp16 else 'fp32'}, "
             f"text embeddings [{rows}, {dim}] fp16")
    return entries


def write_voices(ckpt: Checkpoint, out_dir: Path) -> dict[str, dict]:
    (out_dir / "voices").mkdir(exist_ok=True)
    entries = {}
    for name in ckpt.config.voice_names:
        v = ckpt.voice(name).float().numpy()  # [N, D] BF16 -> f32 (exact)
        np.save(out_dir / "voices" / f"{name}.npy", v)
        entries[name] = {"file": f"voices/{name}.npy", "shape": list(v.shape)}
    return entries


def file_table(root: Path) -> dict[str, dict]:
    """{relative posix path: {sha256, size}} for every file under root except the manifest itself."""
    table = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != MANIFEST_FILE:
            table[p.relative_to(root).as_posix()] = {"sha256": sha256_file(p), "size": p.stat().st_size}
    return table


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import torch

    import vox_edge

    return {"name": "vox-edge", "version": vox_edge.__version__, "torch": torch.__version__,
            "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__}


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _check_target(bundle: Path) -> None:
    """Refuse to replace a directory that is not a vox-edge bundle (it may hold someone's files)."""
    if bundle.exists() and (not bundle.is_dir() or any(bundle.iterdir()) and not (bundle / MANIFEST_FILE).is_file()):
        raise ExportError(f"{bundle}: exists and is not a vox-edge bundle; refusing to replace it. "
                          "Choose another output directory or remove it.")


def _swap_into_place(partial: Path, bundle: Path) -> None:
    """Rename the finished bundle into place; an old bundle is moved aside first, then deleted."""
    old = bundle.with_name(bundle.name + ".old")
    if bundle.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(bundle, old)
    os.replace(partial, bundle)
    shutil.rmtree(old, ignore_errors=True)


def export_bundle(checkpoint_dir: str | Path, bundle_dir: str | Path, precision: str = "fp32",
                  per_component: dict[str, str] | None = None, static_shapes: bool = False,
                  progress: Callable[[str], None] = print, synthesis: dict[str, float] | None = None,
                  target: str | None = None, npu_shapes=None, work_dir: str | Path | None = None) -> Path:
    """Export every graph, array, voice and the tokenizer (+ lexicon, notices if any) of a checkpoint into `bundle_dir`.

    precision: fp32 | fp16 | int8 | int4 for all components; per_component overrides it per component
    ('backbone' / 'acoustic' / 'codec'), e.g. precision="int8", per_component={"codec": "fp32"}.
    Specs may carry options: backbone 'int4-b128', 'int4-acc0', 'int4-asym'; flow/codec see quantize.plan.
    synthesis: the model's measured sampling defaults for the manifest (cfg_alpha, noise_scale, and min_flow_steps:
    the fewest flow steps it needs, to which the runtime raises a device profile's); None = reference.
    target: None (CPU bundle) or an NPU target ('qnn-htp', 'openvino'; export/npu_target.py): fixed-shape QDQ graphs
    of `npu_shapes` (an npu_target.NpuShapes; default shapes if None), `precision` and `per_component` unused.
    work_dir: with a target, where the quantisation keeps what it has done (the same export run again resumes).
    """
    from .backbone_graph import PREFILL_GRAPH, BackboneOptions, export_backbone

    if target:
        from .npu_target import NpuShapes, check_target

        check_target(target)
        npu_shapes = npu_shapes or NpuShapes()
        npu_shapes.validate()
        precision, per_component, static_shapes = "int8", None, True
    precisions = component_precisions(precision, per_component)
    bundle = Path(bundle_dir)
    problem = synthesis_problem(dict(synthesis or {}))
    if problem:  # refuse before hours of export
        raise ExportError(f"sampling defaults: {problem}")
    _check_target(bundle)
    ckpt = Checkpoint.open(checkpoint_dir)
    floor, fixed = (synthesis or {}).get("min_flow_steps"), ckpt.config.acoustic.n_decoding_steps
    if static_shapes and floor is not None and floor > fixed:  # the fixed-shape flow_time graph takes `fixed` rows
        raise ExportError(f"min_flow_steps {floor} is more than the {fixed} flow steps this checkpoint's fixed-shape "
                          "flow_time graph can take (n_decoding_steps in params.json): lower --min-flow-steps or "
                          "export without fixed shapes.")
    partial = bundle.with_name(bundle.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        progress(f"[export] {ckpt.path} -> {bundle} ({', '.join(f'{c}={p}' for c, p in precisions.items())})")
        graphs = {}
        audio_fp16 = audio_int8 = False  # the backbone spec's 'table16' / 'table8' option (write_arrays)
        if target:
            from .npu_target import export_npu_graphs

            graphs = export_npu_graphs(ckpt, partial, npu_shapes, progress, target, work_dir=work_dir)
        else:
            bopts = BackboneOptions.from_spec(precisions["backbone"])
            audio_fp16, audio_int8 = bopts.table16, bopts.table8
            if static_shapes:
                # The runtime feeds this backbone any S (a prompt, then 1 per frame): only --target fixes its shapes.
                progress("[export] note: the backbone stays dynamic-shape (a fixed-shape one: --target)")
            graphs["backbone"] = export_backbone(ckpt, partial, bopts, progress=progress)
            popts = bopts.prefill_options()
            if popts is not None:  # a second backbone for prompts, sharing the cache contract (manifest)
                progress(f"[export] {PREFILL_GRAPH}: the backbone at {popts.precision} for prompts")
                graphs[PREFILL_GRAPH] = export_backbone(ckpt, partial, popts, progress=progress,
                                                        file_name=f"{PREFILL_GRAPH}.onnx")
            graphs.update(_component_graphs(ckpt, partial, precisions, static_shapes, progress))
        with TensorReader(ckpt.path / WEIGHTS_FILE) as reader:
            arrays = write_arrays(reader, partial, progress, audio_fp16=audio_fp16, audio_int8=audio_int8)
        voices = write_voices(ckpt, partial)
        shutil.copyfile(ckpt.path / "tekken.json", partial / "tekken.json")
        tokenizer = {"file": "tekken.json", "kind": "tekken"}
        if ckpt.lexicon_path is not None:  # the model was trained on lexicon-applied text: the runtime must apply it
            name = ckpt.lexicon_path.name  # LEXICON_FILE, or the compact COMPACT_LEXICON_FILE (manifest schema 4)
            shutil.copyfile(ckpt.lexicon_path, partial / name)
            tokenizer["lexicon"] = name
            progress(f"[export] lexicon: {name}")
        notices = []
        for src in ckpt.notices:  # licences of data the checkpoint carries (the lexicon's): they travel with it
            (partial / NOTICES_DIR).mkdir(exist_ok=True)
            shutil.copyfile(src, partial / NOTICES_DIR / src.name)
            notices.append(f"{NOTICES_DIR}/{src.name}")
        if notices:
            progress(f"[export] notices: {', '.join(notices)}")
        progress("[export] hashing files")
        manifest = {
            "schema_version": schema_version_for("lexicon" in tokenizer, graphs["backbone"]["kv_cache"], graphs,
                                                 arrays, tokenizer.get("lexicon")),
            "format": FORMAT,
            "params": json.loads((ckpt.path / "params.json").read_text(encoding="utf-8")),
            "graphs": graphs,
            "arrays": arrays,
            "voices": voices,
            "default_voice": ckpt.config.voice_names[0],
            "tokenizer": tokenizer,
            **({"notices": notices} if notices else {}),
            "precisions": precisions,
            "static_shapes": static_shapes,
            **({"synthesis": dict(synthesis)} if synthesis else {}),
            **({"target": {"name": target, "seq_len": npu_shapes.seq_len, "context": npu_shapes.context,
                           "codec_frames": npu_shapes.codec_frames}} if target else {}),
            "files": file_table(partial),
            "exporter": _versions(),
            "source": {"fingerprint": ckpt.fingerprint(), "dir": ckpt.path.name},
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        if target:  # the FP32 fixed-shape bundle runs once (calibration), then its graphs become QDQ in place
            from .npu_target import quantize_npu_graphs

            _write_json(partial / MANIFEST_FILE, manifest)
            quantize_npu_graphs(partial, graphs, target, frames=40, progress=progress, work_dir=work_dir)
            manifest["files"] = file_table(partial)
        validate_manifest_dict(manifest, partial)
        _write_json(partial / MANIFEST_FILE, manifest)
        load_manifest(partial, verify="size")  # exactly the runtime's checks, before anything is renamed
        _swap_into_place(partial, bundle)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # if this fails, the name still says .partial
        raise
    progress(f"[export] done: {bundle}")
    return bundle


def _component_graphs(ckpt: Checkpoint, out_dir: Path, precisions: dict[str, str], static_shapes: bool,
                      progress: Callable[[str], None]) -> dict[str, dict]:
    """The flow-matching head and codec graphs (vox_edge.export.torch_graphs)."""
    try:
        from .torch_graphs import export_component_graphs
    except ImportError as e:
        raise ExportError(f"the flow/codec graph exporter is unavailable ({e}); reinstall vox-edge with the "
                          "[export] extra.") from None
    comp = {c: p for c, p in precisions.items() if c != "backbone"}
    try:
        return export_component_graphs(ckpt, out_dir, comp, static_shapes=static_shapes, progress=progress)
    except ValueError as e:  # bad precision specs surface as ValueError there
        raise ExportError(str(e)) from None
