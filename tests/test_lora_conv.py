"""LoRA in Conv1D, Conv2D and Conv3D (mlcore/layers/lora.py), against Keras 3.15 run beside it."""
import numpy as np
import pytest

import mlcore
from mlcore import layers
from test_conv_layers_more import assert_config_is_keras
from test_lora import (RANK, _copy, _out, _set_factors, assert_enabled_lora_as_keras,
                       assert_files_merge_the_factors_both_ways, fit_factors_as_keras)

# (layer name, constructor arguments, build shape): grouped, channels_first and 3-d kernels
CASES = {
    "Conv1D": (dict(filters=4, kernel_size=3, groups=2, padding="causal"), (None, 7, 4)),
    "Conv2D": (dict(filters=3, kernel_size=(2, 3), data_format="channels_first"), (None, 2, 5, 6)),
    "Conv3D": (dict(filters=2, kernel_size=2, strides=2), (None, 4, 5, 4, 3)),
}


def _pair(keras, name, **extra):
    """The same built layer in mlcore and in Keras, mlcore's weights copied into Keras's, and an input."""
    kwargs, shape = CASES[name]
    kwargs = dict(kwargs, name="lora_" + name.lower(), **extra)     # named: weight paths compared across libraries
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    ours.build(shape)
    theirs.build(shape)
    _copy(ours, theirs)
    return ours, theirs, np.random.default_rng(0).normal(size=(2,) + shape[1:]).astype("float32")


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_weights_and_effective_kernel_as_keras(keras, name):
    assert_enabled_lora_as_keras(*_pair(keras, name))


def test_lora_rank_argument_config_and_regularizer_losses_as_keras(keras):
    kwargs = dict(CASES["Conv2D"][0], kernel_regularizer="l2", lora_rank=RANK, lora_alpha=8)
    ours, theirs, x = _pair(keras, "Conv2D", kernel_regularizer="l2", lora_rank=RANK, lora_alpha=8)
    assert ours.lora_enabled and (ours.lora_rank, ours.lora_alpha) == (theirs.lora_rank, theirs.lora_alpha) == (2, 8)
    assert_config_is_keras(keras, "Conv2D", kwargs, ours)
    assert "lora_rank" not in layers.Conv2D(**CASES["Conv2D"][0]).get_config()
    again = layers.Conv2D.from_config(theirs.get_config())
    again.build(CASES["Conv2D"][1])
    assert again.lora_enabled and again.lora_alpha == 8
    _set_factors(ours)
    _copy(ours, theirs)
    ours(x), theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 2       # the factors' regularizers: the kernel is frozen
    np.testing.assert_allclose(sorted(_out(loss) for loss in ours.losses),
                               sorted(_out(loss) for loss in theirs.losses), rtol=1e-5)


@pytest.mark.parametrize("backend", ["jax", "theano"], indirect=True)
def test_fit_trains_only_the_factors_as_keras(keras, on_backend):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 6, 4)).astype("float32"), rng.normal(size=(8, 5, 3)).astype("float32")
    ours = mlcore.Sequential([layers.Input((6, 4)), layers.Conv1D(3, 2, lora_rank=RANK)])
    theirs = keras.Sequential([keras.layers.Input((6, 4)), keras.layers.Conv1D(3, 2, lora_rank=RANK)])
    fit_factors_as_keras(keras, ours, theirs, x, y)


def test_keras_files_merge_the_factors_both_ways(keras, tmp_path):
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 2)).astype("float32")
    assert_files_merge_the_factors_both_ways(keras, tmp_path, lambda module, **options: module.Conv2D(3, 2, **options),
                                             x)


def test_errors_name_the_layer_and_the_cause(keras):
    with pytest.raises(ValueError, match="isn't yet built"):
        layers.Conv3D(2, 2).enable_lora(RANK)
    conv = layers.Conv1D(2, 2, name="c")
    conv.build((None, 5, 3))
    with pytest.raises(ValueError, match="rank must be a positive integer"):
        conv.enable_lora(0)
    conv.enable_lora(RANK)
    with pytest.raises(ValueError, match="already enabled.*'c'"):
        conv.enable_lora(RANK)
    constrained = layers.Conv2D(2, 2, kernel_constraint="non_neg", name="k")
    constrained.build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="incompatible with kernel constraints.*'k'"):
        constrained.enable_lora(RANK)
    with pytest.raises(AttributeError, match="build the layer before accessing `kernel`"):
        layers.Conv2D(2, 2).kernel
    for name, args in (("Conv2DTranspose", (2, 2)), ("DepthwiseConv2D", (2,))):    # LoRA is Conv1D/2D/3D's alone
        with pytest.raises(ValueError, match="lora_rank"):
            getattr(keras.layers, name)(*args, lora_rank=RANK)
        with pytest.raises(TypeError, match="lora_rank"):       # mlcore refuses unknown arguments with a TypeError
            getattr(layers, name)(*args, lora_rank=RANK)
