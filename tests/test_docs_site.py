"""The documentation site builds offline with ``mkdocs build --strict``: every public ``ps.X`` has
an API entry from its docstring, guides, benchmark tables and gallery pages are there, and a
broken reference fails the build (negative control)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason='the docs site needs the docs extra: pip install ".[docs]"')
pytest.importorskip("material", reason='the docs site needs mkdocs-material: pip install ".[docs]"')
pytest.importorskip("mkdocstrings_handlers.python", reason='needs mkdocstrings[python]: pip install ".[docs]"')

ROOT = Path(__file__).resolve().parent.parent
# offline: no network is used (search index and theme assets are local); no banners
# the gallery's figures are skipped here: tests/test_examples.py runs every example already
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYSCIML_GALLERY="skip", PYTHONPATH=str(ROOT))


def _build(config: Path, site: Path, env=ENV):
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT), env=env)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = _build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def test_every_public_name_has_an_api_entry(site):
    import pysciml

    html = "".join(p.read_text() for p in (site / "api").rglob("index.html"))
    anchors = set(re.findall(r'id="(pysciml\.[A-Za-z0-9_.]+)"', html))
    missing = [f"ps.{n}" for n, mod in pysciml._EXPORTS.items() if f"pysciml.{mod}.{n}" not in anchors]
    assert missing == []
    assert "pysciml.cells.accessor.SciMLAccessor.plot_cell" in anchors  # methods too
    assert "pysciml.plotting.backend.save_figure" in anchors
    for name in ("pysciml.sde.solution.SDESolution.plot", "pysciml.plotting.animation.animate",
                 "pysciml.plotting.fields.plot_snapshots", "pysciml.physics.nbody.system.NBody.plot"):
        assert name in anchors, name


def test_guides_benchmarks_and_gallery_are_pages(site):
    for guide in ("data", "gridded", "discovery", "latent", "reliability", "pictures", "architecture"):
        assert (site / guide / "index.html").exists(), guide
    for table in (ROOT / "benchmarks" / "results").glob("*.md"):
        assert (site / "benchmarks" / table.stem / "index.html").exists(), table.name
    for example in (ROOT / "examples").glob("*.py"):
        page = re.sub(r"<[^>]+>", "", (site / "gallery" / example.stem / "index.html").read_text())
        assert f"python examples/{example.name} --quick" in page


def test_a_broken_reference_fails_the_strict_build(tmp_path):
    """Negative control: a page linking to a missing page and naming a missing object fails."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("site"))
    (docs / "broken.md").write_text("# Broken\n\nSee [the page](no-such-page.md).\n\n::: pysciml.no_such_name\n")
    config = (ROOT / "mkdocs.yml").read_text()
    config = config.replace("docs_dir: docs", f"docs_dir: {docs}").replace(
        "  - docs/site/hooks.py", f"  - {ROOT / 'docs' / 'site' / 'hooks.py'}").replace("paths: [.]", f"paths: [{ROOT}]")
    (tmp_path / "mkdocs.yml").write_text(config)
    proc = _build(tmp_path / "mkdocs.yml", tmp_path / "out")
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stderr or "no_such_name" in proc.stderr


def test_gallery_figure_is_built_once_and_shown(tmp_path, monkeypatch):
    """The small SST example runs once; its figure is cached by content hash and lands on its page."""
    pytest.importorskip("eofs", reason="the SST example reads the file the eofs package ships")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PYSCIML_GALLERY_DIR", str(tmp_path))
    sys.path.insert(0, str(ROOT / "tools"))
    sys.path.insert(0, str(ROOT / "docs" / "site"))
    from build_gallery import build
    from hooks import gallery_pages

    figure = build("sst_damping")
    assert figure is not None and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stamp = figure.stat().st_mtime_ns
    assert build("sst_damping") == figure and figure.stat().st_mtime_ns == stamp  # cached, not run again
    monkeypatch.setenv("PYSCIML_GALLERY", "skip")
    pages, figures = gallery_pages()
    assert figures["gallery/sst_damping.png"] == figure
    assert "![sst_damping](sst_damping.png)" in pages["gallery/sst_damping.md"]
    assert "Full size: about" in pages["gallery/sst_damping.md"]
