"""Attention, AdditiveAttention, MultiHeadAttention and EinsumDense (and the graph's einsum under them):
outputs and attention scores against Keras 3's own layers holding the same weights on every backend,
with the masks of Embedding(mask_zero=True), causal masks, attention masks and sliding windows;
gradients against finite differences and across backends; configs, signatures and errors; a small
model that learns a sequence task; and weight files and .keras archives read both ways with Keras 3.

All the layers are wired into one functional model, compiled into one function per backend (theano's
C compilation is the slow part)."""
import inspect

import numpy as np
import pytest

import mlcore
from mlcore import function, grad, layers
from mlcore import tensor as T
from mlcore.graph import ops
from mlcore.graph.basic import TensorType, clone
from mlcore.keras_masks import get_keras_mask
from test_conv_layers_more import (BACKENDS, assert_config_is_keras, assert_keras_archives_load_both_ways,
                                   assert_signature_is_keras)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # jax arrays' __array__ in Keras

TQ, TV, DIM, VOCAB = 5, 6, 4, 7


def tokens(rng, batch, steps):
    """Token ids padded with 0 at the end, at least one real step per row."""
    ids = rng.integers(1, VOCAB, size=(batch, steps))
    lengths = rng.integers(1, steps + 1, size=batch)
    return np.where(np.arange(steps) < lengths[:, None], ids, 0).astype("int32")


def attention_model(lib):
    """Every layer and call form under test, in one functional model of mlcore or Keras: masks come from
    Embedding(mask_zero=True) (and through a Dense for the key); x has no mask.  Each MultiHeadAttention
    gets tensors of its own: Keras's takes the masks off the tensors it is given."""
    L = lib.layers
    q_tokens, v_tokens = lib.Input((TQ,), dtype="int32"), lib.Input((TV,), dtype="int32")
    x, allowed = lib.Input((TQ, DIM)), lib.Input((TQ, TV), dtype="bool")

    def embedded(name):
        q = L.Embedding(VOCAB, DIM, mask_zero=True, name=name + "_q")(q_tokens)
        v = L.Embedding(VOCAB, DIM, mask_zero=True, name=name + "_v")(v_tokens)
        return q, v, L.Dense(DIM, name=name + "_k")(v)
    q, v, k = embedded("single")
    calls = [
        L.Attention(name="dot")([q, v], return_attention_scores=True),
        L.Attention(use_scale=True, name="scaled")([q, v, k], return_attention_scores=True, use_causal_mask=True),
        L.Attention(score_mode="concat", use_scale=True, name="concat")([q, v, k], return_attention_scores=True),
        L.AdditiveAttention(name="additive")([q, v, k], return_attention_scores=True),
        L.AdditiveAttention(use_scale=False, name="unscaled")([x, x], use_causal_mask=True,
                                                              return_attention_scores=True),
        L.MultiHeadAttention(2, 3, name="mha")(*embedded("mha")[:2], return_attention_scores=True),
        L.MultiHeadAttention(3, 2, value_dim=4, output_shape=5, use_bias=False, name="shaped")(
            *embedded("shaped"), return_attention_scores=True),
        L.MultiHeadAttention(2, 3, use_gate=True, name="gated")(*embedded("gated")[:1] * 2, use_causal_mask=True,
                                                               return_attention_scores=True),
        L.MultiHeadAttention(2, 2, sliding_window=2, name="windowed")(x, embedded("windowed")[1],
                                                                     attention_mask=allowed,
                                                                     return_attention_scores=True),
        [L.MultiHeadAttention(2, 3, name="causal")(x, x, use_causal_mask=True)],
    ]
    outputs = [t for call in calls for t in call]
    pooled = L.GlobalAveragePooling1D(name="pool")(calls[0][0])     # averages the query's real steps only
    return lib.Model([q_tokens, v_tokens, x, allowed], outputs + [pooled])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    return [tokens(rng, 3, TQ), tokens(rng, 3, TV), rng.standard_normal((3, TQ, DIM)).astype("float32"),
            rng.random((3, TQ, TV)) > 0.3]


@pytest.fixture(scope="module")
def models(keras):
    """(mlcore's model, Keras's twin), the same random weights in both (scales and biases too)."""
    rng = np.random.default_rng(11)
    theirs, ours = attention_model(keras), attention_model(mlcore)
    weights = [w + rng.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


@pytest.fixture(scope="module")
def expected(models, data):
    return [np.asarray(y) for y in models[1](data)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_and_scores_match_keras(require_backend, backend, models, data, expected):
    ours = models[0]
    results = function(ours.inputs, ours.outputs, backend=require_backend(backend))(*data)
    assert len(results) == len(expected) == 20
    for k, (mine, theirs) in enumerate(zip(results, expected)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=2e-5, err_msg="output %d" % k)


def test_weights_shapes_and_paths_are_keras(models):
    ours, theirs = models
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    mha = ours.get_layer("mha")
    assert tuple(mha.query_dense.kernel.shape) == (DIM, 2, 3) and tuple(mha.output_dense.kernel.shape) == (2, 3, DIM)


def test_masks_pass_as_keras_passes_them(models, data):
    """The output carries the query's mask; padded query steps of Attention give zeros; eager calls agree."""
    ours = models[0]
    q_mask = data[0] != 0
    dot = ours.get_layer("dot")
    embedded = ours.get_layer("single_q")(data[0]), ours.get_layer("single_v")(data[1])
    out, scores = dot(list(embedded), return_attention_scores=True)
    np.testing.assert_array_equal(get_keras_mask(out), q_mask)
    assert np.all(out[~q_mask] == 0) and np.allclose(scores.sum(-1), 1, atol=1e-6)
    assert np.all(scores.transpose(1, 0, 2)[:, data[1] == 0] < 1e-6)    # padded values get no weight
    mha_out = ours.get_layer("mha")(*embedded)
    np.testing.assert_array_equal(get_keras_mask(mha_out), q_mask)


def test_eager_calls_match_keras(keras):
    """layer(arrays) with explicit masks, keys, attention masks and training=False, against Keras's."""
    rng = np.random.default_rng(5)
    q, v, k = (rng.standard_normal((2, n, DIM)).astype("float32") for n in (TQ, TV, TV))
    q_mask, v_mask = rng.random((2, TQ)) > 0.3, np.arange(TV) < np.array([[3], [6]])
    for name, kwargs in [("Attention", dict(use_scale=True)), ("AdditiveAttention", dict())]:
        mine, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
        theirs([q, v, k])
        mine.build([q.shape, v.shape, k.shape])
        mine.set_weights([w + 0.5 for w in theirs.get_weights()])
        theirs.set_weights(mine.get_weights())
        for call in (dict(mask=[q_mask, v_mask]), dict(use_causal_mask=True, training=False)):
            np.testing.assert_allclose(mine([q, v, k], **call), theirs([q, v, k], **call), rtol=1e-5, atol=1e-5)
    mine, theirs = layers.MultiHeadAttention(2, 3), keras.layers.MultiHeadAttention(2, 3)
    theirs(q, v, k)
    mine.build(q.shape, v.shape, k.shape)
    mine.set_weights(theirs.get_weights())
    call = dict(value_mask=v_mask, key_mask=v_mask, attention_mask=rng.random((2, TQ, TV)) > 0.2,
                return_attention_scores=True)
    for a, b in zip(mine(q, v, k, **call), theirs(q, v, k, **call)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("attention_axes", [None, (1, 2), 2, (-2,)])
def test_multi_head_attention_over_other_axes_matches_keras(keras, attention_axes):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5)).astype("float32")
    mine, theirs = (lib.MultiHeadAttention(2, 3, attention_axes=attention_axes) for lib in (layers, keras.layers))
    theirs(x, x)
    mine.build(x.shape, x.shape)
    mine.set_weights(theirs.get_weights())
    for a, b in zip(mine(x, x, return_attention_scores=True), theirs(x, x, return_attention_scores=True)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert mine.attention_axes == theirs.attention_axes


@pytest.mark.parametrize("equation, output_shape, bias_axes, shape", [
    ("ab,bc->ac", 6, "c", (3, 5)),
    ("abc,cd->abd", (None, 6), "d", (3, 4, 5)),
    ("...x,xy->...y", 6, "y", (3, 4, 5)),
    ("abc,cde->abde", (None, 2, 3), "de", (3, 4, 5)),
    ("abcd,cde->abe", (None, 6), "e", (3, 4, 2, 5)),
    ("ab...,bc->ac...", 6, "c", (3, 5, 4, 2)),
    ("abc,cd->abd", (4, 6), "bd", (3, 4, 5)),
    ("abc,cd->abd", (None, 6), None, (3, 4, 5)),
])
def test_einsum_dense_matches_keras(keras, equation, output_shape, bias_axes, shape):
    x = np.random.default_rng(4).standard_normal(shape).astype("float32")
    theirs = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh",
                                      bias_initializer="random_normal")
    mine = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    expected = np.asarray(theirs(x))
    mine.build(x.shape)
    mine.set_weights(theirs.get_weights())
    np.testing.assert_allclose(mine(x), expected, rtol=1e-5, atol=1e-6)
    assert mine.compute_output_shape((None,) + shape[1:])[1:] == expected.shape[1:]
    ref = theirs.get_config()
    assert set(ref) == set(mine.get_config())
    assert {k: ref[k] for k in ("output_shape", "equation", "bias_axes", "activation")} == \
        {k: mine.get_config()[k] for k in ("output_shape", "equation", "bias_axes", "activation")}


def test_einsum_dense_initializes_as_keras():
    """Glorot's fans of a (dim, heads, key_dim) kernel are dim and heads * key_dim, as Keras counts them."""
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 16), bias_axes="de")
    layer.build((None, 5, 256))
    kernel = layer.kernel.get_value()
    assert abs(np.abs(kernel).max() - np.sqrt(6 / (256 + 128))) < 0.01 and np.all(layer.bias.get_value() == 0)


@pytest.mark.parametrize("equation, a, b", [
    ("abc,cde->abde", (2, 3, 4), (4, 2, 5)), ("aecd,abcd->acbe", (2, 6, 3, 4), (2, 5, 3, 4)),
    ("acbe,aecd->abcd", (2, 3, 5, 6), (2, 6, 3, 4)), ("...b,bc->...c", (2, 3, 4), (4, 5)),
    ("ab,cd->dab", (2, 3), (4, 5)), ("ab,bc->c", (2, 3), (3, 4)),
])
def test_einsum_matches_numpy_and_finite_differences(rng, equation, a, b):
    x, y = rng.normal(size=a), rng.normal(size=b)
    xs, ys = TensorType("float64", a)(), TensorType("float64", b)()
    np.testing.assert_allclose(function([xs, ys], ops.einsum(equation, xs, ys), backend="numpy")(x, y),
                               np.einsum(equation, x, y), rtol=1e-12)
    T.verify_grad(lambda p, q: ops.einsum(equation, p, q), [x, y], rng=rng)


@pytest.mark.parametrize("equation, message", [("abc,cd", "x,y->z"), ("aab,bc->ac", "does not fit"),
                                               ("abc,cd->abe", "output"), ("ab,cd->ab", "does not fit")])
def test_einsum_errors(equation, message):
    with pytest.raises(ValueError, match=message):
        ops.einsum(equation, TensorType("float32", (2, 3, 4))(), TensorType("float32", (4, 5))())


# --- gradients ---------------------------------------------------------------------------------------------
def gradient_cases():
    """(name, layer, call(layer, q, v)) with masks and causal masks in the graph."""
    q_mask = ops.as_tensor_variable(np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool))
    v_mask = ops.as_tensor_variable(np.array([[1, 1, 1, 0, 1], [1, 1, 0, 0, 0]], bool))
    return [
        ("attention", layers.Attention(use_scale=True), lambda l, q, v: l([q, v], mask=[q_mask, v_mask])),
        ("concat", layers.Attention(use_scale=True, score_mode="concat"),
         lambda l, q, v: l([q, v, v * 2.0], use_causal_mask=True)),
        ("additive", layers.AdditiveAttention(), lambda l, q, v: l([q, v], mask=[None, v_mask])),
        ("mha", layers.MultiHeadAttention(2, 3, value_dim=2, use_gate=True),
         lambda l, q, v: l(q, v, value_mask=v_mask, use_causal_mask=True)),
    ]


@pytest.mark.parametrize("case", range(4), ids=["attention", "concat", "additive", "mha"])
def test_gradients_match_finite_differences(floatx, rng, case):
    """The gradients with respect to the query, the value and every weight, in float64, by T.verify_grad:
    the layer's graph with those replaced by verify_grad's arguments."""
    floatx("float64")
    _, layer, call = gradient_cases()[case]
    q, v = TensorType("float64", (2, 4, 3))("q"), TensorType("float64", (2, 5, 3))("v")
    y = call(layer, q, v)
    weights = layer.weights
    for w in weights:
        w.set_value(w.get_value() + rng.normal(0, 0.3, w.shape))
    T.verify_grad(lambda *args: clone(y, dict(zip([q, v] + weights, args))),
                  [rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3))] + [w.get_value() for w in weights],
                  rng=rng)


@pytest.mark.parametrize("backend", ["jax", "theano"])
def test_gradients_agree_on_every_backend(require_backend, backend):
    backend = require_backend(backend)
    rng = np.random.default_rng(6)
    q, v = TensorType("float32", (None, 4, 3))("q"), TensorType("float32", (None, 5, 3))("v")
    made = gradient_cases()
    outputs = [call(layer, q, v) for _, layer, call in made]
    cost = sum((y * rng.normal(size=(2, 4, 3)).astype("float32")).sum() for y in outputs)
    wrt = [q, v] + [w for _, layer, _ in made for w in layer.trainable_weights]
    values = [rng.normal(size=(2, 4, 3)).astype("float32"), rng.normal(size=(2, 5, 3)).astype("float32")]
    reference = function([q, v], grad(cost, wrt), backend="numpy")(*values)
    for mine, ref in zip(function([q, v], grad(cost, wrt), backend=backend)(*values), reference):
        np.testing.assert_allclose(mine, ref, rtol=1e-4, atol=1e-5)


# --- configs, signatures, errors --------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("Attention", dict()), ("Attention", dict(use_scale=True, score_mode="concat", dropout=0.2, seed=3)),
    ("AdditiveAttention", dict(use_scale=False, dropout=0.1)),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3)),
    ("MultiHeadAttention", dict(num_heads=4, key_dim=2, value_dim=3, dropout=0.1, use_bias=False, output_shape=(7,),
                                attention_axes=(1,), sliding_window=3, use_gate=True, seed=1,
                                kernel_initializer="he_normal")),
])
def test_configs_are_keras_and_round_trip(keras, name, kwargs):
    assert_config_is_keras(keras, name, kwargs, getattr(layers, name)(**kwargs))
    theirs = getattr(keras.layers, name)(**kwargs).get_config()
    theirs.pop("dtype")
    assert getattr(layers, name).from_config(theirs).get_config()["name"] == theirs["name"]


def test_signatures_match_keras(keras):
    for name in ("Attention", "AdditiveAttention", "MultiHeadAttention"):
        assert_signature_is_keras(keras, name)
        ours = inspect.signature(getattr(layers, name).call).parameters
        theirs = inspect.signature(getattr(keras.layers, name).call).parameters
        assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]
    ours = list(inspect.signature(layers.EinsumDense).parameters.items())[:10]
    assert ours == list(inspect.signature(keras.layers.EinsumDense).parameters.items())[:10]


def test_input_errors_name_the_layer():
    q, v = TensorType("float32", (None, 4, 3))("q"), TensorType("float32", (None, 5, 2))("v")
    with pytest.raises(ValueError, match="must be called on a list"):
        layers.Attention()(q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layers.Attention()([q])
    with pytest.raises(ValueError, match=r"'att'.*query \(None, 4, 3\), value \(None, 5, 2\)"):
        layers.Attention(name="att")([q, v])
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="cosine")
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, 2.5)
    with pytest.raises(ValueError, match="except the last one"):
        layers.MultiHeadAttention(2, 2)(q, v, TensorType("float32", (None, 4, 2))())
    with pytest.raises(TypeError, match="'heads'.*query and a value"):
        layers.MultiHeadAttention(2, 2, name="heads")(q)
    with pytest.raises(ValueError, match="'proj'.*built for 3-d inputs"):
        projection = layers.EinsumDense("abc,cd->abd", (None, 4), name="proj")
        projection(q)
        projection(TensorType("float32", (None, 3))())
    with pytest.raises(ValueError, match="'bad'.*invalid einsum equation"):
        layers.EinsumDense("ab->b", 4, name="bad")(q)


# --- models that train, and files read both ways ------------------------------------------------------------
def classifier(lib):
    """Padded token sequences through self-attention (Keras masks all along) to one probability."""
    L = lib.layers
    ids = lib.Input((8,), dtype="int32")
    h = L.Embedding(VOCAB, 16, mask_zero=True, name="embed")(ids)
    h = L.MultiHeadAttention(2, 8, name="mha")(h, h)
    h = L.Attention(use_scale=True, name="att")([h, h])
    h = L.GlobalAveragePooling1D(name="pool")(h)
    return lib.Model(ids, L.Dense(1, activation="sigmoid", name="out")(h), name="classifier")


def lookup_model(lib):
    """A key-value lookup: the query token attends to the one key equal to it and reads that key's value."""
    L = lib.layers
    query, keys, values = lib.Input((1,), dtype="int32"), lib.Input((VOCAB - 1,), dtype="int32"), \
        lib.Input((VOCAB - 1, 1))
    embed = L.Embedding(VOCAB, 8, name="embed")
    h = L.MultiHeadAttention(2, 8, name="mha")(embed(query), values, embed(keys))
    return lib.Model([query, keys, values], L.Dense(1, name="out")(L.Flatten()(h)), name="lookup")


def lookups(rng, n):
    """Each row's keys are the tokens 1..VOCAB-1 shuffled, each with a value in [-1, 1]; the target is
    the value of the query's key."""
    keys = np.argsort(rng.random((n, VOCAB - 1)), axis=1).astype("int32") + 1
    pick = rng.integers(0, VOCAB - 1, size=n)
    values = rng.uniform(-1, 1, (n, VOCAB - 1, 1)).astype("float32")
    return [keys[np.arange(n), pick][:, None], keys, values], values[np.arange(n), pick]


def test_training_matches_keras(keras, numpy_backend):
    """From the same weights, fit's losses and the weights after it are Keras's."""
    x = tokens(np.random.default_rng(0), 64, 8)
    y = (x[:, :1] == x[:, 1:2]).astype("float32")
    model, theirs = classifier(mlcore), classifier(keras)
    model.set_weights(theirs.get_weights())
    for m in (model, theirs):
        m.compile(optimizer="adam", loss="binary_crossentropy")
    ours = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    ref = theirs.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    for a, b in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_model_learns_a_lookup(numpy_backend):
    rng = np.random.default_rng(0)
    x, y = lookups(rng, 512)
    model = lookup_model(mlcore)
    model.compile(optimizer=mlcore.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    x_test, y_test = lookups(rng, 256)
    assert model.evaluate(x_test, y_test, verbose=0) < 1e-3 * y_test.var()


@pytest.mark.parametrize("build", [classifier, lookup_model])
def test_weight_files_and_archives_read_both_ways(tmp_path, keras, numpy_backend, build):
    rng = np.random.default_rng(1)
    x = tokens(rng, 4, 8) if build is classifier else lookups(rng, 4)[0]
    model, theirs = build(mlcore), build(keras)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    expected = model.predict(x, verbose=0)
    for name in ("m.weights.h5", "m.h5"):
        model.save_weights(str(tmp_path / name))
        theirs.load_weights(str(tmp_path / name))
        np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), expected, rtol=1e-4, atol=1e-5)
        (theirs.save_weights if name.endswith(".weights.h5") else theirs.save)(str(tmp_path / ("k" + name)))
        fresh = build(mlcore)
        fresh.load_weights(str(tmp_path / ("k" + name)))
        np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    model.save(str(tmp_path / "full.h5"))
    np.testing.assert_allclose(mlcore.models.load_model(str(tmp_path / "full.h5")).predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    assert_keras_archives_load_both_ways(tmp_path, keras, model, theirs, x, expected)
