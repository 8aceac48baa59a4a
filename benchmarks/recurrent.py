"""Recurrent layers' training and inference steps, mlcore's jax backend against Keras 3 on jax, timed in pairs.

    python -m benchmarks.recurrent                     # every case, train_on_batch and predict_on_batch
    python -m benchmarks.recurrent --cases lstm,gru --rounds 40
    python -m benchmarks.recurrent --threads 1 --clock cpu    # steady on a busy machine
    python -m benchmarks.recurrent --features 256 --units 256 --out /tmp/lstm256.json   # a larger layer

Each case is one Sequential model built twice, by mlcore (`import mlcore as keras`, the jax backend)
and by Keras 3 (KERAS_BACKEND=jax, its JAX trainer), with Keras's weights copied into mlcore's, compiled
with Adam and the mean squared error, and run on one batch of 32 sequences of 50 steps of 16 features
(64 units; --features and --units change them).
As in benchmarks/paired.py, the programs run in many short rounds, each round in a new order, and the
ratio is taken within each round; the table gives its median and quartiles, and Keras's step timed
against a second copy of itself as a control (1.00 when the method resolves the difference).
"""
import argparse
import dataclasses
import os
import statistics
import sys

from .machine import limit_threads  # imports nothing heavy: --threads must act before numpy loads



@dataclasses.dataclass(frozen=True)
class Shapes:
    batch: int = 32
    steps: int = 50
    features: int = 16
    units: int = 64

CASES = ("lstm", "gru", "simple_rnn", "lstm_stacked")
KINDS = ("train", "predict")
CHECK_RTOL = 1e-4       # the first step's loss and predictions, mlcore against Keras (float32)


def _parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks.recurrent", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated cases (default: all): %s" % ", ".join(CASES))
    p.add_argument("--kinds", default=",".join(KINDS), help="train, predict or both (default)")
    p.add_argument("--rounds", type=int, default=60, help="timed rounds per case (at least 3)")
    p.add_argument("--sample", type=float, default=0.03, help="seconds of calls per program per round")
    p.add_argument("--features", type=int, default=Shapes.features, help="features per step (default: 16)")
    p.add_argument("--units", type=int, default=Shapes.units, help="units of each recurrent layer (default: 64)")
    p.add_argument("--threads", type=int, help="threads for XLA and BLAS (default: each library's own)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time, or this process's CPU time (steady on a busy CPU)")
    p.add_argument("--out", help="the JSON file to write (default: benchmarks/results/recurrent.json)")
    return p


def layers_of(library, case, units):
    """The recurrent layers of a case, made by mlcore or by Keras (the same names in both)."""
    layers = library.layers
    return {"lstm": lambda: [layers.LSTM(units)],
            "gru": lambda: [layers.GRU(units)],
            "simple_rnn": lambda: [layers.SimpleRNN(units)],
            "lstm_stacked": lambda: [layers.LSTM(units, return_sequences=True), layers.LSTM(units)]}[case]()


def build(library, case, shapes=Shapes()):
    model = library.Sequential([library.Input((shapes.steps, shapes.features))] + layers_of(library, case, shapes.units)
                               + [library.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def data(shapes=Shapes()):
    import numpy as np
    rng = np.random.default_rng(0)
    return (rng.standard_normal((shapes.batch, shapes.steps, shapes.features)).astype("float32"),
            rng.standard_normal((shapes.batch, 1)).astype("float32"))


def programs(case, kind, shapes=Shapes()):
    """{name: step}: mlcore's and Keras's step of the case (Keras's twice, for the control), and
    'ok' or why the two models' first step differs."""
    import numpy as np
    import keras
    import mlcore
    x, y = data(shapes)
    models = {name: build(library, case, shapes) for name, library in
              (("mlcore", mlcore), ("keras", keras), ("keras again", keras))}
    weights = models["keras"].get_weights()
    models["mlcore"].set_weights(weights)
    models["keras again"].set_weights(weights)
    if kind == "train":
        steps = {name: (lambda m=m: m.train_on_batch(x, y)) for name, m in models.items()}
    else:
        steps = {name: (lambda m=m: m.predict_on_batch(x)) for name, m in models.items()}
    first = {name: np.asarray(step(), dtype="float64") for name, step in steps.items()}
    agree = np.allclose(first["mlcore"], first["keras"], rtol=CHECK_RTOL, atol=1e-6)
    check = "ok" if agree else "differs by %.2g" % np.max(np.abs(first["mlcore"] - first["keras"]))
    return steps, check


def run_case(case, kind, rounds, sample_s, clock, shapes=Shapes()):
    """One row: median seconds per call and the ratios (> 1: mlcore is faster than Keras)."""
    from .harness import measure_paired, ratio_quartiles
    steps, check = programs(case, kind, shapes)
    times = measure_paired(steps, rounds, sample_s, clock)
    return {"case": case, "kind": kind, "check": check,
            "mlcore_ms": statistics.median(times["mlcore"]) * 1e3, "keras_ms": statistics.median(times["keras"]) * 1e3,
            "ratio": ratio_quartiles(times["keras"], times["mlcore"]),
            "control": ratio_quartiles(times["keras again"], times["keras"])}


def table(rows):
    lines = ["| case | step | mlcore (ms) | Keras (ms) | Keras's time / mlcore's, median [quartiles] | "
             "control: Keras / itself | first step agrees |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        (q1, median, q3), (c1, control, c3) = r["ratio"], r["control"]
        lines.append(f"| {r['case']} | {r['kind']} | {r['mlcore_ms']:.2f} | {r['keras_ms']:.2f} "
                     f"| {median:.2f}x [{q1:.2f}-{q3:.2f}] | {control:.2f}x [{c1:.2f}-{c3:.2f}] | {r['check']} |")
    return "\n".join(lines)


def _chosen(text, known, option):
    chosen = [c for c in text.split(",") if c]
    if not chosen or set(chosen) - set(known):
        raise SystemExit("%s: unknown %s; choose from %s" % (option, sorted(set(chosen) - set(known)), list(known)))
    return chosen


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.rounds < 3:
        raise SystemExit("--rounds: at least 3 (the quartiles need them)")
    cases, kinds = _chosen(args.cases, CASES, "--cases"), _chosen(args.kinds, KINDS, "--kinds")
    shapes = Shapes(features=args.features, units=args.units)
    if args.threads:
        limit_threads(args.threads)
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "jax") != "jax":
        raise SystemExit("keras was imported with another backend than jax")
    os.environ["KERAS_BACKEND"] = "jax"
    from .harness import CLOCKS
    from .machine import configure_engines, machine_info
    from .paired import write_atomically
    notes = configure_engines()
    import mlcore
    mlcore.config.set_backend("jax")
    rows = []
    for case in cases:
        for kind in kinds:
            rows.append(run_case(case, kind, args.rounds, args.sample, CLOCKS[args.clock], shapes))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    out = args.out or os.path.join(os.path.dirname(__file__), "results", "recurrent.json")
    options = {k: getattr(args, k) for k in ("threads", "clock", "rounds", "sample")}
    write_atomically(out, {"machine": machine_info(notes), "options": options, "shapes": dataclasses.asdict(shapes),
                           "results": rows})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
