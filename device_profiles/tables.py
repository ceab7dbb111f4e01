"""The NPU keys of a device profile's runtime table: the bundle target, provider options, CPU-placed graphs.
Standard library only, like the rest of the profile code."""

from __future__ import annotations

from typing import Any, NoReturn

NPU_TARGETS = ("qnn-htp", "openvino")  # vox_edge.manifest.NPU_TARGETS (this module stays standard-library only)


class FrozenTable(dict):
    """A read-only, hashable dict: a profile's tables of names (provider options, CPU-placed graphs) stay frozen
    like the rest of the profile, and still read and serialise as plain dicts."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a device profile's tables are read-only; use DeviceProfile.with_runtime")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]


def string_tables(r: Any, key: str, keys: tuple[str, ...] | None) -> FrozenTable:
    """An optional table of strings (cpu_graphs: graph -> reason) or of string tables (provider_options: provider ->
    {option: value}; numbers and booleans are written as ORT wants them, as strings)."""
    from . import _hint, _type_name  # the profile reader's wording (imported when the package is loaded)

    table = r.raw(key, {})
    if not isinstance(table, dict):
        r.fail(r.field(key), f"must be a table, got {_type_name(table)}")
    out = {}
    for name, value in table.items():
        where = f"{r.field(key)}.{name}"
        if keys is None:
            if not isinstance(value, str) or not value.strip():
                r.fail(where, "must be a non-empty string (why this graph runs on the CPU)")
            out[name] = value
            continue
        if name not in keys:
            r.fail(where, f"is not a provider; {_hint(name, keys)}allowed: {', '.join(keys)}")
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, float)) for v in value.values()):
            r.fail(where, "must be a table of option = value")
        out[name] = FrozenTable((k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in value.items())
    return FrozenTable(out)
