"""Weight: a layer's variable, as Keras's keras.Variable.

It is a shared variable of the graph (its value lives where the backend keeps shared state), with
Keras's name, path, trainable flag, regularizer and constraint, and Keras's layout: made while a
keras.distribution is active, it holds its value laid out over the devices as the distribution
says (mlcore/distribution.py), and keeps that layout when assigned.  assign() follows Keras's two
worlds: called from Python it sets the value at once; called inside a layer call that is being
built into a graph (a train step, or the graph an eager call compiles), it becomes an update of
that graph, applied after it runs, as a Keras variable assigned in a traced function.
jax sees a Weight as the value it holds (layers/weight_pytree.py).
"""
import numpy as np

from mlcore import distribution, scopes
from mlcore.graph.basic import SharedVariable, Variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.layers import weight_pytree


class Weight(SharedVariable):
    """autocast: whether a mixed-precision call reads it in its compute dtype (mlcore/graph/autocast.py)."""
    _overwrite_with_gradient = False
    _layout = None      # Keras's name: the TensorLayout a distribution gave it (get_variable_layout reads it)

    def __init__(self, value, name, path, trainable=True, regularizer=None, constraint=None, autocast=True,
                 layout=None):
        super().__init__(value, name=name, shape=np.shape(value))      # Keras's variables have fixed shapes
        self.path = path
        self.trainable = trainable
        self.created_trainable = trainable      # a layer lists its weights by it, as Keras (lora.py freezes one later)
        self.regularizer = regularizer
        self.constraint = constraint
        self.autocast = autocast
        self._layout = layout
        active = distribution.distribution()
        if active is not None:
            self._layout = active.get_variable_layout(self)
        self._lay_out()
        if not weight_pytree.is_registered(type(self)):
            weight_pytree.register_with_jax(Weight)

    @property
    def shape(self):
        return self.type.shape

    def set_value(self, value, borrow=False):
        """Set the value, laid out over the devices as the variable's layout says (Keras's assign)."""
        super().set_value(value, borrow)
        self._lay_out()

    def _lay_out(self):
        if self._layout is not None:
            self.container_value = distribution.lay_out(self.container_value, self._layout,
                                                        "Variable '%s'" % self.path)

    @property
    def overwrite_with_gradient(self):
        """Whether an optimizer assigns this variable its gradient instead of stepping (float8 training's
        scales, whose custom gradients are their next values)."""
        return self._overwrite_with_gradient

    @overwrite_with_gradient.setter
    def overwrite_with_gradient(self, value):
        if not isinstance(value, bool):
            raise TypeError("`overwrite_with_gradient` must be a boolean. Received: %r" % (value,))
        self._overwrite_with_gradient = value

    @property
    def value(self):
        """The current value in the backend's own array type (Keras's variable.value): a jax array
        after a jax run, what the updated guide passes to jax.jit, `[v.value for v in model.weights]`;
        inside a keras.StatelessScope, the value the scope gives it (mlcore/scopes.py)."""
        value = scopes.substituted_value(self)
        return self.get_value(return_internal_type=True) if value is None else value

    def numpy(self):
        value = scopes.substituted_value(self)
        return self.get_value() if value is None else np.asarray(value)

    def __array__(self, dtype=None, copy=None):
        """np.array(layer.kernel) is its value, as for a Keras variable."""
        value = scopes.substituted_value(self)
        return np.asarray(self.get_value(borrow=not copy) if value is None else value, dtype=dtype)

    def __eq__(self, other):
        """Against a number or an array, the values compared (`optimizer.iterations == 10`), as a Keras
        variable's; inside a traced call, the graph's comparison; against a graph variable, whether
        it is this one, as Theano's variables compare."""
        return self._compare(other, ew.eq, np.equal) if _is_value(other) else self is other

    def __ne__(self, other):
        return self._compare(other, ew.neq, np.not_equal) if _is_value(other) else self is not other

    def _compare(self, other, in_graph, on_values):
        from mlcore.layers.tracking import tracing
        return in_graph(self, other) if tracing() else on_values(self.numpy(), other)

    __hash__ = SharedVariable.__hash__

    def __int__(self):
        return int(self._scalar_value())

    def __float__(self):
        return float(self._scalar_value())

    def _scalar_value(self):
        """int(v) and float(v) of a scalar variable, as Keras's take them (the optimizer's iteration count)."""
        if self.ndim > 0:
            raise TypeError("Only scalar arrays can be converted to Python scalars. Got: shape=%s"
                            % (self.type.shape,))
        return self.numpy()

    def __array_function__(self, func, types, args, kwargs):
        """np.min(layer.kernel), np.mean(...), np.allclose(...) compute on its value, as on a Keras variable
        (numpy would otherwise call the graph methods, x.min(out=...)).  Inside a call being built numpy
        refuses: a value read there would be a constant of the graph, with no gradient."""
        from mlcore.layers.base import current_extras
        from mlcore.tree import map_structure
        if current_extras() is not None:
            return NotImplemented
        values = map_structure(lambda a: np.asarray(a) if isinstance(a, Weight) else a, (args, kwargs))
        return func(*values[0], **values[1])

    def assign(self, value):
        """Set the value (Keras's variable.assign); inside a call being built, an update of its graph
        (which the call's output reads where it returns this weight); inside a keras.StatelessScope, the
        scope's new value for it.  Returns the value assigned."""
        from mlcore.layers.base import current_extras
        extras = current_extras()
        if extras is None:
            value = _evaluate(value)
            self._check_shape(np.shape(value))
            if scopes.assigned_in_scope(self, value):
                return value
            value = np.asarray(value)
            self.set_value(value.astype(self.dtype))
            return value
        value = as_tensor_variable(value)
        self._check_shape(value.type.shape)
        value = value if value.dtype == self.dtype else ew.cast(value, self.dtype)
        extras.updates.append((self, value))
        return value

    def assign_add(self, value):
        return self.assign(self + value)

    def assign_sub(self, value):
        return self.assign(self - value)

    def _check_shape(self, shape):
        if len(shape) != len(self.shape) or any(a is not None and a != b for a, b in zip(shape, self.shape)):
            raise ValueError("The shape of the target variable and the shape of the target value in "
                             "`variable.assign(value)` must match. variable.shape=%s, Received: value.shape=%s. "
                             "Target variable: %s" % (self.shape, tuple(shape), self))

    def __repr__(self):
        """Keras's variable repr, value included (the guides print layer.weights)."""
        return "<Variable path=%s, shape=%s, dtype=%s, value=%s>" % (self.path, self.type.shape, self.dtype,
                                                                     self.get_value())


def _evaluate(value):
    from mlcore.ops.eager import evaluate
    return evaluate(value) if isinstance(value, Variable) else value


def _is_value(other):
    """A number, a bool, or a numpy array or scalar: what a Keras variable compares values with."""
    return isinstance(other, (int, float, complex, np.ndarray, np.generic)) and not isinstance(other, Variable)
