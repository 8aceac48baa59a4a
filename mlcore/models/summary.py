"""model.summary(): the table Keras 3 prints (box-drawn columns, parameter totals)."""
import shutil
import textwrap

import numpy as np


def _format_shape(shape):
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _size(n_params, itemsize=4):
    size = float(n_params * itemsize)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return "%.2f %s" % (size, unit)
        size /= 1024


def _column_widths(positions, line_length):
    """Column widths from relative end positions; the 1 + n border characters come off the widest."""
    widths, current = [], 0
    for pos in positions:
        end = int(pos * line_length) if pos <= 1 else int(pos)
        widths.append(end - current)
        current = end
    excess = len(widths) + 1
    for _ in range(excess):
        widths[widths.index(max(widths))] -= 1
    return widths


def _rows(model, connected):
    from mlcore.layers.input_layer import InputLayer
    layers = model.layers
    rows = []
    for layer in layers:
        try:
            shape = _format_shape(layer.output_shape if not isinstance(layer, InputLayer) else layer.batch_shape)
        except AttributeError:
            shape = "?"
        row = ["%s (%s)" % (layer.name, type(layer).__name__), shape, "{:,}".format(layer.count_params())]
        if connected:
            sources = []
            for node in layer._inbound_nodes[:1]:
                for t in node.input_tensors:
                    src, node_index, k = t.tag["keras_history"]
                    sources.append("%s[%d][%d]" % (src.name, node_index, k))
            row.append(", ".join(sources) or "-")
        rows.append(row)
    return rows


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    from mlcore.models.sequential import Sequential
    connected = not isinstance(model, Sequential) and any(
        len(layer._inbound_nodes[0].input_tensors) > 1 for layer in model.layers if layer._inbound_nodes)
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
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = model.count_params()
    out += [" Total params: {:,} ({})".format(total, _size(total)),
            " Trainable params: {:,} ({})".format(trainable, _size(trainable)),
            " Non-trainable params: {:,} ({})".format(total - trainable, _size(total - trainable))]
    (print_fn or print)("\n".join(out))
