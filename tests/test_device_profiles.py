"""Device profiles: every bundled one loads, and malformed ones fail naming the exact field."""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from vox_edge.device_profiles import (
    COMPONENTS,
    DeviceProfile,
    _guess_profile,
    host_profile,
    host_profile_name,
    list_profiles,
    load_profile,
    parse_profile,
)
from vox_edge.errors import ProfileError

REQUIRED = {
    "raspberry-pi-5", "raspberry-pi-4", "jetson-orin-nano", "jetson-agx-orin", "qualcomm-sa8155p",
    "qualcomm-sa8295p", "x86-laptop", "apple-silicon-laptop", "dev-vm-2core-x86",
}
PKG_DIR = Path(str(resources.files("vox_edge.device_profiles")))
REPO = Path(__file__).resolve().parents[1]


def bundled_text(name: str) -> str:
    return (PKG_DIR / f"{name}.toml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bundled profiles


def test_list_profiles_finds_every_toml_and_the_required_set():
    names = list_profiles()
    assert names == sorted(p.stem for p in PKG_DIR.glob("*.toml"))
    assert REQUIRED <= set(names)


@pytest.mark.parametrize("name", list_profiles())
def test_bundled_profile_loads_and_is_consistent(name):
    p = load_profile(name)
    assert isinstance(p, DeviceProfile)
    assert p.name == name
    assert p.runtime.execution_providers[-1] == "CPUExecutionProvider"
    assert 1 <= p.runtime.intra_op_threads <= p.hardware.cores
    assert p.runtime.codec_left_context_frames is None  # the bundle's codec decides (its receptive field)
    for key in ("ttfa_ms_p50", "ttfa_ms_p95", "rtf", "peak_rss_mb"):
        t = getattr(p.targets, key)
        assert t.value > 0
        # Each number must say where it comes from: a section of the repository's docs (docs/hardware.md).
        assert len(t.derivation) >= 60, (name, key)
        assert "docs/" in t.derivation, (name, key)


# The small model's dims are not fixed yet, so only the 4B profiles get the physics check.
@pytest.mark.parametrize("name", [n for n in list_profiles() if load_profile(n).model.name == "voxtral-4b"])
def test_4b_rtf_targets_do_not_beat_the_bandwidth_floor(name):
    """A target faster than weights-read-per-frame / bandwidth would be physically impossible."""
    p = load_profile(name)
    # Lower bound on bytes/param (fp16 scales for INT4), so the floor is never overstated.
    bpp = {"fp32": 4.0, "fp16": 2.0, "int8": 1.0, "int4": 0.5 + 2.0 / p.model.int4_block_size}
    prec = p.model.precision
    # docs/hardware.md#cost-model: 26 layers x 116.4 M backbone; 0.035 B once + 0.349 B per NFE acoustic.
    bytes_per_frame = (3.026e9 * bpp[prec.backbone]
                       + (0.035e9 + p.runtime.flow_steps * 0.349e9) * bpp[prec.acoustic])
    floor_rtf = bytes_per_frame / (p.hardware.memory_bandwidth_gbs * 1e9) / 0.080
    assert p.targets.rtf.value >= floor_rtf, (name, floor_rtf)


def test_pis_run_the_small_model():
    # The 4B at INT4 NFE 3 is RTF 2.9-4.8 on a Pi 5 (docs/hardware.md#cost-model): never real time.
    for name in ("raspberry-pi-5", "raspberry-pi-4"):
        assert load_profile(name).model.name == "vox-edge-small"
    assert "neon_dotprod" not in load_profile("raspberry-pi-4").hardware.isa
    assert "neon_dotprod" in load_profile("raspberry-pi-5").hardware.isa


def test_load_by_path_str_and_pathlike():
    path = PKG_DIR / "raspberry-pi-5.toml"
    assert load_profile(path) == load_profile("raspberry-pi-5")
    assert load_profile(str(path)) == load_profile("raspberry-pi-5")


@pytest.mark.parametrize("name", list_profiles())
def test_to_dict_round_trips(name):
    p = load_profile(name)
    d = p.to_dict()
    # Everything the file says is in the dict unchanged; the dict adds only defaults.
    _assert_contains(d, tomllib.loads(bundled_text(name)))
    assert parse_profile(d, source="round trip") == p


def _assert_contains(big, small, path=""):
    for key, value in small.items():
        assert key in big, path + key
        if isinstance(value, dict):
            _assert_contains(big[key], value, f"{path}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):  # an array of tables: [[model.kernels]]
            assert len(big[key]) == len(value), path + key
            for i, (b, v) in enumerate(zip(big[key], value)):
                _assert_contains(b, v, f"{path}{key}[{i}].")
        else:
            assert big[key] == value, path + key


def test_profiles_are_frozen_and_hashable():
    p = load_profile("x86-laptop")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.runtime.flow_steps = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.targets.rtf.value = 0.01  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.model.precision.backbone = "fp32"  # type: ignore[misc]
    # Sequences are tuples, so nothing inside can be mutated either.
    assert isinstance(p.runtime.execution_providers, tuple)
    assert isinstance(p.hardware.isa, tuple)
    assert hash(p) == hash(load_profile("x86-laptop"))


def test_defaults_for_optional_runtime_fields(tmp_path):
    text = bundled_text("dev-vm-2core-x86")
    assert "\ncfg_alpha =" not in text  # unset: the model (bundle) decides, see test_engine_sampling_defaults
    assert "\ncodec_left_context_frames =" not in text
    path = tmp_path / "dev-vm-2core-x86.toml"
    path.write_text(text, encoding="utf-8")
    p = load_profile(path)
    assert p.runtime.cfg_alpha is None
    assert p.runtime.codec_left_context_frames is None
    path.write_text(_sub(text, "max_context = 2048", "max_context = 2048\ncodec_left_context_frames = 30"), encoding="utf-8")
    assert load_profile(path).runtime.codec_left_context_frames == 30


def test_with_runtime_override_is_validated():
    p = load_profile("raspberry-pi-5")
    q = p.with_runtime(flow_steps=5, intra_op_threads=4)
    assert (q.runtime.flow_steps, q.runtime.intra_op_threads) == (5, 4)
    assert p.runtime.flow_steps == 3  # original untouched
    with pytest.raises(ProfileError, match=r"runtime\.flow_steps"):
        p.with_runtime(flow_steps=0)
    with pytest.raises(ProfileError, match=r"runtime\.intra_op_threads"):
        p.with_runtime(intra_op_threads=5)  # the Pi has 4 cores
    with pytest.raises(ProfileError, match="flow_step"):
        p.with_runtime(flow_step=3)


# --------------------------------------------------------------------------- malformed profiles


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, f"test fixture drifted: {old!r} not in the profile"
    return text.replace(old, new, 1)


# (base profile, old text, new text, dotted field the error must name, another word it must contain)
BAD = [
    ("dev-vm-2core-x86", "flow_steps = 7 ", "", "runtime.flow_steps", "missing"),
    ("dev-vm-2core-x86", "memory_bandwidth_gbs = 28.0\n", "", "hardware.memory_bandwidth_gbs", "missing"),
    ("dev-vm-2core-x86", 'name = "vox-edge-small"', "", "model.name", "missing"),
    ("dev-vm-2core-x86", "flow_steps = 7 ", 'flow_steps = "seven" ', "runtime.flow_steps", "integer"),
    ("dev-vm-2core-x86", "flow_steps = 7 ", "flow_steps = true ", "runtime.flow_steps", "integer"),
    ("dev-vm-2core-x86", "intra_op_threads = 1 ", "intra_op_threads = 1.5 ", "runtime.intra_op_threads", "integer"),
    ("dev-vm-2core-x86", "enable_mem_arena = true", 'enable_mem_arena = "yes"', "runtime.enable_mem_arena", "true or false"),
    ("dev-vm-2core-x86", "cores = 2", 'cores = "2"', "hardware.cores", "integer"),
    ("dev-vm-2core-x86", "[targets.rtf]\nvalue = 0.1", '[targets.rtf]\nvalue = "fast"', "targets.rtf.value", "number"),
    ("dev-vm-2core-x86", 'backbone = "int8"', 'backbone = "int3"', "model.precision.backbone", "int4"),
    ("dev-vm-2core-x86", 'codec = "fp32"', 'codec = "bf16"', "model.precision.codec", "fp16"),
    ("dev-vm-2core-x86", 'name = "vox-edge-small"', 'name = "voxtral-7b"', "model.name", "vox-edge-small"),
    ("dev-vm-2core-x86", 'execution_providers = ["CPUExecutionProvider"]',
     'execution_providers = ["CUDAExecutionProvder", "CPUExecutionProvider"]',
     "runtime.execution_providers[0]", "CUDAExecutionProvider"),
    ("dev-vm-2core-x86", 'execution_providers = ["CPUExecutionProvider"]',
     'execution_providers = ["CudaExecutionProvider", "CPUExecutionProvider"]',
     "runtime.execution_providers[0]", "did you mean 'CUDAExecutionProvider'"),
    ("dev-vm-2core-x86", 'execution_providers = ["CPUExecutionProvider"]',
     'execution_providers = ["CPUExecutionProvider", "CUDAExecutionProvider"]',
     "runtime.execution_providers", "must end with"),
    ("dev-vm-2core-x86", 'execution_providers = ["CPUExecutionProvider"]', "execution_providers = []",
     "runtime.execution_providers", "empty"),
    ("dev-vm-2core-x86", 'execution_providers = ["CPUExecutionProvider"]',
     'execution_providers = ["CPUExecutionProvider", "CPUExecutionProvider"]',
     "runtime.execution_providers", "more than once"),
    ("dev-vm-2core-x86", "intra_op_threads = 1 ", "intra_op_threads = -1 ", "runtime.intra_op_threads", "[1,"),
    ("dev-vm-2core-x86", "inter_op_threads = 1 ", "inter_op_threads = 0 ", "runtime.inter_op_threads", "[1,"),
    ("dev-vm-2core-x86", "intra_op_threads = 1 ", "intra_op_threads = 3 ", "runtime.intra_op_threads", "hardware.cores"),
    ("dev-vm-2core-x86", "flow_steps = 7 ", "flow_steps = 0 ", "runtime.flow_steps", "[1,"),
    ("dev-vm-2core-x86", "flow_steps = 7 ", "cfg_alpha = -0.5\nflow_steps = 7 ", "runtime.cfg_alpha", "[0,"),
    ("dev-vm-2core-x86", "max_context = 2048", "max_context = 2048\ncodec_left_context_frames = 0",
     "runtime.codec_left_context_frames", "[1,"),
    ("dev-vm-2core-x86", "first_chunk_frames = 2 ", "first_chunk_frames = 30 ", "runtime.first_chunk_frames",
     "runtime.chunk_frames"),
    ("dev-vm-2core-x86", "max_context = 2048", "max_context = 16", "runtime.max_context", "[256,"),
    ("dev-vm-2core-x86", "memory_gb = 24", "memory_gb = -24", "hardware.memory_gb", "(0,"),
    ("dev-vm-2core-x86", 'graph_optimization_level = "all"', 'graph_optimization_level = "max"',
     "runtime.graph_optimization_level", "extended"),
    ("dev-vm-2core-x86", 'isa = ["avx2"', 'isa = ["neon_dotprod", "avx2"', "hardware.isa[0]", "avx512_vnni"),
    ("dev-vm-2core-x86", 'arch = "x86_64"', 'arch = "riscv64"', "hardware.arch", "aarch64"),
    ("dev-vm-2core-x86", "flow_steps = 7 ", "flow_step = 7 ", "runtime.flow_step", "not a known field"),
    ("dev-vm-2core-x86", "schema_version = 1\n", "schema_version = 1\nnmae = 'x'\n", "nmae", "not a known field"),
    ("dev-vm-2core-x86", "[targets.rtf]\n", "[targets.rtf]\nunit = 'x'\n", "targets.rtf.unit", "not a known field"),
    ("dev-vm-2core-x86", "[targets.ttfa_ms_p95]\nvalue = 300", "[targets.ttfa_ms_p95]\nvalue = 100",
     "targets.ttfa_ms_p95.value", "ttfa_ms_p50"),
    ("dev-vm-2core-x86", "[model]\n", "[model]\nint4_block_size = 100\n", "model.int4_block_size", "power of two"),
    ("dev-vm-2core-x86", "schema_version = 1", "schema_version = 2", "schema_version", "[1, 1]"),
    ("dev-vm-2core-x86", 'name = "dev-vm-2core-x86"', 'name = "Dev VM"', "name", "lower-case"),
    ("dev-vm-2core-x86", 'name = "dev-vm-2core-x86"', 'name = "other-vm"', "name", "file stem"),
    ("qualcomm-sa8295p", "static_shapes = true ", "static_shapes = false ", "runtime.static_shapes", "QNN"),
]


@pytest.mark.parametrize("base, old, new, field, word", BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_malformed_profile_names_the_field(tmp_path, base, old, new, field, word):
    path = tmp_path / f"{base}.toml"
    path.write_text(_sub(bundled_text(base), old, new), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert f" {field} " in msg, msg
    assert word in msg, msg
    assert info.value.exit_code != 0


def test_missing_derivation_and_missing_table(tmp_path):
    text = bundled_text("dev-vm-2core-x86")
    head, _, tail = text.partition("[targets.peak_rss_mb]")
    path = tmp_path / "dev-vm-2core-x86.toml"
    path.write_text(head + "[targets.peak_rss_mb]\nvalue = 300\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"targets\.peak_rss_mb\.derivation is missing"):
        load_profile(path)
    path.write_text(text.split("[runtime]")[0], encoding="utf-8")
    with pytest.raises(ProfileError, match=r" runtime is missing"):
        load_profile(path)


def test_value_where_a_table_belongs():
    data = tomllib.loads(bundled_text("dev-vm-2core-x86"))
    data["targets"]["rtf"] = 0.1
    with pytest.raises(ProfileError, match=r"targets\.rtf must be a table"):
        parse_profile(data)


def test_typo_is_reported_as_unknown_key_with_a_suggestion(tmp_path):
    path = tmp_path / "dev-vm-2core-x86.toml"
    path.write_text(_sub(bundled_text("dev-vm-2core-x86"), "flow_steps = 7 ", "flow_step = 7 "), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"runtime\.flow_step is not a known field; did you mean 'flow_steps'"):
        load_profile(path)


def test_invalid_toml_unknown_name_missing_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("name = [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="available: .*raspberry-pi-5"):
        load_profile("raspberry-pi-9")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "nope.toml")


def test_parse_profile_rejects_non_table_top_level_sections():
    data = tomllib.loads(bundled_text("x86-laptop"))
    data["hardware"] = "fast"
    with pytest.raises(ProfileError, match=r"hardware must be a table"):
        parse_profile(data)


def test_components_cover_the_three_graphs():
    assert COMPONENTS == ("backbone", "acoustic", "codec")


# --------------------------------------------------------------------------- host detection, packaging


@pytest.mark.parametrize("machine, system, board, cpus, expected", [
    ("x86_64", "Linux", "", 2, "dev-vm-2core-x86"),
    ("x86_64", "Linux", "", 16, "x86-laptop"),
    ("AMD64", "Windows", "", 8, "x86-laptop"),
    ("arm64", "Darwin", "", 10, "apple-silicon-laptop"),
    ("aarch64", "Linux", "Raspberry Pi 5 Model B Rev 1.0\x00", 4, "raspberry-pi-5"),
    ("aarch64", "Linux", "Raspberry Pi 4 Model B Rev 1.4\x00", 4, "raspberry-pi-4"),
    ("aarch64", "Linux", "NVIDIA Jetson AGX Orin Developer Kit\x00", 12, "jetson-agx-orin"),
    ("aarch64", "Linux", "NVIDIA Jetson Orin Nano Developer Kit\x00", 6, "jetson-orin-nano"),
    ("aarch64", "Linux", "Some Arm board\x00", 8, None),
    ("riscv64", "Linux", "", 4, None),
])
def test_guess_profile(machine, system, board, cpus, expected):
    name = _guess_profile(machine, system, board, cpus)
    assert name == expected
    assert name is None or name in list_profiles()


def test_host_profile_is_bundled_or_none():
    name = host_profile_name()
    p = host_profile()
    assert (p is None) == (name is None)
    if p is not None:
        assert p.name == name


def test_toml_files_are_declared_package_data():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    tool = pyproject["tool"]["setuptools"]
    assert tool["package-dir"]["vox_edge.device_profiles"] == "device_profiles"
    assert "*.toml" in tool["package-data"]["vox_edge.device_profiles"]


# --------------------------------------------------------------------------- kernels per CPU class

KERNEL_PROFILES = ("raspberry-pi-5", "jetson-agx-orin", "jetson-orin-nano", "x86-laptop", "dev-vm-2core-x86",
                   "dev-vm-2core-x86-voxtral-4b")


@pytest.mark.parametrize("name", KERNEL_PROFILES)
def test_non_vnni_profiles_say_which_kernels_and_why(name):
    from vox_edge.device_profiles import choose

    p = load_profile(name)
    assert p.model.kernels and p.model.kernels[-1].isa == ()  # a choice for any CPU of the architecture
    for k in p.model.kernels:
        assert len(k.why) >= 80 and set(k.isa) <= set(p.hardware.isa) | {"avx512_vnni"}
    mine = choose(p.model, p.hardware.isa)
    assert {c: s.split("-")[0] for c, s in mine.specs().items()} == vars(p.model.precision)


def test_dev_vm_4b_picks_avx2_kernels_unless_the_host_has_vnni():
    from vox_edge.device_profiles import choose

    p = load_profile("dev-vm-2core-x86-voxtral-4b")
    assert p.hardware.isa == ("avx2",)  # the class baseline: the AVX2 EPYC host
    avx2 = choose(p.model, ("avx2",))
    vnni = choose(p.model, ("avx2", "avx512f", "avx512_vnni", "avx512_bf16"))
    assert avx2.backbone == "int4-b32-acc4-gqa-shared" and avx2.acoustic == "int8"
    assert avx2.codec == vnni.codec == "int8-convfp16-snr30"  # behind the codec-SNR guard on both classes
    assert vnni.backbone == "int4-b128-acc4-gqa-shared" and "VNNI" in vnni.why and "No VNNI" in avx2.why


def test_profile_without_kernels_derives_them_from_its_precisions():
    from vox_edge.device_profiles import choose

    p = load_profile("qualcomm-sa8295p-voxtral-4b")
    assert p.model.kernels == ()
    c = choose(p.model, p.hardware.isa)
    assert c.backbone == f"int4-b{p.model.int4_block_size}" and c.acoustic == p.model.precision.acoustic
    assert "derived" in c.why


def test_host_isa_maps_cpuinfo_flags_to_profile_names():
    from vox_edge.device_profiles import host_isa

    flags = {"fpu", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_int8", "asimddp"}
    assert host_isa("x86_64", flags) == ("avx2", "avx512f", "avx512_vnni", "amx")
    assert host_isa("aarch64", {"fp", "asimd", "asimddp", "asimdhp", "i8mm"}) == ("neon", "neon_dotprod", "neon_fp16",
                                                                                  "i8mm")
    assert host_isa("aarch64", {"fp"}) == ("neon",) and host_isa("x86_64", set()) == ()
    assert set(host_isa("x86_64")) <= {"avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx"}


_KERNEL = '''
[[model.kernels]]
{isa}backbone = "{bb}"
acoustic = "int8"
codec = "fp32"
why = "{why}"
'''
_WHY = "a sentence that says which kernels run and why"
BAD_KERNELS = [
    (_KERNEL.format(isa='isa = ["neon_dotprod"]\n', bb="int8", why=_WHY), "model.kernels[0].isa", "last entry"),
    (_KERNEL.format(isa='isa = ["avx512_vnni"]\n', bb="int8", why=_WHY), "model.kernels[0].isa[0]", "neon_dotprod"),
    (_KERNEL.format(isa="", bb="int3", why=_WHY), "model.kernels[0].backbone", "precision must be"),
    (_KERNEL.format(isa="", bb="int8 gqa", why=_WHY), "model.kernels[0].backbone", "PRECISION[-OPTION"),
    (_KERNEL.format(isa="", bb="int4-b32", why=_WHY), "model.kernels[0].backbone", "model.precision.backbone"),
    (_KERNEL.format(isa="", bb="int8", why="because"), "model.kernels[0].why", "a sentence"),
    (_KERNEL.format(isa="", bb="int8", why=_WHY).replace("why =", "reason ="), "model.kernels[0].reason",
     "not a known field"),
]


@pytest.mark.parametrize("table, field, word", BAD_KERNELS, ids=[f"{b[1]}:{b[2]}" for b in BAD_KERNELS])
def test_malformed_kernels_name_the_field(table, field, word):
    text = bundled_text("raspberry-pi-4")
    start = text.index("[[model.kernels]]")
    end = text.index("[runtime]")
    data = tomllib.loads(text[:start] + table.lstrip("\n") + "\n" + text[end:])
    with pytest.raises(ProfileError) as e:
        parse_profile(data, source="t.toml")
    assert field in str(e.value) and word in str(e.value), str(e.value)
