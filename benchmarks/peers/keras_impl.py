"""Keras 3 on its jax backend: the same nets as Sequential models trained by train_on_batch.

Keras picks its backend once, at import: the suite sets KERAS_BACKEND=jax
before that, and if Keras was already imported with another backend these
systems are unavailable rather than silently measured on another engine.
"""
from __future__ import annotations

import os
import sys

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402

if keras.backend.backend() != "jax":
    raise ImportError(f"keras was imported with the {keras.backend.backend()} backend, not jax")

from .jax_impl import device_for, float32_products  # noqa: E402


def _model(net, dtype):
    dense, conv2d = keras.layers.Dense, keras.layers.Conv2D
    layers = [keras.Input(net.input_shape, dtype=dtype)]
    for conv in net.convs:
        layers += [conv2d(conv.filters, conv.kernel, activation="tanh", dtype=dtype),
                   keras.layers.MaxPooling2D(conv.pool, dtype=dtype)]
    if net.convs:
        layers.append(keras.layers.Flatten(dtype=dtype))
    layers += [dense(net.hidden, activation="tanh", dtype=dtype),
               dense(net.classes, activation="softmax", dtype=dtype)]
    return keras.Sequential(layers)


def train(case, device):
    device_for(device)
    scope = f"{device}:0"
    with keras.device(scope):
        model = _model(case.net, case.dtype)
        loss = keras.losses.SparseCategoricalCrossentropy(dtype=case.dtype)  # not floatx (float32)
        model.compile(optimizer=keras.optimizers.SGD(case.lr), loss=loss)
        model.set_weights(list(case.params.values()))

    def step():
        with keras.device(scope), float32_products():   # read when Keras traces its train step
            return float(model.train_on_batch(case.x, case.y))
    return step
