"""Where EinsumDense's quantization scales live, read off its equation as Keras 3 reads it.

An int8 EinsumDense quantizes its kernel over the dims the equation sums over (the kernel's letters
missing from the output) and its inputs likewise; each scale, kept with size-1 dims there, is then laid
out to broadcast against the output: transposed to the output's letter order, the summed dims placed
where the output has letters the tensor lacks, and dims left over squeezed.  Keras stores the kernel's
scale in that output layout, so mlcore computes the same permutations, including Keras's reuse of a
stale position when a tensor sums over more dims than the output has new letters (the shapes and saved
scales then still match Keras's)."""
import math
import re
import string
from collections import namedtuple

import numpy as np

from mlcore import ops

# reduced: the tensor's summed axes; transpose, expand, squeeze: the steps from its scale to the output's layout
ScaleLayout = namedtuple("ScaleLayout", "reduced transpose expand squeeze")
QuantizationLayout = namedtuple("QuantizationLayout", "inputs kernel")


def quantization_layout(equation, input_ndim):
    """The ScaleLayouts of an EinsumDense's inputs and kernel, for inputs of rank input_ndim."""
    input_spec, kernel_spec, output_spec = _full_specs(equation, input_ndim)
    index = output_spec.find(kernel_spec[-1])       # Keras's loop variable, reused when no new letter is left
    layouts = []
    for spec in (input_spec, kernel_spec):
        reduced = [i for i, c in enumerate(spec) if c not in output_spec]
        expand = [i for i, c in enumerate(output_spec) if c not in spec]
        transpose = [spec.index(c) for c in output_spec if c in spec]
        squeeze = []
        for axis in reduced:
            if expand:
                index = expand.pop(0)
            else:
                squeeze.append(axis)
            transpose.insert(index, axis)
        layouts.append(ScaleLayout(reduced, transpose, expand, squeeze))
    return QuantizationLayout(*layouts)


def _full_specs(equation, input_ndim):
    """(input, kernel, output) letters with "..." spelt out in unused letters."""
    spec = equation.replace("...", "0")
    for pattern, side in ((r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
                          (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
                          (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right")):
        match = re.match(pattern, spec)
        if match:
            break
    else:
        raise ValueError("Invalid einsum equation '%s'. Equations must be in the form [X],[Y]->[Z], "
                         "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...." % equation)
    input_spec, kernel_spec, output_spec = match.groups()
    if side is not None:
        free = "".join(c for c in string.ascii_letters if c not in input_spec + kernel_spec + output_spec)
        elided = free[:input_ndim - len(input_spec)]
        input_spec, output_spec = ((elided + input_spec, elided + output_spec) if side == "left" else
                                   (input_spec + elided, output_spec + elided))
    return input_spec, kernel_spec, output_spec


def to_output_layout(scale, layout):
    """A scale with size-1 dims at layout.reduced, laid out to broadcast against the output."""
    if layout.transpose:
        scale = ops.transpose(scale, layout.transpose)
    if layout.expand:
        scale = ops.expand_dims(scale, layout.expand)
    if layout.squeeze:
        scale = ops.squeeze(scale, layout.squeeze)
    return scale


def to_kernel_layout(scale, layout):
    """to_output_layout undone: the kernel's scale in the kernel's dims (to dequantize it)."""
    if layout.squeeze:
        scale = ops.expand_dims(scale, layout.squeeze)
    if layout.expand:
        scale = ops.squeeze(scale, layout.expand)
    if layout.transpose:
        scale = ops.transpose(scale, list(np.argsort(layout.transpose)))
    return scale


def scale_shape(shape, layout, layer):
    """The shape of the scale of a tensor of shape (None: any size) once laid out as the output: the kernel's
    int8 scale as Keras saves it.  An equation summing over more of a tensor's dims than the output has new
    letters leaves a dim that cannot be squeezed: Keras 3.15 fails there too, mlcore says why."""
    dims = [1 if i in layout.reduced else d for i, d in enumerate(shape)]
    dims = [dims[i] for i in layout.transpose]
    for axis in sorted(layout.expand):
        dims.insert(axis, 1)
    for axis in sorted(layout.squeeze, reverse=True):
        if dims[axis] != 1:
            raise ValueError("EinsumDense '%s' with equation '%s' cannot be quantized to int8: it sums over more dims "
                             "of a tensor than the output has dims that tensor lacks, so its scale cannot be laid out "
                             "as the output (Keras 3.15 fails on it too)" % (layer.name, layer.equation))
        dims.pop(axis)
    return tuple(dims)


def int4_matrix_shape(kernel_shape, layout):
    """(rows, columns) of the kernel as int4 quantizes it: the summed dims' size, the others'."""
    rows = math.prod(d for i, d in enumerate(kernel_shape) if i in layout.reduced)
    return rows, math.prod(kernel_shape) // rows
