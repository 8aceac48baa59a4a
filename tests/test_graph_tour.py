"""examples/graph_tour.py, which docs/INTERNALS.md walks through, runs as a script and shows what it says."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_tour_runs_and_every_backend_prints_the_same_cost():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "graph_tour.py")], capture_output=True,
                            text=True, timeout=300, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert [int(n) for n in re.findall(r"^(\d)\. ", out, re.M)] == list(range(1, 9))
    costs = dict(re.findall(r"^(numpy|jax|theano) +cost (\S+)$", out, re.M))
    assert "numpy" in costs and len(set(costs.values())) == 1, costs
    fusion = out.split("6. Fusion")[1].split("7. From a layer")[0]
    assert "Composite{sqr, sqr, add, mul, mul, add}" in fusion
    assert "void loop(long n, const double *in0, const double *in1, const double *in2, double *out)" in fusion
    assert "out[i] = v8;" in fusion
