"""Autocasting (Keras 3's AutocastScope): while a scope of a float dtype is open, every op built reads
the float variables marked autocast (layers' weights) as cast(variable, dtype).

This is what mixed precision rests on.  A layer whose policy computes in float16 but keeps float32
weights ("mixed_float16") builds its call() inside a float16 scope, so the call, written once for any
dtype, multiplies float16 inputs by float16 views of its float32 weights.  The view is a Cast node in
the graph: gradients flow back through it to the float32 variable, in float32 (an elementwise op's
pullback gives each input a gradient of its own dtype), and the optimizer updates the float32
variable, as under Keras's scope, where reading Variable.value casts.  The one door every node goes through is Op.__call__, so no layer or op needs to know; with no
scope open it costs Op.__call__ one test, and the graph is exactly what it was.
"""
import numpy as np

_scopes = []        # the open AutocastScopes, innermost last


def get_autocast_scope():
    """The innermost open AutocastScope, or None."""
    return _scopes[-1] if _scopes else None


def autocast_dtype():
    """The dtype autocast variables are read in now, or None (no scope, or one that turns it off)."""
    return _scopes[-1].dtype if _scopes else None


class AutocastScope:
    """with AutocastScope("float16"): ops built inside read autocast float variables in float16;
    AutocastScope(None) turns autocasting off inside an outer scope."""

    def __init__(self, dtype):
        from mlcore.graph.ops.common import is_float_dtype
        if dtype is not None and not is_float_dtype(dtype):
            raise ValueError("`AutocastScope` can only be used with a floating-point target dtype, such as "
                             "'float16'. Received: dtype=%s" % dtype)
        self.dtype = None if dtype is None else np.dtype(dtype).name

    def __enter__(self):
        _scopes.append(self)
        return self

    def __exit__(self, *exc_info):
        _scopes.pop()


def autocast_inputs(inputs):
    """An op's inputs, each autocast float variable replaced by its view in the scope's dtype."""
    dtype = autocast_dtype()
    if dtype is None:
        return list(inputs)
    return [_view(x, dtype) if getattr(x, "autocast", False) and x.dtype != dtype else x for x in inputs]


def _view(variable, dtype):
    from mlcore.graph.ops.common import is_float_dtype
    from mlcore.graph.ops.elemwise import Cast
    if not is_float_dtype(variable.dtype):
        return variable
    return Cast(dtype).make_node(variable).outputs[0]   # make_node: Op.__call__ would come back here
