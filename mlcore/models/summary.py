"""model.summary(): the table Keras 3 prints (box-drawn columns, parameter totals)."""
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


def _rows(model, connected):
    from mlcore.layers.input_layer import InputLayer
    from mlcore.models.functional import Model
    model_nodes = {id(node) for node in model._nodes}
    rows = []
    for layer in model.layers:
        try:
            shape = _format_shape(layer.output_shape if not isinstance(layer, InputLayer) else layer.batch_shape)
        except AttributeError:
            shape = "?"
        kind = "Functional" if type(layer) is Model else type(layer).__name__     # Keras 3's class name
        row = ["%s (%s)" % (layer.name, kind), shape, "{:,}".format(layer.count_params())]
        if connected:
            sources = ["%s[%d][%d]" % (t.tag["keras_history"][0].name, t.tag["keras_history"][1],
                                       t.tag["keras_history"][2])
                       for node in layer._inbound_nodes if id(node) in model_nodes for t in node.input_tensors]
            row.append(", ".join(sources) or "-")
        rows.append(row)
    return rows


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    connected = not _sequential_like(model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    default_length, default_positions = (108, [0.3, 0.56, 0.74, 1.0]) if connected else (88, [0.45, 0.80, 1.0])
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(positions or default_positions, line_length)
    right = {2}

    def render(cells):
        wrapped = [textwrap.wrap(c, w - 2, break_on_hyphens=False) or [""] for c, w in zip(cells, widths)]
        lines = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for i, (w, col) in enumerate(zip(widths, wrapped)):
                text = col[k] if k < len(col) else ""
                parts.append(" " + (text.rjust(w - 2) if i in right else text.ljust(w - 2)) + " ")
            lines.append(parts)
        return lines

    def rule(left, mid, right_, fill):
        return left + mid.join(fill * w for w in widths) + right_

    out = ['Model: "%s"' % model.name, rule("┏", "┳", "┓", "━")]
    out += ["┃" + "┃".join(p) + "┃" for p in render(headers)]
    out.append(rule("┡", "╇", "┩", "━"))
    rows = _rows(model, connected)
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
