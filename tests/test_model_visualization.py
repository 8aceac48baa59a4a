"""keras.utils.model_to_dot and plot_model: the same model built with Keras 3 and with mlcore gives the same
Graphviz source (node ids, which both take from id(layer), renumbered), and plot_model renders it with
graphviz's `dot` or fails with Keras's errors."""
import re
import shutil
import sys
import types

import numpy as np
import pytest

import mlcore

pydot = pytest.importorskip("pydot")
pytestmark = pytest.mark.usefixtures("numpy_backend")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program is not installed")


def normalized(dot):
    """The dot source with each node id (a long number: id(layer)) replaced by its order of appearance."""
    ids = {}
    return re.sub(r"\b\d{9,}\b", lambda m: "node%d" % ids.setdefault(m.group(), len(ids)), dot.to_string())


# --- the same models, built from either library (k is keras or mlcore) ---------------------------------------
def sequential(k):
    L = k.layers
    return k.Sequential([k.Input((8,)), L.Dense(4, activation="relu"), L.Dropout(0.5),
                         L.Dense(1, activation="sigmoid")])


def frozen_first_layer(k):
    model = sequential(k)
    model.layers[0].trainable = False
    return model


def built_later(k):
    model = k.Sequential([k.layers.Dense(3), k.layers.Dense(2)])
    model.build((None, 5))
    return model


def convnet(k):
    L = k.layers
    return k.Sequential([k.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                         L.Dense(10, activation="softmax")])


def activations(k):
    L = k.layers
    return k.Sequential([k.Input((4,)), L.Dense(3), L.Activation("tanh"), L.ReLU(),
                         L.Dense(2, activation=k.activations.gelu)])


def two_inputs_two_outputs(k):
    """A layer shared by two branches, a merge, and two heads."""
    L = k.layers
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    shared = L.Dense(2, name="shared")
    x = L.Concatenate()([shared(a), shared(L.Dense(4)(b))])
    return k.Model([a, b], [L.Dense(1, name="o1")(x), L.Dense(2, name="o2")(x)])


def nested_models(k):
    L = k.layers
    inner_seq = k.Sequential([k.Input((4,)), L.Dense(3, name="i1"), L.Dense(3, name="i2")], name="inner_seq")
    fin = k.Input((3,), name="fin")
    inner_fun = k.Model(fin, L.Dense(2, name="f1")(fin), name="inner_fun")
    x = k.Input((4,), name="x")
    return k.Model(x, L.Dense(1, name="out")(inner_fun(inner_seq(x))))


def nested_two_inputs(k):
    """A nested model's second input comes straight from an outer Input: the arrows go to its InputLayers."""
    L = k.layers
    p, q = k.Input((3,), name="p"), k.Input((2,), name="q")
    inner = k.Model([p, q], L.Dense(2, name="id")(L.Concatenate(name="ic")([p, q])), name="inner")
    a, b = k.Input((3,), name="a"), k.Input((2,), name="b")
    return k.Model([a, b], L.Dense(1, name="out")(inner([L.Dense(3, name="da")(a), b])))


def model_called_twice(k):
    L = k.layers
    fin = k.Input((3,), name="fin")
    encoder = k.Model(fin, L.Dense(2, name="f1")(fin), name="encoder")
    a, b = k.Input((3,), name="a"), k.Input((3,), name="b")
    return k.Model([a, b], L.Subtract()([encoder(a), encoder(b)]))


def sequential_in_sequential(k):
    L = k.layers
    inner = k.Sequential([k.Input((4,)), L.Dense(3), L.Dense(3)], name="inner")
    return k.Sequential([k.Input((4,)), inner, L.Dense(2)])


def three_levels(k):
    L = k.layers
    level2 = k.Sequential([k.Input((4,)), L.Dense(4, name="a1")], name="level2")
    level1 = k.Sequential([k.Input((4,)), level2, L.Dense(3, name="b1")], name="level1")
    x = k.Input((4,), name="x")
    return k.Model(x, L.Dense(1, name="out")(level1(x)))


def _subclassed_class(k):
    class Subclassed(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = k.layers.Dense(2)

        def call(self, x):
            return self.dense(x)
    return Subclassed


def subclassed(k):
    """Drawn as one box; Keras knows no shapes for it (it never called it on Keras tensors)."""
    model = _subclassed_class(k)(name="subclassed")
    model.build((None, 4))
    return model


def subclassed_inside_functional(k):
    x = k.Input((4,), name="x")
    return k.Model(x, k.layers.Dense(1, name="out")(_subclassed_class(k)(name="subclassed")(x)))


def lstm_states(k):
    """A layer with three outputs, and a call with keyword tensors (initial_state)."""
    L = k.layers
    x = k.Input((5, 3), name="seq")
    out, h, c = L.LSTM(4, return_state=True, name="encoder")(x)
    return k.Model(x, L.LSTM(4, name="decoder")(L.RepeatVector(2)(out), initial_state=[h, c]))


def embedding(k):
    L = k.layers
    x = k.Input((6,), dtype="int32", name="tokens")
    return k.Model(x, L.Dense(1, name="d")(L.GlobalAveragePooling1D(name="g")(L.Embedding(10, 4, name="e")(x))))


def fitted(k):
    """Training calls the layers again; the drawing is the same."""
    model = sequential_in_sequential(k)
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)
    return model


ALL = dict(show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True)
CASES = [
    (sequential, {}), (sequential, ALL),
    (sequential, dict(show_layer_names=False, rankdir="LR", dpi=96, splines="curved")),
    (frozen_first_layer, dict(show_trainable=True)), (built_later, dict(show_shapes=True)),
    (convnet, ALL), (activations, dict(show_layer_activations=True)),
    (two_inputs_two_outputs, dict(show_shapes=True, show_dtype=True)), (two_inputs_two_outputs, dict(subgraph=True)),
    (nested_models, dict(show_shapes=True)), (nested_models, dict(expand_nested=True, show_shapes=True)),
    (nested_two_inputs, {}), (nested_two_inputs, dict(expand_nested=True)),
    (model_called_twice, dict(show_shapes=True)), (model_called_twice, dict(expand_nested=True)),
    (sequential_in_sequential, {}), (sequential_in_sequential, dict(expand_nested=True)),
    (three_levels, {}), (three_levels, dict(expand_nested=True)),
    (subclassed, dict(show_shapes=True, show_dtype=True)),
    (subclassed_inside_functional, dict(show_shapes=True, expand_nested=True)),
    (lstm_states, dict(show_shapes=True, show_dtype=True)), (embedding, ALL),
    (fitted, dict(expand_nested=True, show_shapes=True)),
]


def _built(k, build):
    k.utils.clear_session()         # the same automatic names (dense, dense_1, input_layer...) in both
    return build(k)


@pytest.mark.parametrize("build, options", CASES,
                         ids=["%s-%s" % (b.__name__, "-".join(o) or "defaults") for b, o in CASES])
def test_model_to_dot_equals_keras(keras, build, options):
    expected = normalized(keras.utils.model_to_dot(_built(keras, build), **options))
    dot = mlcore.utils.model_to_dot(_built(mlcore, build), **options)
    assert isinstance(dot, pydot.Cluster if options.get("subgraph") else pydot.Dot)
    assert normalized(dot) == expected


def test_a_label_shows_what_is_asked():
    """One layer's table read back: its title, activation, shapes, dtype and trainable cells."""
    mlcore.utils.clear_session()
    dot = mlcore.utils.model_to_dot(convnet(mlcore), **ALL)
    conv = next(node for node in dot.get_nodes() if "(Conv2D)" in (node.get("label") or ""))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", conv.get("label"))
    text = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
    assert text == ["conv2d (Conv2D)", "Activation: relu", "Input shape: (None, 28, 28, 1)",
                    "Output shape: (None, 26, 26, 8)", "Output dtype: float32", "Trainable"]
    edges = [(e.get_source(), e.get_destination()) for e in dot.get_edges()]
    assert len(edges) == 3 and all(dst == src2 for (_, dst), (src2, _) in zip(edges, edges[1:]))


def test_ops_between_layers_are_boxes_as_keras_draws_them(keras):
    """Each op applied to Keras tensors (relu, *) is a box of its own, named and typed as Keras's."""
    chains = {}
    for k in (keras, mlcore):
        k.utils.clear_session()
        inputs = k.Input((4,), name="x")
        hidden = k.ops.relu(k.layers.Dense(3, name="d1")(inputs)) * 2
        dot = k.utils.model_to_dot(k.Model(inputs, k.layers.Dense(1, name="d2")(hidden)))
        titles = {node.get_name(): re.search(r"<b>(.*?)</b> \((\w+)\)", node.get("label")).groups()
                  for node in dot.get_nodes() if node.get("label")}
        edges = dot.get_edges()
        chains[k.__name__] = [titles[e.get_source()] for e in edges] + [titles[edges[-1].get_destination()]]
    assert chains["mlcore"] == chains["keras"] == [("x", "InputLayer"), ("d1", "Dense"), ("relu", "Relu"),
                                                   ("multiply", "Multiply"), ("d2", "Dense")]


def test_unbuilt_model_and_bad_arguments(keras):
    for k in (keras, mlcore):
        with pytest.raises(ValueError, match="not yet been built"):
            k.utils.model_to_dot(k.Sequential([k.layers.Dense(2)]))
        with pytest.raises(ValueError, match="not yet been built"):
            k.utils.plot_model(k.Sequential([k.layers.Dense(2)]))
        model = _built(k, sequential)
        with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
            k.utils.model_to_dot(model, layer_range=["dense", "dense_1"])
        with pytest.raises(ValueError, match="Unrecognized keyword arguments: {'show_names': True}"):
            k.utils.model_to_dot(model, show_names=True)


@pytest.fixture
def outside_notebook(monkeypatch):
    """Keras (and mlcore) take a loaded IPython magics module for a notebook, where plot_model prints its
    ImportError instead of raising it; some test plugins load that module."""
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)


def _keras_message(call):
    with pytest.raises(ImportError) as error:
        call()
    return str(error.value)


def test_without_pydot(keras, monkeypatch, outside_notebook):
    """pydot is optional: without it, both functions raise Keras's ImportError."""
    import keras.src.utils.model_visualization as keras_visualization
    monkeypatch.setattr(keras_visualization, "pydot", None)
    monkeypatch.setitem(sys.modules, "pydot", None)      # `import pydot` now fails
    keras_model, model = _built(keras, sequential), _built(mlcore, sequential)
    for function in ("model_to_dot", "plot_model"):
        expected = _keras_message(lambda: getattr(keras.utils, function)(keras_model))
        assert "pip install pydot" in expected
        assert _keras_message(lambda: getattr(mlcore.utils, function)(model)) == expected


def test_without_graphviz(keras, monkeypatch, tmp_path, outside_notebook):
    """No `dot` program on the PATH: plot_model raises Keras's ImportError and writes nothing."""
    monkeypatch.setenv("PATH", str(tmp_path))
    target = tmp_path / "model.png"
    expected = _keras_message(lambda: keras.utils.plot_model(_built(keras, sequential), to_file=target))
    assert "You must install graphviz" in expected
    assert _keras_message(lambda: mlcore.utils.plot_model(_built(mlcore, sequential), to_file=target)) == expected
    assert not target.exists()
    assert mlcore.utils.model_to_dot(_built(mlcore, sequential)).to_string().startswith("digraph")


def test_without_graphviz_in_a_notebook(keras, monkeypatch, tmp_path, capsys):
    """In IPython, Keras prints the message instead, so that a notebook's other cells still run."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "IPython.core.magics.namespace", types.ModuleType("namespace"))
    assert keras.utils.plot_model(_built(keras, sequential)) is None
    expected = capsys.readouterr().out
    assert mlcore.utils.plot_model(_built(mlcore, sequential)) is None
    assert capsys.readouterr().out == expected and "You must install graphviz" in expected


@needs_dot
def test_plot_model_writes_a_png_as_keras_does(keras, tmp_path):
    """The tutorials' call: a real PNG, of the same size as Keras's drawing of the same model."""
    from PIL import Image
    keras.utils.plot_model(_built(keras, nested_models), tmp_path / "keras.png", show_shapes=True)
    mlcore.utils.plot_model(_built(mlcore, nested_models), str(tmp_path / "model.png"), show_shapes=True)
    data = (tmp_path / "model.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(tmp_path / "model.png") as image, Image.open(tmp_path / "keras.png") as keras_image:
        image.load()
        assert image.format == "PNG" and image.size == keras_image.size
        assert len(np.unique(np.asarray(image.convert("L")))) > 2          # drawn, not blank


@needs_dot
def test_plot_model_dpi_and_direction(tmp_path):
    model = _built(mlcore, sequential)
    sizes = {}
    for name, options in (("tall", {}), ("low_dpi", dict(dpi=100)), ("wide", dict(rankdir="LR"))):
        mlcore.utils.plot_model(model, tmp_path / (name + ".png"), **options)
        from PIL import Image
        with Image.open(tmp_path / (name + ".png")) as image:
            sizes[name] = image.size
    assert sizes["low_dpi"][0] * 2 == pytest.approx(sizes["tall"][0], abs=2)
    assert sizes["tall"][1] > sizes["tall"][0] and sizes["wide"][0] > sizes["wide"][1]


@needs_dot
def test_plot_model_format_from_extension(tmp_path):
    model = _built(mlcore, two_inputs_two_outputs)
    for name, start in (("model.svg", b"<?xml"), ("model.pdf", b"%PDF"), ("model", b"\x89PNG")):
        mlcore.utils.plot_model(model, tmp_path / name)
        assert (tmp_path / name).read_bytes().startswith(start)
    assert b"<svg" in (tmp_path / "model.svg").read_bytes()
    mlcore.utils.plot_model(model, tmp_path / "model.dot", show_layer_names=True)
    written, = pydot.graph_from_dot_file(str(tmp_path / "model.dot"))
    labels = [node.get("label") or "" for node in written.get_nodes()]     # "node" holds the defaults
    names = sorted(re.search(r"<b>(\w+)</b>", label).group(1) for label in labels if "<b>" in label)
    assert names == ["a", "b", "concatenate", "dense", "o1", "o2", "shared"]
    assert len(written.get_edges()) == 6
    assert all(node.get("pos") for node in written.get_nodes() if node.get_name() not in ("node", "graph"))  # laid out


@needs_dot
def test_plot_model_returns_what_a_notebook_shows(tmp_path):
    display = pytest.importorskip("IPython.display")
    model = _built(mlcore, sequential)
    assert isinstance(mlcore.utils.plot_model(model, tmp_path / "m.png"), display.Image)
    assert isinstance(mlcore.utils.plot_model(model, tmp_path / "m.jpg"), display.Image)
    assert isinstance(mlcore.utils.plot_model(model, tmp_path / "m.svg"), display.SVG)
    assert mlcore.utils.plot_model(model, tmp_path / "m.pdf") is None


def test_keras2_vis_utils_spelling():
    from mlcore.utils import vis_utils
    assert vis_utils.plot_model is mlcore.utils.plot_model and vis_utils.model_to_dot is mlcore.utils.model_to_dot
