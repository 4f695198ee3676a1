"""Run SBML Test Suite cases through ``ps.bio.from_sbml`` + ``ps.solve`` and check them.

``python tools/sbml_suite.py [--workers 2] [--write-doc] [case ...]`` runs the cases of
``../shared/data/sbml-test-suite`` (all of ``cases.json`` by default), prints a summary
and, with ``--write-doc``, writes the failure table into ``docs/sbml.md``.

A case passes when every listed variable at every listed time matches the expected value:
``|sim - expected| <= absolute + relative * |expected|`` (the suite's rule).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(os.environ.get("PYSCIML_SBML_SUITE", ROOT.parent / "shared" / "data" / "sbml-test-suite"))
if not SUITE.is_dir():
    SUITE = Path("/work/shared/data/sbml-test-suite")
DOC = ROOT / "docs" / "sbml.md"
BEGIN, END = "<!-- sbml-suite-table: begin -->", "<!-- sbml-suite-table: end -->"
#: solver tolerances used for every case (Tsit5, then Rodas5P if Tsit5 fails) (the suite's own tolerances are much looser)
RTOL, ATOL = 1e-10, 1e-12
#: events a solve may apply where more than ps.solve's default were due (case 00953 applies 10,000)
MORE_EVENTS = 20_000


def cases() -> dict[str, list[str]]:
    return json.loads((SUITE / "cases.json").read_text())


def _settings(folder: Path, case: str) -> dict:
    out = {}
    for line in (folder / f"{case}-settings.txt").read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def run_case(case: str) -> tuple[str, bool, str]:
    """``(case, passed, reason)``; reason is empty on a pass."""
    import numpy as np

    import pysciml as ps
    from pysciml.events import DEFAULT_MAX_EVENTS

    folder = SUITE / case
    model_file = folder / f"{case}-sbml-l3v2.xml"
    if not model_file.exists():
        model_file = folder / f"{case}-sbml-l3v1.xml"
    s = _settings(folder, case)
    start, duration, steps = float(s["start"]), float(s["duration"]), int(s["steps"])
    variables = _names(s["variables"])
    amounts = _names(s.get("amount", ""))
    absolute, relative = float(s["absolute"]), float(s["relative"])
    with open(folder / f"{case}-results.csv") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    expected = np.array([[float(x) for x in r] for r in rows[1:] if r], float)
    try:
        model = ps.bio.from_sbml(model_file)
    except ps.bio.UnsupportedSBML as exc:
        return case, False, f"unsupported: {exc}"
    except Exception as exc:  # noqa: BLE001 - every failure is reported as a reason
        return case, False, f"import: {type(exc).__name__}: {exc}"
    t = np.linspace(start, start + duration, steps + 1)
    try:
        for max_events in (DEFAULT_MAX_EVENTS, MORE_EVENTS):
            # Tsit5 compiles faster; Rodas5P where Tsit5 does not get through (stiff cases)
            for solver in (ps.Tsit5(), ps.Rodas5P()):
                sol = ps.solve(
                    model,
                    t=(0.0, t[-1]),
                    saveat=t,
                    solver=solver,
                    rtol=RTOL,
                    atol=ATOL,
                    max_steps=20_000,
                    max_events=max_events,
                )
                if sol.ok or sol.events is not None and sol.events.dropped:
                    break
            if not (sol.events is not None and sol.events.dropped):
                break
    except Exception as exc:  # noqa: BLE001
        return case, False, f"solve: {type(exc).__name__}: {exc}"
    if not sol.ok:
        return case, False, f"solve: {sol.message}"
    try:
        got = model.sbml.values(sol, variables, amounts=amounts)
    except Exception as exc:  # noqa: BLE001
        return case, False, f"output: {type(exc).__name__}: {exc}"
    worst, where = 0.0, ""
    for name in variables:
        want = expected[:, header.index(name, 1)]  # column 0 is the time, whatever its header says
        have = got[name]
        err = np.abs(have - want) - (absolute + relative * np.abs(want))
        bad = ~((err <= 0) | (np.isnan(want) & np.isnan(have)) | (np.isinf(want) & (have == want)))
        if bad.any():
            i = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -np.inf)))
            excess = float(np.nan_to_num(err[i], nan=np.inf))
            if excess > worst or not where:
                worst, where = excess, f"{name} at t={t[i]:g}: {have[i]:.6g} vs expected {want[i]:.6g}"
    if where:
        return case, False, f"mismatch: {where}"
    return case, True, ""


def run(case_ids, workers: int = 1, *, verbose: bool = False) -> list[tuple[str, bool, str]]:
    """Run the cases (in ``workers`` processes); results in the order of ``case_ids``."""
    out = []

    def collect(results):
        for res in results:
            out.append(res)
            if verbose and not res[1]:
                print(res[0], res[2][:300], flush=True)

    if workers <= 1:
        collect(map(run_case, case_ids))
    else:
        with ProcessPoolExecutor(workers) as pool:
            collect(pool.map(run_case, case_ids, chunksize=2))
    return out


def table(results: dict[str, list[tuple[str, bool, str]]]) -> str:
    lines = []
    for group, res in results.items():
        n_pass = sum(ok for _, ok, _ in res)
        lines.append(f"* `{group}`: {n_pass} / {len(res)} pass")
    lines += ["", "| case | group | reason |", "|---|---|---|"]
    for group, res in results.items():
        for case, ok, reason in res:
            if not ok:
                reason = reason.replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {case} | {group} | {reason[:200]} |")
    return "\n".join(lines)


def write_doc(results) -> None:
    text = DOC.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + BEGIN + "\n" + table(results) + "\n" + END + tail)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or '').splitlines()[0])
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--group", choices=["core", "events"], default=None)
    ap.add_argument("--write-doc", action="store_true")
    args = ap.parse_args(argv)
    groups = cases()
    if args.cases:
        groups = {"selected": args.cases}
    elif args.group:
        groups = {args.group: groups[args.group]}
    results = {}
    for group, ids in groups.items():
        results[group] = run(ids, args.workers, verbose=True)
        print(f"{group}: {sum(ok for _, ok, _ in results[group])} / {len(ids)} pass", flush=True)
    if args.write_doc:
        write_doc(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
