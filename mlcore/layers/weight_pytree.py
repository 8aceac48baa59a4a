"""Weights as jax pytrees, so that `jax.jit(step)(model.trainable_variables)` gets their values.

Keras's guide "Writing a training loop from scratch in JAX" hands model.trainable_variables,
optimizer.variables and metric.variables straight to a jitted step.  Keras's variables relied on
`__jax_array__` for that, which jax (0.7 and later) no longer honours for arguments: it asks for a
pytree.  mlcore registers each Weight class as a pytree node whose one leaf is the value it holds
(the backend's array, a jax array on its device after a jax run).  Unflattened, the node is that
leaf itself: inside a traced function there is no shared variable of mlcore's graph to stand for,
only values, so the step gets and returns plain arrays, which the guide assign()s back.

mlcore does not import jax itself (it takes longer than mlcore's own import), so the classes are
registered the first time a Weight is made once jax has been imported by anyone; mlcore's jax
backend then sets jax up as its graphs need, before a jitted step is traced.
"""
import sys

_registered = set()


def register_with_jax(weight_class):
    """Register weight_class and all its subclasses with jax's pytrees, if jax has been imported."""
    tree_util = sys.modules.get("jax.tree_util")
    if tree_util is None:
        return
    from mlcore.stateless import jax_numpy
    jax_numpy()     # jax set up as mlcore needs (64-bit types on) before it sees an int64 weight
    for cls in _with_subclasses(weight_class):
        if cls not in _registered:
            tree_util.register_pytree_node(cls, _flatten, _unflatten)
            _registered.add(cls)


def is_registered(cls):
    return cls in _registered


def _with_subclasses(cls):
    yield cls
    for sub in cls.__subclasses__():
        yield from _with_subclasses(sub)


def _flatten(weight):
    return (weight.get_value(borrow=True, return_internal_type=True),), None


def _unflatten(_, children):
    return children[0]
