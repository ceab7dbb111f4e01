"""training/teacher/generate.py: manifest bookkeeping (the Kokoro teacher itself runs only in its own venv)."""

from __future__ import annotations

import json

from training.teacher import generate as teacher


def test_drop_rows_removes_only_the_given_ids_of_that_voice(tmp_path):
    manifest = str(tmp_path / "manifest.jsonl")
    for rid, voice in [("a", "v1"), ("b", "v1"), ("b", "v2"), ("c", "v1")]:
        teacher.append_manifest(manifest, {"id": rid, "voice": voice, "norm": rid.upper()})
    with open(manifest, "a", encoding="utf-8") as f:
        f.write('{"id": "torn"')  # a torn last line after a crash is dropped, not fatal
    teacher.drop_rows(manifest, {"b"}, "v1")
    rows = [json.loads(line) for line in open(manifest, encoding="utf-8")]
    assert [(r["id"], r["voice"]) for r in rows] == [("a", "v1"), ("b", "v2"), ("c", "v1")]
    assert teacher.done_keys(manifest) == {("a", "v1"): "A", ("b", "v2"): "B", ("c", "v1"): "C"}
