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
