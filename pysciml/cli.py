"""The ``pysciml`` command line: ``pysciml demo``, ``pysciml info``, ``pysciml cache ...``."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(out_dir=args.out, engine=args.engine, quick=args.quick)
    return 0


def _cmd_info(args) -> int:
    from .info import info

    info(start_engines=args.start)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pysciml", description="Scientific machine learning from Python.")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="run the flagship demo and write NetCDF + PNG results")
    demo.add_argument("--out", default="pysciml_demo", help="output directory (default: ./pysciml_demo)")
    demo.add_argument("--engine", default=None, help="engine to run on (default: jax)")
    demo.add_argument("--quick", action="store_true", help="shorter training (for tests)")
    demo.set_defaults(func=_cmd_demo)

    inf = sub.add_parser("info", help="engines, versions, paths")
    inf.add_argument("--start", action="store_true", help="start each available engine for a full report")
    inf.set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pysciml`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .errors import PySciMLError

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
