"""Build the gallery's figures: run each example at small size (``--quick``) and keep its figure.

Usage: ``python tools/build_gallery.py [NAME ...] [--force]``.  Figures go to the gallery
cache (``PYSCIML_GALLERY_DIR``, default ``~/.cache/pysciml/gallery``) named by the example
and a hash of its source, so an unchanged example is not run again; ``mkdocs build`` puts
them on the gallery pages (its hook calls :func:`build` for figures that are missing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "site"))
from hooks import example_key, gallery_dir  # noqa: E402

#: arguments that send an example's outputs into a folder (sst_damping writes one file)
OUT_ARGS = {"sst_damping": lambda out: ["--out", str(out / "fit.nc")]}


def build(name: str, *, force: bool = False, timeout: float = 600) -> Path | None:
    """Run ``examples/NAME.py --quick`` and cache its first PNG; returns the cached figure (None: no figure)."""
    script = ROOT / "examples" / f"{name}.py"
    target = gallery_dir() / f"{example_key(script)}.png"
    if target.exists() and not force:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        args = OUT_ARGS.get(name, lambda o: ["--out", str(o)])(out)
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script), "--quick", *args], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"examples/{name}.py --quick failed:\n{proc.stderr[-2000:]}")
        figures = sorted(out.rglob("*.png"))
        print(f"gallery: {name} ran in {time.perf_counter() - t0:.0f} s, {len(figures)} figure(s)", flush=True)
        if not figures:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(f"{name}-*.png"):  # earlier versions of this example
            old.unlink()
        shutil.copyfile(figures[0], target)
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="examples to build (default: all)")
    ap.add_argument("--force", action="store_true", help="run even when a cached figure exists")
    args = ap.parse_args(argv)
    names = args.names or sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    for name in names:
        print(build(name, force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
