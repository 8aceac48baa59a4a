"""Dogs vs. cats with a fine-tuned VGG16: the fast.ai course's lesson 1, on mlcore.

Data (Kaggle's "Dogs vs. Cats Redux"), arranged as flow_from_directory reads it:

    DATA/train/cats/*.jpg   DATA/train/dogs/*.jpg
    DATA/valid/cats/*.jpg   DATA/valid/dogs/*.jpg   (a few hundred moved out of train/)
    DATA/test/unknown/*.jpg                          (Kaggle's test set: 1.jpg ... 12500.jpg)

    python examples/dogs_vs_cats.py --data DATA                 # ImageNet weights, 224x224
    python examples/dogs_vs_cats.py --demo                      # synthetic images, random VGG16, < 1 min

It replaces VGG16's top with a 2-way softmax, trains only that, and writes a Kaggle submission:
one line "id,label" per test image, label = P(dog).
"""
import argparse
import csv
import os
import sys
import tempfile
import time

import numpy as np

KAGGLE = "https://www.kaggle.com/c/dogs-vs-cats-redux-kernels-edition/data"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="folder with train/, valid/ and test/ as above")
    p.add_argument("--weights", default=None,
                   help='"imagenet" (default; downloaded once), "none" (random) or a VGG16 .h5 file')
    p.add_argument("--epochs", type=int, default=None, help="default 1 (3 with --demo)")
    p.add_argument("--lr", type=float, default=None,
                   help="Adam's learning rate for the new top (default 0.001, fast.ai's; 0.05 with --demo, "
                        "whose random VGG16 gives small features)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--backend", choices=("numpy", "theano", "jax"), default=None,
                   help="default: mlcore's configured backend (jax when installed)")
    p.add_argument("--input-size", type=int, default=None,
                   help="image side in pixels (default 224; 48 with --demo); the ImageNet top needs 224")
    p.add_argument("--out", default="submission.csv")
    p.add_argument("--demo", action="store_true",
                   help="make a small synthetic data set and use a random VGG16: the whole flow in < 1 min")
    return p.parse_args(argv)


def make_demo_data(root, n_train=24, n_valid=8, n_test=12, size=64, seed=0):
    """Cats are warm-coloured discs and dogs cool-coloured squares, on noisy backgrounds, as JPEGs."""
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(seed)

    def draw(kind):
        background = rng.integers(0, 256, (size, size, 3)).astype("uint8") // 4 + 96
        img = Image.fromarray(background)
        r = int(rng.integers(size // 5, size // 3))
        cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
        box = (cx - r, cy - r, cx + r, cy + r)
        if kind == "cats":
            ImageDraw.Draw(img).ellipse(box, fill=(int(rng.integers(180, 256)), int(rng.integers(40, 120)), 30))
        else:
            ImageDraw.Draw(img).rectangle(box, fill=(30, int(rng.integers(40, 120)), int(rng.integers(180, 256))))
        return img

    for split, count in (("train", n_train), ("valid", n_valid)):
        for kind in ("cats", "dogs"):
            folder = os.path.join(root, split, kind)
            os.makedirs(folder, exist_ok=True)
            for k in range(count):
                draw(kind).save(os.path.join(folder, "%s.%d.jpg" % (kind[:-1], k)), quality=90)
    folder = os.path.join(root, "test", "unknown")
    os.makedirs(folder, exist_ok=True)
    for k in range(1, n_test + 1):
        draw("cats" if k % 2 else "dogs").save(os.path.join(folder, "%d.jpg" % k), quality=90)
    return root


def missing_data_message(data):
    return ("No dogs-vs-cats data at %r.\n"
            "Download train.zip and test.zip from Kaggle's Dogs vs. Cats Redux competition:\n    %s\n"
            "and arrange them as:\n"
            "    DATA/train/cats/cat.*.jpg   DATA/train/dogs/dog.*.jpg\n"
            "    DATA/valid/cats/            DATA/valid/dogs/   (move ~1000 images per class out of train/)\n"
            "    DATA/test/unknown/*.jpg     (the test set: 1.jpg ... 12500.jpg)\n"
            "then run: python examples/dogs_vs_cats.py --data DATA\n"
            "Or try the whole flow on synthetic images: python examples/dogs_vs_cats.py --demo"
            % (data, KAGGLE))


def write_submission(path, filenames, dog_probabilities):
    """Kaggle's format: id (the image's numeric file name) and label = P(dog), sorted by id."""
    ids = [int(os.path.splitext(os.path.basename(f))[0]) for f in filenames]
    rows = sorted(zip(ids, dog_probabilities))
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label"])
        writer.writerows((i, "%.5f" % p) for i, p in rows)


def run(data, weights, epochs, lr, batch_size, input_size, out):
    from mlcore.applications import Vgg16
    start = time.perf_counter()
    vgg = Vgg16(weights=weights, input_size=input_size)
    batches = vgg.get_batches(os.path.join(data, "train"), batch_size=batch_size)
    val_batches = vgg.get_batches(os.path.join(data, "valid"), batch_size=batch_size, shuffle=False)
    vgg.finetune(batches)
    vgg.compile(lr=lr)
    history = vgg.fit(batches, val_batches, epochs=epochs, verbose=2)
    test_batches, preds = vgg.test(os.path.join(data, "test"), batch_size=batch_size)
    write_submission(out, test_batches.filenames, preds[:, vgg.classes.index("dogs")])
    print("val_accuracy %.3f; wrote %d predictions to %s in %.1f s"
          % (history.history["val_accuracy"][-1], len(preds), out, time.perf_counter() - start))


def main(argv=None):
    args = parse_args(argv)
    if args.backend:
        from mlcore import config
        config.set_backend(args.backend)
    weights = args.weights or ("none" if args.demo else "imagenet")
    weights = None if weights.lower() == "none" else weights
    input_size = args.input_size or (48 if args.demo else 224)
    epochs = args.epochs or (3 if args.demo else 1)
    lr = args.lr or (0.05 if args.demo else 0.001)
    if args.demo:
        with tempfile.TemporaryDirectory(prefix="dogs_vs_cats_demo_") as data:
            print("Demo: synthetic images in %s, VGG16 weights=%s, %dx%d inputs" % (data, weights, input_size,
                                                                                    input_size))
            run(make_demo_data(data), weights, epochs, lr, args.batch_size, input_size, args.out)
        return 0
    if not args.data or not all(os.path.isdir(os.path.join(args.data, s)) for s in ("train", "valid", "test")):
        print(missing_data_message(args.data), file=sys.stderr)
        return 2
    try:
        run(args.data, weights, epochs, lr, args.batch_size, input_size, args.out)
    except (OSError, ValueError) as err:    # weights not downloadable or not matching, unreadable data
        print("error: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
