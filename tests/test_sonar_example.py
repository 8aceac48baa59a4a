"""examples/sonar.py runs as a script (a short run; the full 100-epoch protocol is measured separately)."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "sonar.py")


def run(*args):
    result = subprocess.run([sys.executable, SCRIPT, "--backend", "numpy", *args], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def sonar_module():
    spec = importlib.util.spec_from_file_location("sonar_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_split_prints_its_test_accuracy(sonar_module):
    out = run("--seed", "0", "--epochs", "5")
    assert "Sonar: 208 samples, 60 features; backend numpy" in out
    accuracy = float(re.search(r"seed 0: test accuracy (\d+\.\d\d)%", out).group(1))
    assert 50 < accuracy <= 100
    assert re.search(r"Mean test accuracy over 1 split\(s\): %.2f%%" % accuracy, out)
    # the number printed is the model's accuracy on the held-out 40%, and the seed fixes it
    import mlcore
    from mlcore.datasets import sonar
    saved = dict(mlcore.config._overrides)
    mlcore.config.set_backend("numpy")
    try:
        x, labels = sonar.load_data()
        again = sonar_module.split_accuracy(x.astype("float32"), (labels == "R").astype("int64"), 0, 5, 1)
    finally:
        mlcore.config._overrides.clear()
        mlcore.config._overrides.update(saved)
    assert "%.2f" % (again * 100) == "%.2f" % accuracy


def test_cross_validation_mode():
    out = run("--cv", "--epochs", "2")
    match = re.search(r"Standardized: (\d+\.\d\d)% \((\d+\.\d\d)%\) mean \(std\) 10-fold accuracy", out)
    assert match and 0 < float(match.group(1)) <= 100
