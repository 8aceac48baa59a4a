"""`python -m benchmarks`: run the workloads on every registered system, then print and save the results."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .machine import limit_threads  # imports nothing heavy: --threads must act before numpy loads

WORKLOAD_NAMES = ("mlp", "convnet", "elementwise")
ENGINE_ALIASES = {"theano": "pytensor"}  # mlcore's backend names -> the engine they run on
RESULTS = Path(__file__).parent / "results"
QUICK_MIN_TIME = 0.02


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and repeats: a smoke run (default --out benchmarks/results/quick)")
    p.add_argument("--check", action="store_true",
                   help="before timing, assert that every system's losses/outputs match the numpy reference")
    p.add_argument("--only", default="",
                   help=f"comma-separated workloads ({', '.join(WORKLOAD_NAMES)}) and/or system names;"
                        " name:device (mlcore-theano:gpu) keeps a system on one device only")
    p.add_argument("--backend", default="",
                   help="comma-separated engines: numpy, theano (= pytensor), jax, torch, numexpr")
    p.add_argument("--device", choices=("cpu", "gpu", "all"), default="all")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="dtype of A and B (C always runs float64 and float32)")
    p.add_argument("--threads", type=int,
                   help="threads for every engine (default: each library's own; the paper used 1)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time per call as wall time, or as this process's CPU time (steadier on a busy machine)")
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    p.add_argument("--min-time", type=float,
                   help=f"seconds of timed calls per measurement (default per workload; {QUICK_MIN_TIME} with --quick)")
    return p


def _split(text: str) -> set[str]:
    return {item.strip().lower() for item in text.split(",") if item.strip()}


def _selection(args, workloads, registered):
    """The workloads to run and a predicate on systems, from --only/--backend/--device."""
    only, engines = _split(args.only), {ENGINE_ALIASES.get(e, e) for e in _split(args.backend)}
    names, known_engines = {s.name for s in registered}, {s.engine for s in registered}
    wanted = {}   # system name -> the devices --only keeps it on
    for item in only - set(workloads):
        name, _, device = item.partition(":")
        if name not in names or device not in ("", "cpu", "gpu"):
            raise SystemExit(f"--only: unknown {item!r}; workloads {sorted(workloads)}, systems {sorted(names)}"
                             f" (name:cpu or name:gpu for one device)")
        wanted.setdefault(name, set()).update([device] if device else ["cpu", "gpu"])
    if engines - known_engines:
        raise SystemExit(f"--backend: unknown {sorted(engines - known_engines)}; engines {sorted(known_engines)}"
                         f" (theano = pytensor)")
    chosen = [w for name, w in workloads.items() if name in only] or list(workloads.values())

    def keep(system) -> bool:
        return ((not wanted or system.device in wanted.get(system.name, ()))
                and (not engines or system.engine in engines)
                and args.device in ("all", system.device))
    return chosen, keep


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    # Imported only now, after the thread settings: these load numpy and the engines.
    from . import convnet, elementwise, harness, mlp, plots, report
    from .machine import configure_engines, machine_info
    from .systems import load_plugins, systems

    notes = configure_engines()
    load_plugins()
    workloads = {w.name: w for w in (mlp.WORKLOAD, convnet.WORKLOAD, elementwise.WORKLOAD)}
    chosen, keep = _selection(args, workloads, systems())
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    min_time = args.min_time or (QUICK_MIN_TIME if args.quick else None)
    options = {"quick": args.quick, "check": args.check, "dtype": args.dtype, "only": args.only,
               "backend": args.backend, "device": args.device, "threads": args.threads,
               "clock": args.clock, "min_time": min_time}
    runs = []
    for workload in chosen:
        print(workload.title, flush=True)
        reference = (workload.reference, "cpu")  # always runs: the check and the speed-ups need it
        selected = [s for s in systems(workload.name) if keep(s) or (s.name, s.device) == reference]
        selected.sort(key=lambda s: (s.name, s.device) != reference)
        runs.append((workload, harness.run_workload(
            workload, selected, quick=args.quick, dtype=args.dtype, check=args.check,
            min_time=min_time, clock=args.clock, log=lambda line: print(line, flush=True))))
    machine = machine_info(notes)  # after the runs: threadpoolctl sees the BLAS each engine loaded
    failed = False
    for workload, results in runs:
        stem = workload.name if workload.dtypes or args.dtype == "float32" else f"{workload.name}-{args.dtype}"
        dtypes = ",".join(workload.dtypes) or args.dtype
        doc = report.document(workload, results, machine, {**options, "dtype": dtypes}, stem)
        doc["plots"] = plots.plot(doc, out)
        report.write(doc, out)
        print("\n" + report.markdown(doc))
        failed |= any(r.status.startswith("error") or r.check.startswith("failed") for r in results)
    print(f"Results written to {out} (summary: {report.write_summary(out)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
