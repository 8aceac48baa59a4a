"""model.summary(): the table Keras 3 prints (box-drawn columns, parameter totals)."""
import re
import shutil
import textwrap

import numpy as np


def _format_shape(shape):
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _size(n_bytes):
    size = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return "%.2f %s" % (size, unit)
        size /= 1024


def _count_and_bytes(variables):
    counts = [int(np.prod(v.get_value(borrow=True).shape)) for v in variables]
    return sum(counts), sum(c * np.dtype(v.dtype).itemsize for c, v in zip(counts, variables))


def _center(text, width):
    """Centred as rich centres: an odd space left over goes to the right."""
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)


def _column_widths(positions, line_length):
    """Keras's columns as rich draws them: each column's share of line_length plus two padding spaces,
    less an even share (rounded as rich rounds) of what the padding and borders overflow."""
    cells, current = [], 0
    for pos in positions:
        end = int(pos * line_length) if pos <= 1 else int(pos)
        cells.append(end - current + 2)
        current = end
    excess = sum(cells) + len(cells) + 1 - line_length
    widths, remaining = [], len(cells)
    for cell in cells:
        cut = round(excess / remaining)
        widths.append(cell - cut)
        excess, remaining = excess - cut, remaining - 1
    return widths


def _sequential_like(model):
    """Keras's test for the short table: no two layer calls at the same depth from the outputs,
    no call with several inputs, no layer called twice."""
    from mlcore.models.functional import depths
    from mlcore.models.sequential import Sequential
    if isinstance(model, Sequential) or not model._nodes:
        return True
    node_depth, _ = depths(model._nodes)
    layers = [node.layer for node in model._nodes]
    return (len(set(node_depth.values())) == len(node_depth) and all(len(n.input_tensors) <= 1 for n in model._nodes)
            and len({id(layer) for layer in layers}) == len(layers))


def _summarized(model):
    """Keras's rows: a functional model's layers and the ops between them, a Sequential's or a subclassed
    model's layers."""
    from mlcore.models.sequential import Sequential
    return model._operations if model._nodes and not isinstance(model, Sequential) else model.layers


def _last_output_shape(model, layer):
    """Keras's: the output shape of the layer's last call in the model's graph (a Sequential built by a call
    on a batch of 8, then called on an Input, shows (None, ...)); else that of its build."""
    from mlcore.layers.base import shape_of
    model_nodes = {id(node) for node in model._nodes}
    calls = [node for node in layer._inbound_nodes if id(node) in model_nodes]
    return shape_of(calls[-1].outputs) if calls else layer.output_shape


def _layer_row(model, layer, connected, show_trainable, prefix=""):
    from mlcore.layers.input_layer import InputLayer
    from mlcore.models.functional import keras_class_name
    try:
        shape = _format_shape(layer.batch_shape if isinstance(layer, InputLayer) else _last_output_shape(model, layer))
    except AttributeError:
        shape = "?"
    kind = keras_class_name(layer)
    params = "{:,}".format(layer.count_params()) if layer.built else "0 (unbuilt)"
    row = ["%s%s (%s)" % (prefix, layer.name, kind), shape, params]
    if connected:
        model_nodes = {id(node) for node in model._nodes}
        sources = ["%s[%d][%d]" % (t.tag["keras_history"][0].name, t.tag["keras_history"][1],
                                   t.tag["keras_history"][2])
                   for node in layer._inbound_nodes if id(node) in model_nodes for t in node.input_tensors]
        row.append(", ".join(sources) or "-")
    if show_trainable:
        row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    return row


def _rows(model, layers, connected, show_trainable, expand_nested, level=0):
    """One row per layer; with expand_nested, a nested model's layers follow it, prefixed "└ " as Keras does."""
    rows = []
    for layer in layers:
        rows.append(_layer_row(model, layer, connected, show_trainable, "   " * level + "└ " if level else ""))
        nested = getattr(layer, "layers", None)
        if expand_nested and nested:
            rows += _rows(model, nested, connected, show_trainable, expand_nested, level + 1)
    return rows


def _layer_range(layers, layer_range):
    """Keras's layer_range: the first layer whose name matches the first pattern through the last
    matching the second (re.match), both included."""
    if layer_range is None:
        return layers
    if len(layer_range) != 2 or not all(isinstance(p, str) for p in layer_range):
        raise ValueError("layer_range must be a list or tuple of two strings. Received: layer_range = %s"
                         % (layer_range,))
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    ends = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not starts or not ends:
        raise ValueError("Passed layer_names do not match the layer names in the model. Received: %s"
                         % (layer_range,))
    return layers[min(starts):max(ends) + 1]


def _fit(line, width):
    """A wrapped line too long for its cell (one long word) cut with an ellipsis, as rich does."""
    return line if len(line) <= width else line[:width - 1] + "…"


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    connected = not _sequential_like(model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    default_length, positions = ((108, positions or [0.3, 0.56, 0.74, 1.0]) if connected
                                 else (88, positions or [0.45, 0.80, 1.0]))
    if show_trainable:          # Keras widens the table and gives the new column the last tenth
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers.append("Trainable")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(positions, line_length)
    align = [str.ljust, str.ljust, str.rjust] + [str.ljust] * connected + [_center] * show_trainable

    def render(cells):
        wrapped = [[_fit(line, w - 2) for line in textwrap.wrap(c, w - 2, break_on_hyphens=False,
                                                                 break_long_words=False)] or [""]
                   for c, w in zip(cells, widths)]
        lines = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for w, col, justify in zip(widths, wrapped, align):
                parts.append(" " + justify(col[k] if k < len(col) else "", w - 2) + " ")
            lines.append(parts)
        return lines

    def rule(left, mid, right_, fill):
        return left + mid.join(fill * w for w in widths) + right_

    out = ['Model: "%s"' % model.name, rule("┏", "┳", "┓", "━")]
    out += ["┃" + "┃".join(p) + "┃" for p in render(headers)]
    out.append(rule("┡", "╇", "┩", "━"))
    rows = _rows(model, _layer_range(_summarized(model), layer_range), connected, show_trainable, expand_nested)
    for i, row in enumerate(rows):
        out += ["│" + "│".join(p) + "│" for p in render(row)]
        out.append(rule("├", "┼", "┤", "─") if i < len(rows) - 1 else rule("└", "┴", "┘", "─"))
    trainable, trainable_bytes = _count_and_bytes(model.trainable_weights)
    frozen, frozen_bytes = _count_and_bytes(model.non_trainable_weights)
    optimizer = model.optimizer if getattr(model, "compiled", False) else None
    optimizer_built = getattr(optimizer, "built", False)
    slots, slot_bytes = _count_and_bytes(optimizer.variables) if optimizer_built else (0, 0)
    out += [" Total params: {:,} ({})".format(trainable + frozen + slots,
                                              _size(trainable_bytes + frozen_bytes + slot_bytes)),
            " Trainable params: {:,} ({})".format(trainable, _size(trainable_bytes)),
            " Non-trainable params: {:,} ({})".format(frozen, _size(frozen_bytes))]
    if optimizer_built:
        out.append(" Optimizer params: {:,} ({})".format(slots, _size(slot_bytes)))
    (print_fn or print)("\n".join(out))
