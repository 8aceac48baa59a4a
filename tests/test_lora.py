"""LoRA in Dense, EinsumDense and Embedding (mlcore/layers/lora.py), against Keras 3.15 run beside it."""
import numpy as np
import pytest

import mlcore
from mlcore import layers, ops

RANK = 2
# (layer name, constructor arguments, build shape, input maker)
KINDS = {
    "Dense": (dict(units=3), (None, 4), lambda r: r.normal(size=(5, 4)).astype("float32")),
    "EinsumDense": (dict(equation="ab,bcd->acd", output_shape=(2, 3), bias_axes="d"), (None, 4),
                    lambda r: r.normal(size=(5, 4)).astype("float32")),
    "Embedding": (dict(input_dim=6, output_dim=4), None, lambda r: r.integers(0, 6, size=(5, 3)).astype("int32")),
}


def _pair(keras, kind, **extra):
    """The same built layer in mlcore and in Keras, mlcore's weights copied into Keras's."""
    kwargs, shape, make_input = KINDS[kind]
    kwargs = dict(kwargs, name=extra.pop("name", "lora_" + kind.lower()))   # paths not from per-process counters
    ours, theirs = getattr(layers, kind)(**kwargs, **extra), getattr(keras.layers, kind)(**kwargs, **extra)
    ours.build(shape)
    theirs.build(shape)
    _copy(ours, theirs)
    return ours, theirs, make_input(np.random.default_rng(0))


def _copy(ours, theirs):
    """mlcore's weights into the Keras layer's, matched by name."""
    by_name = {w.name: w for w in theirs.weights}
    for weight in ours.weights:
        by_name[weight.name].assign(weight.numpy())


def _set_factors(layer, seed=1):
    """Non-zero LoRA factors (b starts at zeros), so that the update shows in the outputs."""
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        if weight.name.startswith("lora_"):
            weight.assign(rng.normal(size=weight.shape).astype("float32"))


def fit_factors_as_keras(keras, ours, theirs, x, y):
    """Non-zero factors in the first layer of both models, then two epochs of SGD each: Keras's losses,
    factors and bias, and the frozen kernel untouched."""
    _set_factors(ours.layers[0])
    _copy(ours.layers[0], theirs.layers[0])
    kernel = ours.layers[0]._kernel.numpy().copy()
    histories = []
    for model, lib in ((ours, mlcore), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        histories.append(model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    for name in ("lora_kernel_a", "lora_kernel_b", "bias"):
        np.testing.assert_allclose(getattr(ours.layers[0], name).numpy(), getattr(theirs.layers[0], name).numpy(),
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.layers[0]._kernel.numpy(), kernel)


def _out(value):
    return np.asarray(ops.convert_to_numpy(value))


def assert_enabled_lora_as_keras(ours, theirs, x):
    """enable_lora(rank 2, alpha 3) on both layers, with non-zero factors: Keras's weights (paths, trainability,
    shapes, dtypes), outputs and effective weight, which is the frozen one plus 1.5 * a @ b."""
    ours.enable_lora(RANK, lora_alpha=3.0)
    theirs.enable_lora(RANK, lora_alpha=3.0)
    _set_factors(ours)
    _copy(ours, theirs)
    assert [(w.path, w.trainable, tuple(w.shape), w.dtype) for w in ours.weights] == \
        [(w.path, w.trainable, tuple(w.shape), w.dtype) for w in theirs.weights]
    assert [w.path for w in ours.trainable_weights] == [w.path for w in theirs.trainable_weights]
    np.testing.assert_allclose(_out(ours(x)), _out(theirs(x)), rtol=1e-5, atol=1e-5)
    name = ours.LORA_WEIGHT
    a, b = ours.lora_factors()
    frozen = getattr(ours, "_" + name).numpy()
    expected = frozen + 1.5 * np.matmul(a.numpy().reshape(-1, RANK), b.numpy()).reshape(frozen.shape)
    np.testing.assert_allclose(_out(getattr(ours, name)), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_out(getattr(ours, name)), _out(getattr(theirs, name)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_enabled_lora_computes_keras_outputs_and_effective_kernel(keras, kind):
    assert_enabled_lora_as_keras(*_pair(keras, kind))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_lora_rank_argument_config_and_alpha_as_keras(keras, kind):
    ours, theirs, _ = _pair(keras, kind, lora_rank=RANK, lora_alpha=8)
    assert ours.lora_enabled and theirs.lora_enabled
    assert (ours.lora_rank, ours.lora_alpha) == (theirs.lora_rank, theirs.lora_alpha)   # Dense, Embedding: 2
    config = ours.get_config()
    assert {k: config[k] for k in ("lora_rank", "lora_alpha")} == \
        {k: theirs.get_config()[k] for k in ("lora_rank", "lora_alpha")}
    assert "lora_rank" not in getattr(layers, kind)(**KINDS[kind][0]).get_config()
    again = type(ours).from_config(config)
    again.build(KINDS[kind][1])
    assert again.lora_enabled and again.lora_alpha == ours.lora_alpha
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]


@pytest.mark.parametrize("backend_name", ["jax", "theano"])
def test_fit_trains_only_the_factors_as_keras(keras, require_backend, backend_name):
    from mlcore import config
    require_backend(backend_name)
    saved = dict(config._overrides)
    config.set_backend(backend_name)
    try:
        rng = np.random.default_rng(2)
        x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")
        ours = mlcore.Sequential([layers.Input((4,)), layers.Dense(3)])
        theirs = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3)])
        for model in (ours, theirs):
            model.layers[0].enable_lora(RANK)
        fit_factors_as_keras(keras, ours, theirs, x, y)
    finally:
        config._overrides.clear()
        config._overrides.update(saved)


def assert_files_merge_the_factors_both_ways(keras, tmp_path, make_layer, x):
    """make_layer(layers module, **options) with lora_rank=2 in a Sequential: its .keras file loads in Keras,
    Keras's loads here, the factors merged into the kernel (zero after loading); its weights file loads into
    the model without LoRA, and that model's back into it."""
    ours = mlcore.Sequential([layers.Input(x.shape[1:]), make_layer(layers, lora_rank=RANK)])
    _set_factors(ours.layers[0])
    ours.save(tmp_path / "ours.keras")
    loaded = keras.saving.load_model(tmp_path / "ours.keras")
    assert loaded.layers[0].lora_enabled
    np.testing.assert_allclose(_out(loaded(x)), _out(ours(x)), rtol=1e-5, atol=1e-6)

    theirs = keras.Sequential([keras.layers.Input(x.shape[1:]), make_layer(keras.layers, lora_rank=RANK)])
    _set_factors(theirs.layers[0])
    theirs.save(tmp_path / "theirs.keras")
    back = mlcore.saving.load_model(tmp_path / "theirs.keras")
    assert back.layers[0].lora_enabled
    assert all(not factor.numpy().any() for factor in back.layers[0].lora_factors())    # merged into the kernel
    np.testing.assert_allclose(_out(back(x)), _out(theirs(x)), rtol=1e-5, atol=1e-6)

    ours.save_weights(tmp_path / "ours.weights.h5")      # into a model without LoRA, and back
    plain = mlcore.Sequential([layers.Input(x.shape[1:]), make_layer(layers)])
    plain.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(_out(plain(x)), _out(ours(x)), rtol=1e-5, atol=1e-6)
    plain.layers[0].bias.assign(np.ones(plain.layers[0].bias.shape, "float32"))
    plain.save_weights(tmp_path / "plain.weights.h5")
    ours.load_weights(tmp_path / "plain.weights.h5")
    np.testing.assert_allclose(_out(ours(x)), _out(plain(x)), rtol=1e-5, atol=1e-6)


def test_keras_files_merge_the_factors_both_ways(keras, tmp_path):
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    assert_files_merge_the_factors_both_ways(keras, tmp_path, lambda module, **options: module.Dense(3, **options), x)


@pytest.mark.parametrize("kind,mode,order", [("Dense", "int8", "lora_first"), ("Dense", "int4", "quantize_first"),
                                             ("EinsumDense", "int8", "quantize_first"),
                                             ("Embedding", "int8", "lora_first"),
                                             ("Embedding", "int4", "quantize_first")])
def test_quantized_lora_outputs_and_saved_variables_as_keras(keras, kind, mode, order):
    ours, theirs, x = _pair(keras, kind)
    for layer in (ours, theirs):
        if order == "lora_first":
            layer.enable_lora(RANK)
            layer.quantize(mode)
        else:
            layer.quantize(mode)
            layer.enable_lora(RANK)
    _set_factors(ours)
    _copy(ours, theirs)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    np.testing.assert_allclose(_out(ours(x)), _out(theirs(x)), rtol=1e-5, atol=1e-5)
    store, keras_store = {}, {}
    ours.save_own_variables(store)
    theirs.save_own_variables(keras_store)
    assert sorted(store) == sorted(keras_store)
    for key in store:
        np.testing.assert_allclose(_out(store[key]), _out(keras_store[key]), rtol=1e-6, atol=1e-6, err_msg=key)


def test_model_quantize_keeps_the_factors_apart_as_keras(keras):
    ours = mlcore.Sequential([layers.Input((4,)), layers.Dense(3, lora_rank=RANK)])
    theirs = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3, lora_rank=RANK)])
    _set_factors(ours.layers[0])
    _copy(ours.layers[0], theirs.layers[0])
    ours.quantize("int8")
    theirs.quantize("int8")
    x = np.random.default_rng(4).normal(size=(5, 4)).astype("float32")
    assert ours.layers[0].lora_enabled and ours.layers[0].quantization_mode == "int8"
    np.testing.assert_allclose(_out(ours.predict(x, verbose=0)), _out(theirs.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_mixed_precision_layer_saves_its_merged_weight_in_the_compute_dtype_as_keras(keras, kind):
    """Under "mixed_float16" Keras's merged kernel (its kernel property) is float16, and so is what it saves;
    mlcore saves the same values in the same dtype, the bias staying float32."""
    ours, theirs, _ = _pair(keras, kind, lora_rank=RANK, dtype="mixed_float16")
    _set_factors(ours)
    _copy(ours, theirs)
    stores = ({}, {})
    ours.save_own_variables(stores[0])
    theirs.save_own_variables(stores[1])
    assert sorted(stores[0]) == sorted(stores[1])
    for key in stores[1]:
        theirs_value = np.asarray(stores[1][key])
        assert np.asarray(stores[0][key]).dtype == theirs_value.dtype, key
        np.testing.assert_allclose(np.asarray(stores[0][key], "float32"), theirs_value.astype("float32"), rtol=1e-3)
    assert np.asarray(stores[0]["0"]).dtype == np.float16


def test_errors_name_the_layer_and_the_cause():
    with pytest.raises(ValueError, match="isn't yet built"):
        layers.Dense(3).enable_lora(RANK)
    dense = layers.Dense(3, name="d")
    dense.build((None, 4))
    with pytest.raises(ValueError, match="rank must be a positive integer"):
        dense.enable_lora(0)
    dense.enable_lora(RANK)
    with pytest.raises(ValueError, match="already enabled.*'d'"):
        dense.enable_lora(RANK)
    constrained = layers.Embedding(5, 2, embeddings_constraint="non_neg", name="e")
    constrained.build()
    with pytest.raises(ValueError, match="incompatible with embedding constraints.*'e'"):
        constrained.enable_lora(RANK)
    float8 = layers.Dense(3, name="f8")
    float8.build((None, 4))
    float8.quantize("float8")
    float8.enable_lora(RANK)
    with pytest.raises(NotImplementedError, match="'f8'.*LoRA"):
        float8(np.ones((2, 4), "float32"))
    with pytest.raises(AttributeError, match="build the layer before accessing `kernel`"):
        layers.Dense(3).kernel


def test_gptq_layer_refuses_lora():
    from mlcore.quantizers import GPTQConfig
    dense = layers.Dense(3)
    dense.build((None, 4))
    dense.quantize("gptq", config=GPTQConfig(dataset=None, tokenizer=None, weight_bits=4, group_size=-1))
    with pytest.raises(NotImplementedError, match="GPTQ"):
        dense.enable_lora(RANK)
