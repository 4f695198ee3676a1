"""The ``pysciml`` command line: ``pysciml demo``, ``pysciml info``, ``pysciml cache ...``."""

from __future__ import annotations

import argparse
import sys

from .errors import InputError, PySciMLError

__all__ = ["main"]


def _cmd_demo(args) -> int:
    import os
    from pathlib import Path

    from .demos.catalog import DEFAULT, DEMOS, find_demo, run_demo

    if args.list:
        width = max(map(len, DEMOS))
        for name, demo in DEMOS.items():
            mark = " (default)" if name == DEFAULT else ""
            needs = f"; uses {', '.join(demo.needs)}" if demo.needs else ""
            print(f"{name:<{width}}  {demo.shows} [about {demo.minutes:g} min{needs}]{mark}")
        return 0
    find_demo(args.name)  # an unknown name fails before anything is written
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError(
            f"{args.out} is a file; give a directory for the demo's results (it is created).", argument="--out"
        )
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files; no window
    run_demo(args.name, out_dir=args.out, engine=args.engine, quick=args.quick)
    return 0


def _cmd_info(args) -> int:
    from .info import info

    info(start_engines=args.start)
    return 0


def _cmd_julia_sysimage(args) -> int:
    from .engines.julia.sysimage import build_sysimage

    path = build_sysimage(args.path)
    print(f"pysciml: built the Julia system image {path}; juliacall will use it from now on.")
    return 0


def _cmd_cache_info(args) -> int:
    import json

    from .cache.admin import entries, info

    report = info()
    if args.json:
        report["entries_list"] = entries()
        print(json.dumps(report, indent=2, default=str))
        return 0
    state = "on" if report["enabled"] else "off (PYSCIML_CACHE=0)"
    print(f"pysciml compiled-model cache: {state}")
    print(f"  directory: {report['directory']}")
    print(f"  compiled functions: {report['entries']} ({report['bytes'] / 1e6:.1f} MB)")
    print(f"  XLA executables:    {report['xla_files']} ({report['xla_bytes'] / 1e6:.1f} MB)")
    print(f"  size bound: {report['max_bytes'] / 1e6:.0f} MB (PYSCIML_CACHE_SIZE); least recently used go first")
    if args.list:
        import datetime as dt

        for e in entries():
            when = dt.datetime.fromtimestamp(e["last_used"]).strftime("%Y-%m-%d %H:%M")
            print(f"  {e['key'][:16]}  {e['kind']:<10} {e['label'][:24]:<24} {e['bytes'] / 1e3:8.1f} kB  used {when}")
    return 0


def _cmd_cache_clear(args) -> int:
    from .cache.admin import clear, directory

    n = clear()
    print(f"pysciml: removed {n} cached files from {directory()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pysciml", description="Scientific machine learning from Python.")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="run a demo (default: the tour) and write NetCDF + PNG results")
    demo.add_argument("name", nargs="?", default="tour", help="which demo (pysciml demo --list); default: tour")
    demo.add_argument("--list", action="store_true", help="list the demos and what each shows")
    demo.add_argument("--out", default="pysciml_demo", help="output directory (default: ./pysciml_demo)")
    demo.add_argument("--engine", default=None, choices=["jax", "julia"], help="engine to run on (default: jax)")
    demo.add_argument("--quick", action="store_true", help="shorter training (for tests)")
    demo.set_defaults(func=_cmd_demo)

    inf = sub.add_parser("info", help="engines, versions, paths")
    inf.add_argument("--start", action="store_true", help="start each available engine for a full report")
    inf.set_defaults(func=_cmd_info)

    jl = sub.add_parser("julia", help="Julia engine tools")
    jsub = jl.add_subparsers(dest="julia_command")
    img = jsub.add_parser("sysimage", help="build a custom Julia system image (PackageCompiler) for fast start-up")
    img.add_argument("path", nargs="?", default=None, help="where to write it (default: pysciml's cache)")
    img.set_defaults(func=_cmd_julia_sysimage)

    cache = sub.add_parser("cache", help="the compiled-model cache (start-up speed)")
    cache.set_defaults(func=lambda _args: cache.print_help() or 2)
    csub = cache.add_subparsers(dest="cache_command")
    cinfo = csub.add_parser("info", help="where the cache is, its size, and its entries")
    cinfo.add_argument("--list", action="store_true", help="list every entry")
    cinfo.add_argument("--json", action="store_true", help="machine-readable output")
    cinfo.set_defaults(func=_cmd_cache_info)
    cclear = csub.add_parser("clear", help="remove every cached compiled function and executable")
    cclear.set_defaults(func=_cmd_cache_clear)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pysciml`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2

    try:
        return int(args.func(args) or 0)
    except PySciMLError as exc:
        print(f"pysciml: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pysciml: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
