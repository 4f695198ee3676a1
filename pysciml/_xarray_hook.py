"""Make ``obj.sciml`` available as soon as xarray is imported, without importing it ourselves.

``import pysciml`` must stay cheap and must not import xarray.  It installs a
:class:`sys.meta_path` finder that waits for ``import xarray``: when xarray's
module has finished executing, the ``.sciml`` accessor is registered
(:func:`pysciml.cells.accessor.register`) and the finder removes itself.  If
xarray is already imported, the accessor is registered at once.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import warnings

__all__ = ["install"]

_lock = threading.Lock()


def _register():
    try:
        from .cells.accessor import register

        register()
    except Exception as exc:  # never break `import xarray` because of us
        warnings.warn(f"pysciml could not register the xarray .sciml accessor: {exc!r}", RuntimeWarning, stacklevel=2)


class _Loader(importlib.abc.Loader):
    """Wraps xarray's own loader; registers the accessor after xarray's module has run."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _uninstall()
        _register()

    def __getattr__(self, name):  # get_resource_reader, is_package, ... as the wrapped loader
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; for ``xarray`` it asks the other finders and wraps the loader."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "xarray":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


_finder = _Finder()


def _uninstall():
    with _lock:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass


def install() -> None:
    """Register now if xarray is loaded, else register right after it is imported."""
    if "xarray" in sys.modules:
        _register()
        return
    with _lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
