"""Untrusted files: loading never runs code (no pickle, no imports) and refuses unknown versions."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import FileFormatError, InputError

ROOT = Path(__file__).resolve().parent.parent


def _decay(u, p, t, m):
    return -p.k * u


class _Payload:
    """Unpickling this object writes a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _pickled_npz(path: Path, marker: Path, key: str):
    arr = np.empty(1, dtype=object)
    arr[0] = _Payload(marker)
    np.savez(path, **{key: arr})  # numpy pickles object arrays


def test_a_model_file_carrying_a_pickle_is_refused_without_running_it(tmp_path):
    ps.ODEModel(_decay, ["y"], {"k": 0.3}).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc.pop("arrays_sha256")
    (tmp_path / "m.json").write_text(json.dumps(doc))
    marker = tmp_path / "pwned"
    _pickled_npz(tmp_path / "m.npz", marker, "default/k")
    with pytest.raises(FileFormatError, match="pickle") as info:
        ps.load(tmp_path / "m", physics=_decay)
    assert info.value.argument == "path" and not marker.exists()


def test_a_checkpoint_carrying_a_pickle_is_refused_without_running_it(tmp_path):
    from pysciml.fitting.checkpoint import load_checkpoint

    marker = tmp_path / "pwned"
    _pickled_npz(tmp_path / "fit.npz", marker, "carry/0")
    with pytest.raises(FileFormatError) as info:
        load_checkpoint(tmp_path / "fit", "0" * 64)
    assert info.value.argument == "checkpoint" and not marker.exists()


@pytest.mark.parametrize("version", [0, 2, 99, "1", None])
def test_unknown_format_versions_are_refused_naming_the_version(tmp_path, version):
    ps.ODEModel(_decay, ["y"], {"k": 0.3}).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["version"] = version
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError) as info:
        ps.load(tmp_path / "m", physics=_decay)
    assert f"format version {version!r}" in str(info.value) and "reads version 1" in str(info.value)


@pytest.mark.parametrize("version", [2, 99])
def test_unknown_checkpoint_versions_are_refused_naming_the_version(tmp_path, version):
    from pysciml.fitting.checkpoint import load_checkpoint

    meta = {"format": "pysciml-checkpoint", "version": version, "fingerprint": "0" * 64}
    np.savez(tmp_path / "fit.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with pytest.raises(FileFormatError, match=f"checkpoint version {version}"):
        load_checkpoint(tmp_path / "fit", "0" * 64)


def test_the_module_named_in_a_model_file_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "lab_models_xyz.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\ndef physics(u, p, t, m):\n    return u\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # importable, were load to try
    ps.ODEModel(_decay, ["y"], {"k": 0.3}).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["model"]["physics"].update(module="lab_models_xyz", qualname="physics")
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="never carry or import code") as info:
        ps.load(tmp_path / "m")
    assert info.value.argument == "physics"
    assert not marker.exists() and "lab_models_xyz" not in sys.modules
    assert ps.load(tmp_path / "m", physics=_decay).physics is _decay  # the user passes it explicitly


def _call_text(text: str, open_paren: int) -> str:
    """The source of a call from its opening parenthesis to the matching closing one."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren: i + 1]
    raise AssertionError("unbalanced call")


def test_every_numpy_load_in_the_package_refuses_pickles():
    calls = []
    for path in (ROOT / "pysciml").rglob("*.py"):
        text = path.read_text()
        assert "allow_pickle=True" not in text, path
        # pickling to hash is harmless (gridded compile tokens); un-pickling never happens
        assert not re.search(r"pickle\.loads?\(|Unpickler|marshal\.loads?\(|\bdill\b|\bshelve\b", text), path
        for m in re.finditer(r"np\.load\(", text):
            call = _call_text(text, m.end() - 1)
            calls.append(call)
            assert "allow_pickle=False" in call, (path, call)
    assert calls  # the scan found the loaders


def test_the_cli_imports_no_user_files():
    """The CLI has no command that imports a model file (none is needed: scripts import their own)."""
    text = (ROOT / "pysciml" / "cli.py").read_text()
    assert not re.search(r"import_module|spec_from_file_location|runpy|exec\(|__import__", text)
