"""keras.utils.model_to_dot and plot_model: a model's layers as the boxes and arrows of a Graphviz graph,
drawn as Keras 3 draws them (an HTML-like table per layer; nested models as dashed clusters).

pydot is optional, as for Keras: it is imported when a graph is made, and graphviz's `dot` program, which
renders the graph to a file, is only needed by plot_model."""
import os
import sys


def _pydot(function_name):
    """The pydot module, or Keras's ImportError naming the function that needs it."""
    try:
        import pydot
    except ImportError:
        raise ImportError("You must install pydot (`pip install pydot`) for %s to work." % function_name) from None
    return pydot


def _graphviz_missing(pydot):
    """Whether graphviz's `dot` cannot render (Keras's check: render an empty graph)."""
    try:
        pydot.Dot().create()
        return False
    except (OSError, pydot.PydotException):
        return True


def _first_call(layer):
    """The first call of the layer on Keras tensors, whose tensors Keras's layer.input and layer.output
    give. A subclassed model's own trace (how mlcore builds it; Keras records no call there) is skipped."""
    traced = layer._input_structure if getattr(layer, "_subclassed", False) else None
    calls = [node for node in layer._inbound_nodes if traced is None or node.inputs is not traced]
    return calls[0] if calls else None


def _shown(tensors, attribute):
    """One attribute of the tensors, as Keras shows layer.input's shape: one tensor's alone, several as a list,
    "?" where the layer was never called."""
    if tensors is None:
        return "?"
    values = [attribute(t) for t in tensors]
    return str(values[0] if len(values) == 1 else values)


def _activation_name(activation):
    return getattr(activation, "name", getattr(activation, "__name__", None)) or str(activation)


def _cell(text, colour="white", font_colour=None):
    font = '<font point-size="14"%s>' % (' color="%s"' % font_colour if font_colour else "")
    return '<td bgcolor="%s">%s%s</font></td>' % (colour, font, text)


def make_layer_label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes, show_trainable):
    """The HTML-like table Keras 3 draws for a layer: its name and class on black, then its activation,
    then one row of cells for the shapes, dtype and trainable flag asked for."""
    from mlcore.models.functional import keras_class_name
    class_name = keras_class_name(layer)
    colspan = max(1, 2 * show_shapes + show_dtype + show_trainable)
    title = "<b>%s</b> (%s)" % (layer.name, class_name) if show_layer_names else "<b>%s</b>" % class_name
    rows = ['<tr><td colspan="%d" bgcolor="black"><font point-size="16" color="white">%s</font></td></tr>'
            % (colspan, title)]
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        rows.append('<tr><td bgcolor="white" colspan="%d"><font point-size="14">Activation: <b>%s</b></font>'
                    '</td></tr>' % (colspan, _activation_name(layer.activation)))
    call = _first_call(layer)
    inputs, outputs = (call.input_tensors + call.keyword_tensors, call.output_tensors) if call else (None, None)
    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            cells.append(_cell("Input shape: <b>%s</b>" % _shown(inputs, lambda t: t.type.shape)))
        cells.append(_cell("Output shape: <b>%s</b>" % _shown(outputs, lambda t: t.type.shape)))
    if show_dtype:
        cells.append(_cell("Output dtype: <b>%s</b>" % _shown(outputs, lambda t: t.dtype)))
    if show_trainable and layer.weights:
        cells.append(_cell("<b>Trainable</b>", "forestgreen", "white") if layer.trainable
                     else _cell("<b>Non-trainable</b>", "firebrick", "white"))
    if cells:
        rows.append("<tr>%s</tr>" % "".join(cells))
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">%s</table>>' % "".join(rows)


def _make_node(pydot, layer, labels):
    """A layer's box, keyed by id(layer) as Keras keys it (a layer shared by two models is one box)."""
    node = pydot.Node(str(id(layer)), label=make_layer_label(layer, **labels))
    for key, value in (("fontname", "Helvetica"), ("border", "0"), ("margin", "0")):
        node.set(key, value)
    return node


def _add_edge(pydot, dot, source, destination):
    """An arrow between two layers' boxes, once however many tensors pass between them."""
    src, dst = str(id(source)), str(id(destination))
    if not dot.get_edge(src, dst):
        edge = pydot.Edge(src, dst)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _is_functional(model):
    from mlcore.models.functional import Model
    from mlcore.models.sequential import Sequential
    return isinstance(model, Model) and bool(model._nodes) and not isinstance(model, Sequential)


def _is_graph_model(layer):
    """A model drawn as its layers (Keras's Functional or Sequential), not as one box (a subclassed one)."""
    from mlcore.models.sequential import Sequential
    return isinstance(layer, Sequential) or _is_functional(layer)


def _output_maker(source, output_index):
    """The innermost layer that makes a nested model's output_index-th output (a model has no box of its own
    when expanded)."""
    while _is_graph_model(source):
        source, _, output_index = source.outputs[output_index].tag["keras_history"]
    return source


def _input_taker(destination, input_index):
    """The innermost layer that takes a nested model's input_index-th input: a functional model's InputLayer,
    a Sequential's first layer."""
    while _is_graph_model(destination):
        if _is_functional(destination):
            destination = destination.inputs[input_index].tag["keras_history"][0]
        else:
            destination = destination.layers[0]
    return destination


def _connect(pydot, dot, model, layers, expand_nested):
    """An arrow from the layer that made each input of each layer's calls in this model to that layer,
    reaching into nested models' boxes when they are expanded."""
    in_model = {id(node) for node in model._nodes} if _is_functional(model) else None
    for layer in layers:
        for node in layer._inbound_nodes:
            if in_model is not None and id(node) not in in_model:
                continue            # the layer's calls in other models
            for input_index, tensor in enumerate(node.input_tensors + node.keyword_tensors):
                if "keras_history" not in tensor.tag:
                    continue
                source, _, output_index = tensor.tag["keras_history"]
                if expand_nested:
                    source, destination = _output_maker(source, output_index), _input_taker(layer, input_index)
                else:
                    destination = layer
                _add_edge(pydot, dot, source, destination)


def _new_graph(pydot, model, subgraph, rankdir, dpi, splines):
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
        return dot
    dot = pydot.Dot()
    for key, value in (("rankdir", rankdir), ("concentrate", True), ("dpi", dpi), ("splines", splines)):
        dot.set(key, value)
    dot.set_node_defaults(shape="record")
    return dot


def _check_built(model):
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data. (model '%s')" % model.name)


def _check_kwargs(kwargs):
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError("Unrecognized keyword arguments: %s" % (kwargs,))


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """The model as a pydot.Dot (a pydot.Cluster with subgraph=True): one box per layer, an arrow per
    connection; a subclassed model is one box, and nested models are expanded into clusters on request."""
    from mlcore.models.sequential import Sequential
    _check_built(model)
    pydot = _pydot("model_to_dot")
    dot = _new_graph(pydot, model, subgraph, rankdir, dpi, splines)
    _check_kwargs(kwargs)
    labels = dict(show_layer_names=show_layer_names, show_layer_activations=show_layer_activations,
                  show_dtype=show_dtype, show_shapes=show_shapes, show_trainable=show_trainable)
    if not _is_graph_model(model):
        dot.add_node(_make_node(pydot, model, labels))
        return dot
    layers = model.layers if isinstance(model, Sequential) else model._operations
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            dot.add_subgraph(model_to_dot(layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                                          subgraph=True, show_layer_activations=show_layer_activations,
                                          show_trainable=show_trainable))
        else:
            dot.add_node(_make_node(pydot, layer, labels))
    if isinstance(model, Sequential) and not expand_nested:
        for source, destination in zip(layers, layers[1:]):
            _add_edge(pydot, dot, source, destination)
        return dot
    # a Sequential's first layer takes the model's input, whose arrow the enclosing graph draws
    _connect(pydot, dot, model, layers[1:] if isinstance(model, Sequential) else layers, expand_nested)
    return dot


def _in_notebook():
    """Keras prints plot_model's missing-dependency message in a notebook, so that its cells still run."""
    return "IPython.core.magics.namespace" in sys.modules


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               splines="ortho", **kwargs):
    """Draw model_to_dot's graph with graphviz into to_file, in the format its extension names (png when it
    has none: png, svg, pdf, dot...). Returns the image for a notebook to show, where IPython is installed."""
    _check_built(model)
    try:
        pydot = _pydot("`plot_model`")
        if _graphviz_missing(pydot):
            raise ImportError("You must install graphviz (see instructions at https://graphviz.gitlab.io/download/) "
                              "for `plot_model` to work.")
    except ImportError as error:
        if not _in_notebook():
            raise
        print(error)
        return None
    _check_kwargs(kwargs)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                       splines=splines)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    return _notebook_image(to_file, extension)


def _notebook_image(path, extension):
    """The written file as IPython shows it inline, where IPython is installed: an Image for the formats it
    embeds, an SVG for svg; None for the others (Keras 3.15 raises there, after writing the file)."""
    try:
        from IPython import display
    except ImportError:
        return None
    if extension in ("png", "jpg", "jpeg", "gif"):
        return display.Image(filename=path, format=extension)
    return display.SVG(filename=path) if extension == "svg" else None
