"""The fast.ai flow: the Vgg16 helper fine-tuning on generated image folders, and examples/dogs_vs_cats.py
on its synthetic demo data (and its advice without data)."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "examples", "dogs_vs_cats.py")


def run(*args, cwd):
    """The script in a fresh process that imports this checkout's mlcore, whether or not it is installed."""
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=path)
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.timeout(60)
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


def _image_folders(root, classes, per_class, size=40):
    from PIL import Image
    rng = np.random.default_rng(5)
    for k, name in enumerate(classes):
        os.makedirs(os.path.join(root, name))
        for i in range(per_class):
            pixels = rng.integers(0, 60, (size, size, 3)).astype("uint8")
            pixels[..., k % 3] += 150
            Image.fromarray(pixels).save(os.path.join(root, name, "%d.png" % (i + 1 + 100 * k)))
    return root


def test_vgg16_helper_finetunes_only_the_new_top(tmp_path):
    from mlcore.applications import Vgg16
    train = _image_folders(str(tmp_path / "train"), ["cats", "dogs", "fish"], 4)
    valid = _image_folders(str(tmp_path / "valid"), ["cats", "dogs", "fish"], 2)
    vgg = Vgg16(weights=None, input_size=48)      # not 32: XLA is slow on 2x2 maps
    assert vgg.classes[:2] == ["tench", "goldfish"] and len(vgg.classes) == 1000
    batches = vgg.get_batches(train, batch_size=4)
    assert batches.target_size == (48, 48) and batches.batch_size == 4
    old_top = vgg.model.layers[-1]
    vgg.finetune(batches)
    assert vgg.classes == ["cats", "dogs", "fish"]
    new_top = vgg.model.layers[-1]
    assert new_top is not old_top and new_top.units == 3 and type(new_top).__name__ == "Dense"
    assert [w.path for w in vgg.model.trainable_weights] == [w.path for w in new_top.weights]
    before = [w.get_value().copy() for w in vgg.model.weights]
    history = vgg.fit(batches, vgg.get_batches(valid, batch_size=4, shuffle=False), nb_epoch=1, verbose=0)
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    after = [w.get_value() for w in vgg.model.weights]
    changed = [w.path for w, a, b in zip(vgg.model.weights, before, after) if not np.array_equal(a, b)]
    assert changed == [w.path for w in new_top.weights]
    test_batches, probabilities = vgg.test(valid, batch_size=4)
    assert probabilities.shape == (6, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert test_batches.filenames[0].startswith("cats")
    x, _ = test_batches[0] if isinstance(test_batches[0], tuple) else (test_batches[0], None)
    probs, idxs, names = vgg.predict(x)
    assert np.allclose(probs, probabilities[:4].max(axis=1), atol=1e-5)
    assert names == [vgg.classes[i] for i in idxs]
