"""The compiled-model cache's store (engine-free): entry format, verification, LRU, concurrency, CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pysciml.cache import store
from pysciml.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "ab" * 24


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PYSCIML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PYSCIML_CACHE", raising=False)
    monkeypatch.delenv("PYSCIML_CACHE_SIZE", raising=False)
    return tmp_path / "cache"


def _counter(name):
    return store.stats[name]


def test_round_trip(cache_dir):
    payload = os.urandom(1000)
    assert store.write(KEY, payload, kind="solve", label="rober", meta={"out_tree": "*"})
    header, got = store.read(KEY)
    assert got == payload
    assert header["key"] == KEY and header["kind"] == "solve" and header["meta"] == {"out_tree": "*"}
    assert (cache_dir / "export" / f"{KEY}.pxc").is_file()


def test_missing_entry_is_a_miss(cache_dir):
    assert store.read(KEY) is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "magic", "format", "garbage", "empty"])
def test_corrupt_entry_is_rejected_and_removed(cache_dir, damage):
    payload = b"x" * 500
    store.write(KEY, payload, kind="solve")
    path = cache_dir / "export" / f"{KEY}.pxc"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-10]
    elif damage == "flip":
        data[-5] ^= 0xFF
    elif damage == "magic":
        data[:4] = b"JUNK"
    elif damage == "format":
        data = data.replace(b'"format": 1', b'"format": 9')
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    before = _counter("rejected")
    assert store.read(KEY) is None
    assert _counter("rejected") == before + 1
    assert not path.exists()  # removed, so the next run rebuilds it


def test_foreign_entry_is_rejected(cache_dir):
    """A valid entry stored under another key's name (copied, renamed) is never used."""
    other = "cd" * 24
    store.write(other, b"payload of another function", kind="solve")
    src = cache_dir / "export" / f"{other}.pxc"
    (cache_dir / "export" / f"{KEY}.pxc").write_bytes(src.read_bytes())
    before = _counter("rejected")
    assert store.read(KEY) is None
    assert _counter("rejected") == before + 1
    assert store.read(other) is not None


def test_decode_checks_every_field():
    good = store.encode(KEY, b"abc", kind="k")
    assert store.decode(good, KEY)[1] == b"abc"
    with pytest.raises(ValueError, match="foreign"):
        store.decode(good, "ef" * 24)
    with pytest.raises(ValueError, match="checksum"):
        store.decode(good[:-3] + b"abd", KEY)
    with pytest.raises(ValueError, match="truncated"):
        store.decode(good[:-1], KEY)


def test_bad_keys_never_touch_the_filesystem(cache_dir):
    for bad in ("../etc/passwd", "x", "ABCDEF" * 8, ""):
        with pytest.raises(ValueError):
            store.write(bad, b"", kind="k")


def test_lru_eviction_keeps_recently_used(cache_dir, monkeypatch):
    keys = [f"{i:02x}" * 24 for i in range(6)]
    for i, k in enumerate(keys):
        store.write(k, b"p" * 10_000, kind="solve")
        os.utime(cache_dir / "export" / f"{k}.pxc", (1000.0 + i, 1000.0 + i))  # distinct ages
    assert store.read(keys[0]) is not None  # a hit refreshes the oldest entry ...
    store.touch(keys[0])
    monkeypatch.setenv("PYSCIML_CACHE_SIZE", "35000")  # room for three entries
    store.write("ff" * 24, b"p" * 10_000, kind="solve")
    left = {p.stem for p in (cache_dir / "export").glob("*.pxc")}
    assert keys[0] in left and "ff" * 24 in left  # ... so it survives; the oldest others go
    assert keys[1] not in left and keys[2] not in left
    total = sum(p.stat().st_size for p in (cache_dir / "export").glob("*.pxc"))
    assert total <= 35000


def test_eviction_counts_jax_compilation_cache(cache_dir):
    xla = cache_dir / "xla"
    xla.mkdir(parents=True)
    (xla / "jit_f-old-cache").write_bytes(b"x" * 20_000)
    os.utime(xla / "jit_f-old-cache", (1000.0, 1000.0))
    store.write(KEY, b"p" * 10_000, kind="solve")
    removed = store.evict(limit=25_000)
    assert removed == 1 and not (xla / "jit_f-old-cache").exists()
    assert store.read(KEY) is not None


def test_stale_partial_files_are_cleaned(cache_dir):
    export = cache_dir / "export"
    export.mkdir(parents=True)
    old = export / f".{KEY}.pxc.abc.partial"
    old.write_bytes(b"half")
    os.utime(old, (1000.0, 1000.0))
    fresh = export / f".{KEY}.pxc.def.partial"
    fresh.write_bytes(b"half")  # a writer still at work: left alone
    store.usage()
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize("text,expected", [("500MB", 500_000_000), ("2GiB", 2 * 1024**3), ("1234", 1234),
                                           ("1.5 kB", 1500)])
def test_size_bound_parsing(cache_dir, monkeypatch, text, expected):
    monkeypatch.setenv("PYSCIML_CACHE_SIZE", text)
    assert store.max_bytes() == expected


def test_bad_size_bound_names_the_variable(cache_dir, monkeypatch):
    monkeypatch.setenv("PYSCIML_CACHE_SIZE", "lots")
    with pytest.raises(InputError, match="PYSCIML_CACHE_SIZE"):
        store.max_bytes()


def test_info_entries_clear(cache_dir):
    import pysciml.cache as cache

    store.write(KEY, b"p" * 100, kind="solve", label="rober")
    (cache_dir / "xla").mkdir()
    (cache_dir / "xla" / "jit_x-cache").write_bytes(b"e" * 50)
    info = cache.info()
    assert info["directory"] == str(cache_dir) and info["enabled"]
    assert info["entries"] == 1 and info["xla_files"] == 1 and info["xla_bytes"] == 50
    (entry,) = cache.entries()
    assert entry["key"] == KEY and entry["kind"] == "solve" and entry["label"] == "rober" and entry["valid_header"]
    assert cache.clear() == 2
    assert cache.info()["entries"] == 0 and cache.entries() == []


def test_cache_switch(monkeypatch):
    import pysciml.cache as cache

    monkeypatch.setenv("PYSCIML_CACHE", "0")
    assert not cache.enabled() and not cache.info()["enabled"]
    monkeypatch.setenv("PYSCIML_CACHE", "1")
    assert cache.enabled()


def test_cli_info_and_clear(cache_dir):
    store.write(KEY, b"p" * 100, kind="solve", label="rober")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = lambda *a: subprocess.run([sys.executable, "-m", "pysciml", "cache", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, timeout=120)
    out = run("info", "--list")
    assert out.returncode == 0, out.stderr
    assert str(cache_dir) in out.stdout and "compiled functions: 1" in out.stdout and "rober" in out.stdout
    out = run("clear")
    assert out.returncode == 0 and "removed 1" in out.stdout
    assert not list((cache_dir / "export").glob("*.pxc"))
    out = run("info", "--json")
    assert out.returncode == 0 and '"entries": 0' in out.stdout
    # the cache commands never start an engine
    code = "import sys, pysciml.cli as c; c.main(['cache', 'info']); print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip().endswith("False"), out.stdout + out.stderr


_WRITER = """
import sys, time
from pysciml.cache import store
key, tag, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
for i in range(n):
    store.write(key, tag * 50_000 + str(i).encode(), kind="solve")
    got = store.read(key)
    assert got is not None, "a reader saw a half-written entry"
    assert got[1][:1] in (b"A", b"B")
print(store.stats["rejected"])
"""


def test_concurrent_writers_never_corrupt(cache_dir):
    """Two processes writing and reading the same entry: every read is a complete entry."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, KEY, tag, "40"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for tag in ("A", "B")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip() == "0"  # no entry was ever rejected as corrupt
    header, payload = store.read(KEY)
    assert payload[:1] in (b"A", b"B") and len(payload) >= 50_000
    assert not list((cache_dir / "export").glob("*.partial"))
