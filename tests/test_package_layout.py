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


# The folders as nodes of an import graph. src/vox_edge's __init__.py and cli.py are the entry points that may
# reach every folder; its other modules (config, errors, manifest) are the core every folder may use.
_ENTRY = {"vox_edge", "vox_edge.cli", "vox_edge.__main__"}
_FOLDERS = ("runtime", "export", "quantize", "benchmarks", "device_profiles", "training")


def _node(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "vox_edge":
        return None
    if module in _ENTRY:
        return "entry"
    return parts[1] if parts[1] in _FOLDERS else "core"


def _module_name(py: Path) -> str:
    rel = py.relative_to(ROOT).with_suffix("").parts
    parts = ["vox_edge", *(rel[2:] if rel[0] == "src" else rel)]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(py: Path) -> set[str]:
    """Every vox_edge module `py` imports, at the top or inside a function, relative imports resolved."""
    import ast

    name = _module_name(py)
    package = name if py.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for n in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            out.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - n.level + 1] if n.level else []
            mod = ".".join(base + ([n.module] if n.module else []))
            out.update(f"{mod}.{a.name}" if _node(f"{mod}.{a.name}") == "core" and mod == "vox_edge" else mod
                       for a in n.names)
    return out


def test_no_import_cycle_between_folders():
    """Layers import one way (e.g. export -> quantize -> runtime -> core): a cycle means two folders share a job."""
    edges: dict[str, dict[str, str]] = {}
    for folder in ("src", *_FOLDERS):
        for py in (ROOT / folder).rglob("*.py"):
            a = _node(_module_name(py))
            for mod in _imports(py):
                b = _node(mod)
                if b and b != a and a != "entry":
                    edges.setdefault(a, {}).setdefault(b, str(py.relative_to(ROOT)))

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for nxt in edges.get(path[-1], {}):
            if nxt == start:
                return path + [start]
            if nxt not in path:
                found = cycle_from(start, path + [nxt])
                if found:
                    return found
        return None

    for start in edges:
        cycle = cycle_from(start, [start])
        assert cycle is None, " -> ".join(f"{a} ({edges[a][b]})" for a, b in zip(cycle, cycle[1:]))
    assert "export" not in edges.get("quantize", {})  # the quantisers never call back into the exporter
