"""Remembers which bundle files passed full (sha256) verification, so that loading an unchanged bundle again costs
one `stat` per file instead of reading gigabytes.

An entry is (real path, sha256 the manifest expects) -> (size, mtime_ns, ctime_ns, inode, device) of the file when
it was hashed. Any write to the file changes its ctime (which, unlike mtime, cannot be set back), so a changed file
misses the cache and is hashed again. Files changed in the last RACY_SECONDS are not remembered: a write within
the same timestamp tick as the hash could otherwise go unnoticed (git's "racy clean" rule).

Where: $VOX_EDGE_CACHE_DIR, else $XDG_CACHE_HOME/vox-edge, else ~/.cache/vox-edge (`verified-files.json`, owner
only). When that is not writable (a read-only head-unit image) the record lives in this process only: every
process then hashes once, and later loads in the same process are fast. The record is no stronger than the
manifest itself (neither is signed): whoever can rewrite the bundle's files can rewrite its manifest.
Standard library only.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

CACHE_ENV = "VOX_EDGE_CACHE_DIR"
CACHE_FILE = "verified-files.json"
VERSION = 1
RACY_SECONDS = 2.0
MAX_ENTRIES = 4096  # oldest entries are dropped beyond this

_MEMORY: dict[str, list[Any]] = {}  # this process's record (always kept; the only one when no file is writable)


def cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "vox-edge"


def file_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class VerifiedFiles:
    """with VerifiedFiles() as vf: vf.known(path, st, sha) ... vf.remember(path, st, sha); saved on exit."""

    def __init__(self, directory: Path | None = None):
        self.path = (directory or cache_dir()) / CACHE_FILE
        self.entries: dict[str, list[Any]] = dict(_MEMORY)
        self.entries.update(self._read())
        self.dirty = False

    def _read(self) -> dict[str, list[Any]]:
        try:
            if hasattr(os, "getuid") and self.path.stat().st_uid != os.getuid():
                return {}  # someone else's record is not evidence
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("files"), dict):
            return {}
        return {k: v for k, v in data["files"].items() if isinstance(v, list)}

    @staticmethod
    def _name(path: Path, sha256: str) -> str:
        return f"{os.path.realpath(path)}\n{sha256}"

    def known(self, path: Path, st: os.stat_result, sha256: str) -> bool:
        """True when this file, unchanged since, was hashed to `sha256` before."""
        return self.entries.get(self._name(path, sha256)) == file_key(st)

    def remember(self, path: Path, st: os.stat_result, sha256: str) -> None:
        if time.time() - max(st.st_mtime, st.st_ctime) < RACY_SECONDS:
            return
        name = self._name(path, sha256)
        self.entries.pop(name, None)  # re-insert: dict order is age order
        self.entries[name] = file_key(st)
        _MEMORY[name] = file_key(st)
        self.dirty = True

    def save(self) -> None:
        """Write the record atomically (temp file + rename); silently stay in memory when that is not possible."""
        if not self.dirty:
            return
        files = dict(list(self.entries.items())[-MAX_ENTRIES:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".verified-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"version": VERSION, "files": files}, f)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return
        self.dirty = False

    def __enter__(self) -> "VerifiedFiles":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.save()
