"""The user's top-level folders are mapped into one `vox_edge` namespace (pyproject package-dir).

setuptools cannot auto-discover packages under a custom package-dir, so every package folder must be
listed by hand; this test catches a forgotten one. It also bans bare imports of the mapped folders
(`import runtime` would load a second, different module object).
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed():
    st = _pyproject()["tool"]["setuptools"]
    listed = set(st["packages"])
    mapping = st["package-dir"]
    found = set()
    for pkg, folder in mapping.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "__pycache__" in rel.parts or any(p.startswith(".") for p in rel.parts):
                continue
            found.add(".".join((pkg, *rel.parts)) if rel.parts else pkg)
    # packages nested in a mapped folder that is itself mapped elsewhere are listed once
    assert found - listed == set(), f"add to [tool.setuptools].packages: {sorted(found - listed)}"


def test_no_bare_imports_of_mapped_folders():
    bare = re.compile(r"^\s*(from|import)\s+(runtime|export|quantize|benchmarks|device_profiles)(\.|\s|$)", re.M)
    offenders = []
    for folder in ("src", "runtime", "export", "quantize", "benchmarks", "device_profiles", "tests", "training"):
        for py in (ROOT / folder).rglob("*.py"):
            if bare.search(py.read_text(encoding="utf-8", errors="replace")):
                offenders.append(str(py.relative_to(ROOT)))
    assert offenders == [], f"import these as vox_edge.<folder>...: {offenders}"


def test_root_package_and_runtime_import_without_torch():
    code = ("import sys, vox_edge, vox_edge.config, vox_edge.manifest, vox_edge.errors, vox_edge.cli, "
            "vox_edge.runtime, vox_edge.runtime.tokenizer; "
            "bad = [m for m in ('torch', 'onnx', 'safetensors', 'mistral_common') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
