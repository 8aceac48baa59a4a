"""The seed article's first example: a small MLP on the UCI Sonar data (mines vs rocks).

    python examples/sonar.py                 # 60:40 split, seeds 0-9, mean test accuracy
    python examples/sonar.py --seed 3        # one split
    python examples/sonar.py --cv            # 10-fold stratified CV of StandardScaler + model
    python examples/sonar.py --backend numpy

The model is the article's: 60 inputs -> 60 relu -> 1 sigmoid, Adam, binary
cross-entropy, 100 epochs of batch 5.  Gorman and Sejnowski (1988) report 84.7%
for a network of this size; the article reports 81.64% on its split.
"""
import argparse
import time

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

import mlcore
from mlcore.datasets import sonar
from mlcore.layers import Dense
from mlcore.models import Sequential
from mlcore.wrappers import KerasClassifier


def create_baseline(steps_per_execution=1):
    model = Sequential()
    model.add(Dense(60, input_dim=60, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


def split_accuracy(x, y, seed, epochs, steps_per_execution):
    """Test accuracy on a stratified 60:40 split drawn with this seed."""
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.4, random_state=seed, stratify=y)
    mlcore.utils.set_random_seed(seed)
    model = create_baseline(steps_per_execution)
    model.fit(x_train, y_train, epochs=epochs, batch_size=5, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default=None, help="numpy, theano or jax (default: mlcore's config)")
    parser.add_argument("--seed", type=int, default=None, help="one split with this seed (default: seeds 0-9)")
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds when --seed is not given")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--cv", action="store_true", help="10-fold stratified cross-validation with standardisation")
    args = parser.parse_args(argv)
    if args.backend:
        mlcore.config.set_backend(args.backend)
    x, labels = sonar.load_data()
    y = LabelEncoder().fit_transform(labels)
    x = x.astype("float32")
    print("Sonar: %d samples, %d features; backend %s" % (x.shape[0], x.shape[1], mlcore.config.backend()))
    start = time.perf_counter()
    if args.cv:
        seed = 7 if args.seed is None else args.seed
        estimators = [("standardize", StandardScaler()),
                      ("mlp", KerasClassifier(build_fn=create_baseline, epochs=args.epochs, batch_size=5,
                                              verbose=0, random_state=seed,
                                              steps_per_execution=args.steps_per_execution))]
        folds = StratifiedKFold(n_splits=10, shuffle=True, random_state=seed)
        scores = cross_val_score(Pipeline(estimators), x, y, cv=folds)
        print("Standardized: %.2f%% (%.2f%%) mean (std) 10-fold accuracy" % (scores.mean() * 100, scores.std() * 100))
    else:
        seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
        accuracies = []
        for seed in seeds:
            accuracies.append(split_accuracy(x, y, seed, args.epochs, args.steps_per_execution))
            print("seed %d: test accuracy %.2f%%" % (seed, accuracies[-1] * 100))
        print("Mean test accuracy over %d split(s): %.2f%% (std %.2f%%)"
              % (len(seeds), np.mean(accuracies) * 100, np.std(accuracies) * 100))
    print("Time: %.1f s" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
