"""examples/dogs_vs_cats.py: the whole fast.ai flow on its synthetic demo data, and its advice without data."""
import csv
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "dogs_vs_cats.py")


def run(*args, cwd):
    env = dict(os.environ, KERAS_BACKEND="jax")
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.timeout(300)
def test_demo_runs_end_to_end_and_writes_a_submission(tmp_path):
    done = run("--demo", "--epochs", "1", "--out", "demo.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Found 48 images belonging to 2 classes." in done.stdout
    with open(tmp_path / "demo.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "label"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 13))
    assert all(0.0 <= float(r[1]) <= 1.0 for r in rows[1:])


def test_without_data_it_says_where_to_get_it(tmp_path):
    done = run("--data", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode != 0
    assert "kaggle.com" in done.stderr and "DATA/train/cats" in done.stderr and "--demo" in done.stderr
    assert not (tmp_path / "submission.csv").exists()


def test_submission_ids_are_numeric_and_sorted(tmp_path):
    sys.path.insert(0, os.path.dirname(SCRIPT))
    try:
        from dogs_vs_cats import write_submission
    finally:
        sys.path.pop(0)
    path = tmp_path / "s.csv"
    write_submission(str(path), ["unknown/10.jpg", "unknown/2.jpg", "unknown/1.jpg"], [0.25, 0.5, 0.75])
    assert path.read_text().splitlines() == ["id,label", "1,0.75000", "2,0.50000", "10,0.25000"]
