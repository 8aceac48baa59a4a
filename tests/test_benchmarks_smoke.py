"""`python -m benchmarks --quick --check` end to end: every system agrees with NumPy and results are written.

No timing assertions: the numbers belong to the machine, not to the code. The
first run on a fresh machine compiles PyTensor's C code, hence the long timeout.
"""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("mlp", "convnet", "elementwise")


@pytest.mark.timeout(1500)
def test_quick_checked_run_writes_json_csv_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--check", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    for name in WORKLOADS:
        doc = json.loads((tmp_path / f"{name}.json").read_text())
        assert doc["workload"] == name
        assert doc["machine"]["cpu"] and doc["machine"]["cores"] and doc["machine"]["versions"]["numpy"]
        ran = [r for r in doc["results"] if r["status"] == "ok"]
        assert any((r["system"], r["device"]) == ("numpy", "cpu") for r in ran)
        assert all(r["check"] == "ok" for r in ran if (r["system"], r["device"]) != ("numpy", "cpu"))
        assert all(r["status"] == "ok" or r["status"].startswith("not available") for r in doc["results"])
        with (tmp_path / f"{name}.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(doc["results"]) and {r["workload"] for r in rows} == {name}
        assert doc["plots"] and all((tmp_path / p).is_file() for p in doc["plots"])
    summary = (tmp_path / "README.md").read_text()
    assert all(f"({p})" in summary for name in WORKLOADS
               for p in json.loads((tmp_path / f"{name}.json").read_text())["plots"])


def test_only_can_keep_a_system_on_one_device():
    from benchmarks import convnet, mlp
    from benchmarks.__main__ import _parser, _selection
    from benchmarks.systems import load_plugins, systems
    load_plugins()
    workloads = {w.name: w for w in (mlp.WORKLOAD, convnet.WORKLOAD)}
    args = _parser().parse_args(["--only", "mlp,jax,mlcore-theano:gpu"])
    chosen, keep = _selection(args, workloads, systems())
    kept = {(s.name, s.device) for s in systems("mlp") if keep(s)}
    assert [w.name for w in chosen] == ["mlp"]
    assert kept == {("jax", "cpu"), ("jax", "gpu"), ("mlcore-theano", "gpu")}
    with pytest.raises(SystemExit, match="mlcore-theano:tpu"):
        _selection(_parser().parse_args(["--only", "mlcore-theano:tpu"]), workloads, systems())


def test_paired_timing_takes_each_ratio_within_a_round():
    """measure_paired on a clock the steps themselves advance: every step once per round, its calls
    calibrated to the sample, and the ratios taken round by round."""
    from benchmarks.harness import measure_paired, ratio_quartiles
    now = [0.0]
    log = []
    # the machine slows down threefold after the calibration (8 calls) and 5 rounds (6 calls each)
    slow_spell = iter([1.0] * (8 + 5 * 6) + [3.0] * 400)

    def step(name, cost):
        def run():
            now[0] += cost * next(slow_spell)
            log.append(name)
        return run

    times = measure_paired({"fast": step("fast", 1.0), "slow": step("slow", 2.0)}, rounds=9, sample_s=4.0,
                           clock=lambda: now[0])
    assert [len(v) for v in times.values()] == [9, 9]
    assert ratio_quartiles(times["slow"], times["fast"]) == pytest.approx((2.0, 2.0, 2.0))
    assert max(times["fast"]) > min(times["fast"]) * 2   # the drift is in the times, not in the ratios
    calls = {name: log.count(name) for name in ("fast", "slow")}
    assert calls == {"fast": 1 + 3 + 9 * 4, "slow": 1 + 3 + 9 * 2}   # warm-up, calibration, rounds
    equal = measure_paired({"a": step("a", 1.0), "b": step("b", 1.0)}, rounds=3, sample_s=1.0, clock=lambda: now[0])
    assert ratio_quartiles(equal["a"], equal["b"]) == pytest.approx((1.0, 1.0, 1.0))


@pytest.mark.timeout(600)
def test_paired_quick_run_writes_its_table(tmp_path):
    out = tmp_path / "paired.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.paired", "--quick", "--backend", "numpy,jax",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    doc = json.loads(out.read_text())
    assert doc["machine"]["cpu"] and doc["options"]["rounds"] == 5 and doc["options"]["device"] == "cpu"
    rows = doc["results"]
    assert {(r["case"], r["backend"]) for r in rows} == {(c, b) for c in ("mlp b60", "lenet32 b10")
                                                         for b in ("numpy", "jax")}
    for r in rows:
        assert r["status"] == "ok" and r["mlcore_us"] > 0 and r["peer_us"] > 0
        assert r["ratio"][0] <= r["ratio"][1] <= r["ratio"][2] and r["control"][0] <= r["control"][1] <= r["control"][2]
        assert f"| {r['case']} | {r['backend']} | {r['peer']} |" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "benchmarks.paired", "--backend", "tensorflow"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--backend: unknown ['tensorflow']" in bad.stderr
