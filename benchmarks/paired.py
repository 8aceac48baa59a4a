"""mlcore's training steps against the hand-written step of their engine, timed in pairs.

    python -m benchmarks.paired                    # every backend, every training case, on the CPU
    python -m benchmarks.paired --device gpu --backend jax
    python -m benchmarks.paired --quick            # a smoke run: two cases, a few short rounds

The suite's tables time each system in a few repeats and keep the best; where the machine's speed
drifts (a shared CPU, a GPU's host) two runs of one program then read 15-25% apart, as wide as
the 0.9x target the ratios are held to.  Here a case's programs run in many short rounds, each round
in a new order, and the ratio is taken within each round, so a slow spell falls on both sides; the
table gives the median ratio and its quartiles.  The hand-written program is built twice and its two
copies compared the same way: that control reads 1.00 when the method resolves the difference.
"""
import argparse
import json
import os
import statistics
import tempfile

from .machine import limit_threads  # imports nothing heavy: --threads must act before numpy loads

CASES = {"mlp": (1, 10, 60), "lenet32": (1, 10, 60), "convlarge": (1,)}   # net name -> batch sizes
QUICK_CASES = {"mlp": (60,), "lenet32": (10,)}
BACKENDS = ("numpy", "theano", "jax")


def _parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks.paired", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", default=",".join(BACKENDS), help="comma-separated mlcore backends (default: all)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--rounds", type=int, default=100, help="timed rounds per case (at least 3)")
    p.add_argument("--sample", type=float, default=0.02, help="seconds of calls per program per round")
    p.add_argument("--threads", type=int, help="threads for every engine (default: each library's own)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time, or this process's CPU time (steady on a busy CPU; not for a GPU)")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--cases", help="comma-separated cases, e.g. lenet32-b1,mlp-b60 (default: all)")
    p.add_argument("--quick", action="store_true", help="two cases, 5 rounds of 5 ms: a smoke run")
    p.add_argument("--out", help="the JSON file to write (default: benchmarks/results/paired-<device>.json)")
    return p


def pairs(device, backends):
    """(mlcore's system, the hand-written system of its engine) per backend, for both workloads."""
    from .systems import load_plugins, systems
    load_plugins()
    found = {}
    for workload in ("mlp", "convnet"):
        registered = [s for s in systems(workload) if s.device == device]
        for backend in backends:
            ours = next((s for s in registered if s.name == "mlcore-" + backend), None)
            if ours is None:
                continue
            peer = next((s for s in registered if s.handwritten and s.engine == ours.engine), None)
            if peer is not None:
                found[workload, backend] = (ours, peer)
    return found


def run_case(case, ours, peer, device, rounds, sample_s, clock):
    """One row: medians per call, mlcore's speed relative to its peer and the peer's against itself."""
    from .harness import measure_paired, ratio_quartiles
    from .systems import Unavailable
    try:
        steps = {"mlcore": ours.factory(case, device), "peer": peer.factory(case, device),
                 "peer again": peer.factory(case, device)}
    except Unavailable as exc:
        return {"status": f"not available: {exc}"}
    times = measure_paired(steps, rounds, sample_s, clock)
    return {"status": "ok", "mlcore_us": statistics.median(times["mlcore"]) * 1e6,
            "peer_us": statistics.median(times["peer"]) * 1e6,
            "ratio": ratio_quartiles(times["peer"], times["mlcore"]),           # > 1: mlcore is faster
            "control": ratio_quartiles(times["peer again"], times["peer"])}


def table(rows):
    lines = ["| case | backend | hand-written | mlcore (us) | hand-written (us) | mlcore's speed / hand-written's, median [quartiles] | control: hand-written / itself |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['case']} | {r['backend']} | {r['peer']} | {r['status']} | | | |")
            continue
        q1, median, q3 = r["ratio"]
        c1, control, c3 = r["control"]
        lines.append(f"| {r['case']} | {r['backend']} | {r['peer']} | {r['mlcore_us']:,.0f} | {r['peer_us']:,.0f} "
                     f"| {median:.2f}x [{q1:.2f}-{q3:.2f}] | {control:.2f}x [{c1:.2f}-{c3:.2f}] |")
    return "\n".join(lines)


def write_atomically(path, document):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as f:
        json.dump(document, f, indent=2)
    os.replace(f.name, path)


def chosen_cases(args):
    """(net name, batch) pairs from --quick and --cases, in the table's order."""
    cases = [(name, batch) for name, batches in (QUICK_CASES if args.quick else CASES).items() for batch in batches]
    if not args.cases:
        return cases
    wanted = set(args.cases.split(","))
    known = {f"{name}-b{batch}" for name, batches in CASES.items() for batch in batches}
    if wanted - known:
        raise SystemExit(f"--cases: unknown {sorted(wanted - known)}; cases {sorted(known)}")
    return [(name, batch) for name, batch in cases if f"{name}-b{batch}" in wanted]


def chosen_backends(args):
    backends = [b for b in args.backend.split(",") if b]
    if set(backends) - set(BACKENDS):
        raise SystemExit(f"--backend: unknown {sorted(set(backends) - set(BACKENDS))}; backends {list(BACKENDS)}")
    return backends


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.rounds < 3:
        raise SystemExit("--rounds: at least 3 (the quartiles need them)")
    cases, backends = chosen_cases(args), chosen_backends(args)
    if args.threads:
        limit_threads(args.threads)
    from .convnet import CONVLARGE, LENET32   # these load numpy and the engines: after the thread settings
    from .harness import CLOCKS
    from .machine import machine_info
    from .mlp import MLP
    from .training import TrainCase
    nets = {net.name: net for net in (MLP, LENET32, CONVLARGE)}
    rounds, sample_s = (5, 0.005) if args.quick else (args.rounds, args.sample)
    found = pairs(args.device, backends)
    rows = []
    for name, batch in cases:
        case = TrainCase(nets[name], batch, args.dtype)
        for backend in backends:
            pair = found.get(("mlp" if name == "mlp" else "convnet", backend))
            if pair is None:   # no such system on this device (numpy on a GPU)
                continue
            ours, peer = pair
            rows.append({"case": f"{name} b{batch}", "backend": backend, "peer": peer.name,
                         **run_case(case, ours, peer, args.device, rounds, sample_s, CLOCKS[args.clock])})
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    out = args.out or os.path.join(os.path.dirname(__file__), "results", f"paired-{args.device}.json")
    options = {k: getattr(args, k) for k in ("device", "threads", "clock", "dtype", "quick")}
    write_atomically(out, {"machine": machine_info(), "options": {**options, "rounds": rounds, "sample_s": sample_s},
                           "results": rows})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
