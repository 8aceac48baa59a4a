"""mlcore.saving against every Keras weights layout: files built with h5py exactly as each Keras version wrote
them, round trips, all-or-nothing loads and writes, Theano conversion checked by a forward pass, and real
Keras 3 reading mlcore's files and writing files for mlcore. Models are small fakes of the layer protocol."""
import os

import h5py
import numpy as np
import pytest

from mlcore.saving import load_weights, read_h5, save_weights


class Weight:
    def __init__(self, layer, name, shape, trainable=True):
        self.name, self.path, self.trainable = name, f"{layer}/{name}", trainable
        self.value = np.zeros(shape, np.float32)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)

    def get_value(self):
        return self.value.copy()

    def set_value(self, array):
        self.value = np.array(array, np.float32)


class Layer:
    def __init__(self, name, *shapes, **attrs):
        self.name = name
        self.weights = [Weight(name, n, s) for n, s in zip(("kernel", "bias"), shapes)]
        self.__dict__.update(attrs)


InputLayer = type("InputLayer", (Layer,), {})
Flatten = type("Flatten", (Layer,), {})
Dense = type("Dense", (Layer,), {})


class Conv2D(Layer):
    data_format = "channels_last"


class BatchNormalization(Layer):
    def __init__(self, name, n):
        super().__init__(name)
        self.weights = [Weight(name, w, (n,), w in ("gamma", "beta"))
                        for w in ("gamma", "beta", "moving_mean", "moving_variance")]


class Sequential:
    def __init__(self, name, layers):
        self.name, self.layers = name, layers

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]


def conv_model(bn=True, data_format="channels_last", flatten_shape=True):
    """conv1 3x3 2->3 on 6x6x2, [bn], flatten 48, fc1 48->4, fc2 4->2: the Keras model `keras_seq` builds."""
    shape = {"channels_last": (None, 4, 4, 3), "channels_first": (None, 3, 4, 4)}[data_format]
    layers = [Conv2D("conv1", (3, 3, 2, 3), (3,), data_format=data_format)]
    layers += [BatchNormalization("bn", 3)] if bn else []
    layers += [Flatten("flat", data_format=None, **({"input_shape": shape} if flatten_shape else {})),
               Dense("fc1", (48, 4), (4,)), Dense("fc2", (4, 2), (2,))]
    return Sequential("seq", layers)


def nested_model():
    inner = Sequential("inner", [BatchNormalization("in_bn", 4), Dense("in_d", (4, 3), (3,))])
    return Sequential("func", [InputLayer("x"), Dense("d0", (5, 4), (4,)), inner, Dense("d1", (3, 2), (2,))])


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.set_value(rng.uniform(0.5, 1.5, w.shape))
    return model


def values(model):
    return [w.get_value() for w in model.weights]


def assert_same(model, expected):
    assert len(model.weights) == len(expected)
    for w, e in zip(model.weights, expected):
        np.testing.assert_array_equal(w.get_value(), e, err_msg=w.path)


# ---- historical layouts, written with h5py as each Keras version wrote them ----

def write_legacy(group, layers, keras3=False, chunks=1):
    """layers: [(layer name, [(dataset name, array)])]. Keras 1/2 stored name lists as numpy bytes arrays
    (fixed-length strings); Keras 3 assigns Python lists of bytes (h5py makes them variable-length)."""
    def strings(names):
        encoded = [n.encode() for n in names]
        return np.asarray([]) if not names else encoded if keras3 else np.array(encoded)

    names = [n for n, _ in layers]
    if chunks == 1:
        group.attrs["layer_names"] = strings(names)
    for k, part in enumerate(np.array_split(np.array(names), chunks) if chunks > 1 else []):
        group.attrs[f"layer_names{k}"] = strings(list(part))
    for name, weights in layers:
        g = group.create_group(name)
        g.attrs["weight_names"] = strings([w for w, _ in weights])
        for w, array in weights:
            g.create_dataset(w, data=array)


def tf_arrays(model):
    """[(layer name, [arrays])] of the fake model, in Keras's (h, w, in, out) / (h, w, c) ordering."""
    return [(layer.name, [w.get_value() for w in layer.weights]) for layer in model.layers]


def to_theano(arrays, feature_shape=(4, 4, 3)):
    """The same network as Keras 1 on Theano with 'th' ordering stores it: conv kernels (out, in, h, w),
    flipped for true convolution; fc1 rows in (c, h, w) flatten order."""
    h, w, c = feature_shape
    out = dict(arrays)
    kernel, bias = out["conv1"]
    out["conv1"] = [kernel[::-1, ::-1].transpose(3, 2, 0, 1), bias]
    fc1, fc1_bias = out["fc1"]
    out["fc1"] = [fc1.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(fc1.shape), fc1_bias]
    return list(out.items())


def keras1_file(path, arrays, theano=False):
    suffixes = {"conv1": ["W", "b"], "bn": ["gamma", "beta", "running_mean", "running_std"],
                "fc1": ["W", "b"], "fc2": ["W", "b"], "flat": []}
    tag = "" if theano else "_1:0"  # Theano variables had no ":0"; TensorFlow's did
    layers = [(n, [(f"{n}_{s}{tag}", a) for s, a in zip(suffixes[n], arrs)]) for n, arrs in arrays]
    with h5py.File(path, "w") as f:
        write_legacy(f, layers)


def correlate(x, kernel):
    """Valid cross-correlation, x (H, W, in), kernel (h, w, in, out): what mlcore's Conv2D computes."""
    kh, kw = kernel.shape[:2]
    rows, cols = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    return sum(x[a:a + rows, b:b + cols] @ kernel[a, b] for a in range(kh) for b in range(kw))


def tf_forward(model, x_hwc):
    conv, fc1 = model.layers[0].weights, model.layers[-2].weights
    maps = correlate(x_hwc, conv[0].value) + conv[1].value
    if model.layers[0].data_format == "channels_first":  # maps (c, h, w) flattened as they are
        maps = maps.transpose(2, 0, 1)
    return maps.reshape(-1) @ fc1[0].value + fc1[1].value


def theano_forward(arrays, x_chw):
    """Keras 1 on Theano: true convolution of (c, h, w) maps by (out, in, h, w) filters; (c, h, w) flatten."""
    (kernel, bias), (fc1, fc1_bias) = dict(arrays)["conv1"], dict(arrays)["fc1"]
    kh, kw = kernel.shape[2:]
    rows, cols = x_chw.shape[1] - kh + 1, x_chw.shape[2] - kw + 1
    maps = sum(np.einsum("ipq,oi->opq", x_chw[:, a:a + rows, b:b + cols],
                         kernel[:, :, kh - 1 - a, kw - 1 - b]) for a in range(kh) for b in range(kw))
    return (maps + bias[:, None, None]).reshape(-1) @ fc1 + fc1_bias


def test_keras1_tf_file_loads_as_is(tmp_path):
    source = randomize(conv_model())
    keras1_file(tmp_path / "k1_tf.h5", tf_arrays(source))
    model = conv_model()
    load_weights(model, tmp_path / "k1_tf.h5")
    assert_same(model, values(source))
    assert read_h5(tmp_path / "k1_tf.h5").backend is None


@pytest.mark.parametrize("data_format, flatten_shape", [
    ("channels_last", True), ("channels_last", False), ("channels_first", True)])
def test_keras1_theano_file_converts_to_the_same_function(tmp_path, data_format, flatten_shape):
    source = randomize(conv_model(bn=False))
    theano = to_theano(tf_arrays(source))
    x = np.random.default_rng(1).normal(size=(6, 6, 2))
    np.testing.assert_allclose(theano_forward(theano, x.transpose(2, 0, 1)), tf_forward(source, x), rtol=1e-5)
    keras1_file(tmp_path / "k1_th.h5", theano, theano=True)
    model = conv_model(bn=False, data_format=data_format, flatten_shape=flatten_shape)
    load_weights(model, tmp_path / "k1_th.h5")
    np.testing.assert_allclose(tf_forward(model, x), theano_forward(theano, x.transpose(2, 0, 1)), rtol=1e-5)
    if data_format == "channels_last":  # flip and transpose are exact
        assert_same(model, values(source))
    with pytest.raises(ValueError, match=r"file has shape \(3, 2, 3, 3\), model expects \(3, 3, 2, 3\)"):
        load_weights(conv_model(bn=False), tmp_path / "k1_th.h5", conversion="none")


def test_keras1_param_layouts(tmp_path):
    source = randomize(conv_model())
    with h5py.File(tmp_path / "nb_layers.h5", "w") as f:
        f.attrs["nb_layers"] = len(source.layers)
        for k, layer in enumerate(source.layers):
            g = f.create_group(f"layer_{k}")
            g.attrs["nb_params"] = len(layer.weights)
            for p, w in enumerate(layer.weights):
                g.create_dataset(f"param_{p}", data=w.value)
    with h5py.File(tmp_path / "no_weight_names.h5", "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in source.layers])
        for layer in source.layers:
            g = f.create_group(layer.name)
            for p, w in enumerate(layer.weights):
                g.create_dataset(f"param_{p}", data=w.value)
    for name in ("nb_layers.h5", "no_weight_names.h5"):
        model = conv_model()
        load_weights(model, tmp_path / name)
        assert_same(model, values(source))


def keras2_file(path, model, backend, kernel=lambda k: k):
    with h5py.File(path, "w") as f:
        f.attrs.update(keras_version=b"2.1.6", backend=backend.encode(), model_config=b'{"class_name": "x"}')
        group = f.create_group("model_weights")
        group.attrs.update(keras_version=b"2.1.6", backend=backend.encode())
        layers = [(layer.name, [(f"{layer.name}/{w.name}:0", kernel(w.value) if w.value.ndim == 4
                                 else w.value) for w in layer.weights]) for layer in model.layers]
        write_legacy(group, layers, chunks=3)
        fc1 = group["fc1"]
        del fc1.attrs["weight_names"]
        fc1.attrs["weight_names0"], fc1.attrs["weight_names1"] = [b"fc1/kernel:0"], [b"fc1/bias:0"]


def test_keras2_chunked_full_model_file(tmp_path):
    source = randomize(conv_model())
    keras2_file(tmp_path / "k2.h5", source, "tensorflow")
    description = read_h5(tmp_path / "k2.h5")
    assert [e.name for e in description.layers] == ["conv1", "bn", "flat", "fc1", "fc2"]
    assert (description.backend, description.keras_version) == ("tensorflow", "2.1.6")
    model = conv_model()
    load_weights(model, tmp_path / "k2.h5")
    assert_same(model, values(source))


def test_keras2_theano_file_is_flipped_only(tmp_path):
    source = randomize(conv_model())
    keras2_file(tmp_path / "k2_th.h5", source, "theano", kernel=lambda k: k[::-1, ::-1])
    model = conv_model()
    load_weights(model, tmp_path / "k2_th.h5")
    assert_same(model, values(source))


def test_keras3_legacy_layout(tmp_path):
    source = randomize(conv_model())
    with h5py.File(tmp_path / "k3.h5", "w") as f:
        f.attrs.update(backend=b"jax", keras_version=b"3.15.1")
        write_legacy(f, [(layer.name, [(f"seq/{w.path}", w.value) for w in layer.weights])
                         for layer in source.layers], keras3=True)
        f.create_group("top_level_model_weights").attrs["weight_names"] = np.asarray([])
    model = conv_model()
    load_weights(model, tmp_path / "k3.h5")
    assert_same(model, values(source))


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
@pytest.mark.parametrize("make", [conv_model, nested_model])
def test_round_trip(tmp_path, suffix, make):
    source = randomize(make())
    save_weights(source, tmp_path / f"m{suffix}")
    model = make()
    load_weights(model, tmp_path / f"m{suffix}")
    assert_same(model, values(source))
    by_name = make()
    load_weights(by_name, tmp_path / f"m{suffix}", by_name=True)
    assert_same(by_name, values(source))


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_failed_write_keeps_the_old_file(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    save_weights(randomize(conv_model()), path)
    before = path.read_bytes()
    broken = randomize(conv_model(), seed=1)
    broken.layers[-1].weights[0].get_value = lambda: 1 / 0
    with pytest.raises(ZeroDivisionError):
        save_weights(broken, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_failed_load_changes_nothing_and_names_layer_and_shapes(tmp_path):
    save_weights(randomize(conv_model()), tmp_path / "m.h5")
    model = randomize(conv_model(), seed=2)
    model.layers[3] = Dense("fc1", (48, 5), (5,))
    model.layers[4] = Dense("fc2", (5, 2), (2,))
    before = values(model)
    with pytest.raises(ValueError) as err:
        load_weights(model, tmp_path / "m.h5")
    assert "Layer 'fc1' weight 'kernel': file has shape (48, 4), model expects (48, 5)" in str(err.value)
    assert "Layer 'fc2' weight 'kernel': file has shape (4, 2), model expects (5, 2)" in str(err.value)
    assert_same(model, before)
    with pytest.warns(UserWarning) as warned:
        load_weights(model, tmp_path / "m.h5", by_name=True, skip_mismatch=True)
    skipped = [str(w.message).rsplit("; ", 1)[1] for w in warned]
    assert skipped == ["skipping layer 'fc1'", "skipping layer 'fc2'"]
    assert not np.array_equal(model.layers[0].weights[0].value, before[0])  # conv1 loaded
    assert_same(Sequential("", model.layers[3:]), before[-4:])  # fc1 and fc2 skipped
    model = randomize(conv_model(), seed=2)
    model.layers[3] = Dense("fc1", (48, 5), (5,))
    before = values(model)
    with pytest.warns(UserWarning, match="skipping layer 'fc1'"):      # Keras 3: matched by order too
        load_weights(model, tmp_path / "m.h5", skip_mismatch=True)
    assert not np.array_equal(model.layers[0].weights[0].value, before[0])
    assert_same(Sequential("", model.layers[3:4]), before[-4:-2])


def test_native_files_match_layers_by_position_not_name(tmp_path):
    source = randomize(conv_model())
    save_weights(source, tmp_path / "m.weights.h5")
    renamed = conv_model()
    for layer in renamed.layers:
        layer.name = "other_" + layer.name
    load_weights(renamed, tmp_path / "m.weights.h5")
    assert_same(renamed, values(source))
    entries = read_h5(tmp_path / "m.weights.h5").layers
    assert [(e.path, e.name) for e in entries] == [
        ("layers/batch_normalization", "bn"), ("layers/conv2d", "conv1"),
        ("layers/dense", "fc1"), ("layers/dense_1", "fc2")]


def test_error_messages(tmp_path):
    save_weights(randomize(conv_model()), tmp_path / "m.h5")
    with pytest.raises(ValueError, match="the model has 3 layers with weights, the file has 4"):
        load_weights(conv_model(bn=False), tmp_path / "m.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="text.h5.* is not an HDF5 weights file"):
        load_weights(conv_model(), tmp_path / "text.h5")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        load_weights(conv_model(), tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="must end in"):
        save_weights(conv_model(), tmp_path / "m.npz")
    with h5py.File(tmp_path / "linked.h5", "w") as f:
        f.attrs["layer_names"] = [b"fc"]
        f["fc"] = h5py.ExternalLink("/etc/other.h5", "/")
    with pytest.raises(ValueError, match="Refusing ExternalLink"):
        read_h5(tmp_path / "linked.h5")


# ---- real Keras 3 ----

pytestmark_keras = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jax arrays' __array__ in Keras

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_seq(keras):
    L = keras.layers
    layers = [keras.Input((6, 6, 2)), L.Conv2D(3, 3, name="conv1"), L.BatchNormalization(name="bn"),
              L.Flatten(name="flat"), L.Dense(4, name="fc1"), L.Dense(2, name="fc2")]
    return keras.Sequential(layers, name="seq")


def keras_nested(keras):
    L = keras.layers
    inner = keras.Sequential([keras.Input((4,)), L.BatchNormalization(name="in_bn"), L.Dense(3, name="in_d")],
                             name="inner")
    x = keras.Input((5,), name="x")
    return keras.Model(x, L.Dense(2, name="d1")(inner(L.Dense(4, name="d0")(x))), name="func")


def keras_values(kmodel):
    return [np.asarray(w) for layer in kmodel.layers for w in layer.get_weights()]


@pytestmark_keras
@pytest.mark.parametrize("build, make", [(keras_seq, conv_model), (keras_nested, nested_model)])
def test_reads_files_keras_3_wrote(tmp_path, keras, build, make):
    from keras.src.legacy.saving import legacy_h5_format

    kmodel = build(keras)
    rng = np.random.default_rng(3)
    for w in kmodel.weights:
        w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))
    kmodel.save_weights(tmp_path / "k.weights.h5")
    kmodel.save(tmp_path / "k.keras")
    with h5py.File(tmp_path / "k.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, kmodel)
    legacy_h5_format.save_model_to_hdf5(kmodel, tmp_path / "full.h5")
    for name in ("k.weights.h5", "k.keras", "k.h5", "full.h5"):
        model = make()
        load_weights(model, tmp_path / name)
        assert_same(model, keras_values(kmodel))
    model = make()
    load_weights(model, tmp_path / "k.weights.h5", by_name=True)
    assert_same(model, keras_values(kmodel))


@pytestmark_keras
@pytest.mark.parametrize("build, make", [(keras_seq, conv_model), (keras_nested, nested_model)])
@pytest.mark.parametrize("name", ["m.weights.h5", "m.h5"])
def test_keras_3_reads_files_mlcore_wrote(tmp_path, keras, build, make, name):
    source = randomize(make())
    save_weights(source, tmp_path / name)
    kmodel = build(keras)
    kmodel.load_weights(tmp_path / name)
    for got, expected in zip(keras_values(kmodel), values(source), strict=True):
        np.testing.assert_array_equal(got, expected)
