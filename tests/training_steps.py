"""The training steps that several test modules compile on each backend and device: an MLP
(784-500-10, tanh, softmax cross-entropy, SGD) and a small convnet (conv, pool, dense)."""
import numpy as np

import mlcore
import mlcore.tensor as T
from mlcore.graph import ops


def mlp_step(backend, device=None):
    """One SGD step of a tanh MLP with softmax cross-entropy; returns the function and its weights."""
    rng = np.random.default_rng(2)
    params = [mlcore.shared((rng.standard_normal(s) * 0.05).astype("float32"))
              for s in [(784, 500), (500,), (500, 10), (10,)]]
    w1, b1, w2, b2 = params
    x, labels = T.fmatrix("x"), T.lvector("labels")
    probs = T.nnet.softmax(T.dot(T.tanh(T.dot(x, w1) + b1), w2) + b2)
    loss = T.nnet.categorical_crossentropy(probs, labels).mean()
    updates = [(p, p - 0.1 * g) for p, g in zip(params, T.grad(loss, params))]
    return mlcore.function([x, labels], loss, updates=updates, backend=backend, device=device), params


def mlp_batches(n=5):
    rng = np.random.default_rng(3)
    return [(rng.random((60, 784), dtype="float32"), rng.integers(0, 10, 60)) for _ in range(n)]


def convnet_batches(n=3):
    rng = np.random.default_rng(5)
    return [(rng.standard_normal((6, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 6)) for _ in range(n)]


def convnet_steps(backend, batches, device=None):
    """SGD steps of conv 3x3 'same' + relu, 2x2 max pooling, dense softmax; the losses and final weights."""
    rng = np.random.default_rng(4)
    kernel = mlcore.shared((rng.standard_normal((3, 3, 1, 4)) * 0.3).astype("float32"))
    dense = mlcore.shared((rng.standard_normal((64, 10)) * 0.1).astype("float32"))
    x, labels = T.ftensor4("x"), T.lvector("labels")
    hidden = ops.pool2d(ops.relu(ops.conv2d(x, kernel, padding="same")), (2, 2))
    probs = T.nnet.softmax(T.dot(T.flatten(hidden, 2), dense))
    loss = T.nnet.categorical_crossentropy(probs, labels).mean()
    updates = [(p, p - 0.5 * g) for p, g in zip([kernel, dense], T.grad(loss, [kernel, dense]))]
    step = mlcore.function([x, labels], loss, updates=updates, backend=backend, device=device)
    return [step(*b) for b in batches], [kernel.get_value(), dense.get_value()]
