"""InputSpec, as keras.layers.InputSpec: what a layer expects of its inputs (rank, dtype, shape, sizes of
given axes), checked by Layer.__call__ before the layer is built, with Keras's messages."""
import numpy as np

from mlcore.graph.basic import Variable
from mlcore.layers.structure import flatten


def _dtype_name(dtype):
    return np.dtype(getattr(dtype, "name", dtype)).name


class InputSpec:
    """Set as a layer's `input_spec` (one, or a list with one per input) in its __init__ or build."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = _dtype_name(dtype) if dtype is not None else None
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional, self.allow_last_axis_squeeze = name, optional, allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError, AttributeError):
            raise TypeError("Argument `axes` must be a dict with integer keys. Received: axes=%s" % (axes,)) from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError("Axis %d is greater than the maximum allowed value: %d" % (max(self.axes), max_dim))

    def __repr__(self):
        parts = [("%s=%s" % (key, value)) for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim), ("max_ndim", self.max_ndim),
            ("min_ndim", self.min_ndim), ("axes", self.axes)) if value]
        return "InputSpec(%s)" % ", ".join(parts)

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise Keras's ValueError where the inputs do not meet the spec (a dict of inputs is taken in the
    order of the specs' names)."""
    specs = flatten(input_spec)
    if isinstance(inputs, dict) and all(spec.name for spec in specs):
        missing = [spec.name for spec in specs if spec.name not in inputs]
        if missing:
            raise ValueError('Missing data for input "%s". You passed a data dictionary with keys %s. Expected the '
                             "following keys: %s" % (missing[0], list(inputs), [spec.name for spec in specs]))
        inputs = [inputs[spec.name] for spec in specs]
    inputs = flatten(inputs)
    names = [spec.name for spec in specs if spec is not None and spec.name]
    if len(inputs) != len(specs) and len(names) == len(specs):
        raise ValueError("Layer \"%s\" expects %d named input(s) with keys %s, but it received %d input tensors. Pass "
                         "inputs as a dict, e.g. `layer({%s})`." % (layer_name, len(specs), names, len(inputs),
                                                                 ", ".join("'%s': ..." % n for n in names)))
    if len(inputs) != len(specs):
        raise ValueError('Layer "%s" expects %d input(s), but it received %d input tensors. Inputs received: %s'
                         % (layer_name, len(specs), len(inputs), inputs))
    for index, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        _check(index, x, spec, layer_name)


def _check(index, x, spec, layer_name):
    if not isinstance(x, Variable) and not hasattr(x, "shape"):
        raise ValueError("Inputs to a layer should be tensors. Got '%s' (of type %s) as input for layer '%s'."
                         % (x, type(x), layer_name))
    shape = tuple(x.type.shape) if isinstance(x, Variable) else tuple(np.shape(x))
    ndim = len(shape)
    where = "Input %d with name '%s' of layer '%s' is incompatible with the layer: " % (index, spec.name, layer_name)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(where + "expected ndim=%d, found ndim=%d. Full shape received: %s" % (spec.ndim, ndim, shape))
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(where + "expected max_ndim=%d, found ndim=%d" % (spec.max_ndim, ndim))
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(where + "expected min_ndim=%d, found ndim=%d. Full shape received: %s"
                         % (spec.min_ndim, ndim, shape))
    if spec.dtype is not None and _dtype_name(x.dtype) != spec.dtype:
        raise ValueError(where + "expected dtype=%s, found dtype=%s" % (spec.dtype, _dtype_name(x.dtype)))
    for axis, value in spec.axes.items():
        if value is not None and shape[axis] not in (value, None):
            raise ValueError(where + "expected axis %d of input shape to have value %s, but received input with "
                             "shape %s" % (axis, value, shape))
    if spec.shape is not None:
        spec_shape, given = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            given = given[:-1] if given and given[-1] == 1 else given
            spec_shape = spec_shape[:-1] if spec_shape and spec_shape[-1] == 1 else spec_shape
        if any(s is not None and d is not None and s != d for s, d in zip(spec_shape, given)):
            raise ValueError(where + "expected shape=%s, found shape=%s" % (spec.shape, given))
