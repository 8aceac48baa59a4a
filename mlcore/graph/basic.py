"""The symbolic core: types, variables, Apply nodes and Ops.

A graph is a DAG of Variables and Apply nodes, as in Theano: each Apply records
one Op applied to input Variables and owns its output Variables.  Nothing here
holds numbers except Constants and SharedVariables; backends own the kernels.
"""
import copy
import functools
import itertools
import sys

import numpy as np

from mlcore import config
from mlcore.graph import autocast

_counter = itertools.count()


class TensorType:
    """A dtype plus a static shape whose entries are ints, or None when unknown.

    Theano's broadcastable pattern works too, as shape or broadcastable=: True is a dim of
    size 1, False an unknown one (TensorType("float32", (False, True)) is shape (None, 1)).
    """

    __slots__ = ("dtype", "shape", "ndim", "numpy_dtype", "static_dims")

    def __init__(self, dtype, shape=None, broadcastable=None):
        if (shape is None) == (broadcastable is None):
            raise TypeError("TensorType needs one of shape= and broadcastable=")
        self.numpy_dtype = np.dtype(config.floatx() if dtype == "floatX" else dtype)     # Theano's "floatX"
        self.dtype = self.numpy_dtype.name
        self.shape = tuple(_dim(s) for s in (broadcastable if shape is None else shape))
        self.ndim = len(self.shape)
        self.static_dims = tuple((axis, size) for axis, size in enumerate(self.shape) if size is not None)

    @property
    def broadcastable(self):
        """Theano's pattern: True where a dim is statically 1 and so may broadcast."""
        return tuple(s == 1 for s in self.shape)

    def __call__(self, name=None):
        return Variable(self, name=name)

    def __eq__(self, other):
        return isinstance(other, TensorType) and (self.dtype, self.shape) == (other.dtype, other.shape)

    def __hash__(self):
        return hash((self.dtype, self.shape))

    def __repr__(self):
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        return "Tensor(%s, (%s%s))" % (self.dtype, dims, "," if self.ndim == 1 else "")

    def allows_shape(self, shape):
        """Whether an array of this shape fits the type: its rank, and its size wherever the type knows one."""
        return len(shape) == self.ndim and all(shape[axis] == size for axis, size in self.static_dims)

    def filter(self, value, name, allow_downcast=False, native=()):
        """Convert an input value to this type, or raise naming the input (Theano's filter).
        native: array classes of the backend, passed on as they are when they fit (a jax array
        stays on its device)."""
        if (type(value) is np.ndarray or isinstance(value, native)) and value.dtype == self.numpy_dtype and (
                value.ndim == self.ndim) and (
                not self.static_dims or all(value.shape[axis] == size for axis, size in self.static_dims)):
            return value   # already right: the common case, checked first and cheaply (every call)
        data = np.asarray(value)
        convertible = data.dtype != self.numpy_dtype and not isinstance(value, np.ndarray) and (
            (isinstance(value, (int, float)) and self.numpy_dtype.kind in "fc")
            or np.array_equal(data.astype(self.dtype), data))   # lists and scalars convert when exact
        target = self.check_abstract(data.dtype, data.shape, name, allow_downcast, convertible)
        return data if target is None else data.astype(target)

    def check_abstract(self, dtype, shape, name, allow_downcast=False, convertible=False):
        """filter's checks on an array known by its dtype and shape alone (the jax backend checks its
        inputs so, once per signature, when it traces): None when it fits, else the dtype to cast it
        to, or an error naming the input.  convertible: a value the cast keeps (Theano's rule)."""
        target = None
        if np.dtype(dtype) != self.numpy_dtype:
            if not (allow_downcast or convertible or np.can_cast(dtype, self.numpy_dtype, "safe")):
                raise TypeError("Input %s expects dtype %s but got %s; cast it, or pass "
                                "allow_input_downcast=True" % (name, self.dtype, np.dtype(dtype)))
            target = self.numpy_dtype
        if len(shape) != self.ndim:
            raise TypeError("Input %s expects %d dimensions %s but got an array of shape %s"
                            % (name, self.ndim, self, tuple(shape)))
        for expected, got in zip(self.shape, shape):
            if expected is not None and expected != got:
                raise ValueError("Input %s expects shape %s but got %s" % (name, self, tuple(shape)))
        return target


def _dim(size):
    if size is None or isinstance(size, (bool, np.bool_)):
        return 1 if size else None      # a broadcastable flag
    return int(size)


class Tag(dict):
    """A variable's notes: mlcore's own as keys (tag["keras_history"]), Theano code's as attributes
    (x.tag.test_value, read by config.compute_test_value)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError("tag has no %r" % name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]


class Variable:
    """A symbolic value: the output `index` of Apply `owner`, or a graph input when owner is None."""

    def __init__(self, type, owner=None, index=0, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()
        self.id = next(_counter)

    dtype = property(lambda self: self.type.dtype)
    ndim = property(lambda self: self.type.ndim)
    broadcastable = property(lambda self: self.type.broadcastable)

    @property
    def static_shape(self):
        return self.type.shape

    def __repr__(self):
        text = self._label()
        if getattr(config, "print_test_value", False) and "test_value" in self.tag:   # Theano's flag
            from mlcore.graph.test_values import get_test_value
            text += "\n" + repr(get_test_value(self))
        return text

    def _label(self):
        if self.name:
            return self.name
        if self.owner is not None:
            out = "" if len(self.owner.outputs) == 1 else ".%d" % self.index
            return "%s%s" % (self.owner.op, out)
        return "<%s>" % (self.type,)

    def clone(self):
        return type(self)(self.type, name=self.name)

    # The operators and methods (x + y, x.sum(), x.T, x[1:], ...) live in
    # mlcore.graph.variable_methods, which patches them in, to keep this file small.


class Constant(Variable):
    """A graph input whose value is fixed when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, name=name)
        self.data = np.asarray(data, dtype=type.dtype)
        self.data.setflags(write=False)

    def signature(self):
        """Constants with equal signatures are interchangeable (used by merge)."""
        return (self.type, self.data.tobytes())

    def __repr__(self):
        if self.name:
            return self.name
        return np.array2string(self.data, threshold=6) if self.data.ndim else repr(self.data.item())

    def clone(self):
        return Constant(self.type, self.data, name=self.name)


class WrongNdimError(TypeError, ValueError):
    """A value with another number of dims than its variable's type: a TypeError, as in Theano,
    and a ValueError, as for any other shape that does not fit."""


class SharedVariable(Variable):
    """A graph input with one persistent, updatable value (Theano's shared variable).

    The value is kept in the representation of whichever backend used it last
    (a numpy array, a JAX device array); get_value() always gives numpy, so every
    compiled function, on any backend, sees the latest value.  container_value is
    that stored value as it is, read and written by compiled functions (a plain
    attribute: a training step touches it a few dozen times).
    """

    def __init__(self, value, name=None, strict=False, shape=None, borrow=False, broadcastable=None,
                 allow_downcast="same_kind"):
        if isinstance(value, Variable):
            raise TypeError("shared: takes a value (a numpy array or a number), got the symbolic %r" % (value,))
        value = np.asarray(value) if borrow else np.array(value)
        if value.dtype == object:
            raise TypeError("shared: takes an array of numbers, got %r" % (value.item() if value.ndim == 0 else value,))
        if shape is None and broadcastable is None:
            shape = (None,) * value.ndim
        super().__init__(TensorType(value.dtype, shape, broadcastable), name=name)
        self.container_value = value
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        """The value as a numpy array; return_internal_type=True gives the backend's own array (a jax
        array on its device) as it is stored, a copy of it unless borrow=True."""
        if return_internal_type:
            return self.container_value if borrow else copy.copy(self.container_value)
        value = np.asarray(self.container_value)
        return value if borrow else value.copy()

    def set_value(self, value, borrow=False):
        """Store value, converted to the variable's dtype where that is allowed (see _castable);
        another number of dims is a WrongNdimError, a size the type fixes a ValueError."""
        given, value = value, np.asarray(value) if borrow else np.array(value)
        label = "Shared variable %s" % (self.name or repr(self))
        if value.dtype != self.dtype:
            if not self._castable(given, value):
                raise TypeError("%s holds %s; cannot set a %s value %s" % (
                    label, self.dtype, value.dtype, "(it is strict)" if self.strict else
                    "without losing precision (cast it, or create it with allow_downcast=True)"))
            value = value.astype(self.dtype)
        if value.ndim != self.ndim:
            raise WrongNdimError("%s has %d dims (%s); cannot set a value of shape %s"
                                 % (label, self.ndim, self.type, value.shape))
        if not self.type.allows_shape(value.shape):
            raise ValueError("%s has shape %s; cannot set a value of shape %s (create it "
                             "with shape=(None, ...) to let a dim change)" % (label, self.type, value.shape))
        self.container_value = value

    def _castable(self, given, array):
        """Whether set_value may convert array (made from given) to the variable's dtype.  strict:
        never.  allow_downcast=True: always; "same_kind" (mlcore's own variables, Keras's rule):
        within a kind, float64 to float32 say.  None or False (theano.shared's, Theano's rule): an
        array only to a dtype holding all its values, a list or number when no value changes, and a
        Python float to floatX unless allow_downcast is False."""
        if self.strict:
            return False
        if self.allow_downcast in (True, "same_kind"):
            return self.allow_downcast is True or np.can_cast(array.dtype, self.dtype, "same_kind")
        if isinstance(given, np.ndarray):
            return np.can_cast(array.dtype, self.dtype, "safe")
        if type(given) is float and self.allow_downcast is None and self.dtype == config.floatx():
            return True
        with np.errstate(all="ignore"):
            converted = array.astype(self.dtype)
        return array.dtype.kind not in "OSU" and bool(np.all((converted == array) | (converted != converted)))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["container_value"] = np.asarray(self.get_value())
        return state

    def clone(self):
        return self  # a shared variable is one object wherever it appears


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, shape=None, broadcastable=None):
    """Make a SharedVariable (Theano's theano.shared).  borrow=True keeps the given numpy array as
    the value instead of a copy; strict=True refuses set_value of another dtype.  As in Theano, only
    the number of dims is fixed and set_value may change the sizes, unless shape= (ints where a
    size is fixed, as the layers' weights do) or Theano's broadcastable= says otherwise.
    set_value converts as Theano's does: without allow_downcast=True, not an array whose values the
    dtype may not hold (float64 into float32, say).  A scipy.sparse matrix makes a sparse shared variable (mlcore.sparse.shared)."""
    scipy_sparse = sys.modules.get("scipy.sparse")      # a scipy.sparse matrix means it is imported
    if scipy_sparse is not None and scipy_sparse.issparse(value):
        from mlcore.sparse import shared as sparse_shared
        return sparse_shared(value, name, strict, allow_downcast, borrow)
    return SharedVariable(value, name=name, strict=strict, shape=shape, borrow=borrow, broadcastable=broadcastable,
                          allow_downcast=allow_downcast)


class Apply:
    """One application of an Op to inputs, producing outputs."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = [self._adopt(o, i) if isinstance(o, Variable) else Variable(o, owner=self, index=i)
                        for i, o in enumerate(outputs)]

    def _adopt(self, variable, index):
        """An output given as a fresh variable (Theano's Apply(op, inputs, [x.type()])) becomes this node's."""
        if variable.owner is not None:
            raise ValueError("Apply of %s: output %d, %s, is already the output of %s"
                             % (self.op, index, variable, variable.owner.op))
        variable.owner, variable.index = self, index
        return variable

    def __repr__(self):
        return "%s(%s)" % (self.op, ", ".join(map(repr, self.inputs)))


class Op:
    """A symbolic operation: checks and infers types, and knows its gradient.

    Subclasses list their parameters in __props__ (equality, hashing and printing
    come from them, as in Theano), implement make_node, and pullback when
    differentiable.  Numeric kernels live in the backends, looked up by Op class.
    """

    __props__ = ()

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        if type(self) is type(other):
            return self._props() == other._props()
        return _is_graph_function(other) and op_made_by(other) == self     # Theano's node.op == T.true_div

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        name = getattr(self, "name", None) or type(self).__name__
        if not self.__props__ or getattr(self, "name", None):
            return name
        return "%s{%s}" % (name, ", ".join(str(p) for p in self._props()))

    __repr__ = __str__

    def make_node(self, *inputs):
        """An op declaring Theano's itypes and otypes gets its node from them; others write their own."""
        itypes, otypes = getattr(self, "itypes", None), getattr(self, "otypes", None)
        if itypes is None or otypes is None:
            raise NotImplementedError("%s must define make_node, or itypes and otypes" % (self,))
        if len(inputs) != len(itypes):
            raise TypeError("%s takes %d inputs (its itypes), got %d" % (self, len(itypes), len(inputs)))
        from mlcore.graph.ops.common import as_tensor_variable
        inputs = [as_tensor_variable(x) for x in inputs]
        for k, (x, expected) in enumerate(zip(inputs, itypes)):
            if x.dtype != expected.dtype or x.ndim != expected.ndim:
                raise TypeError("%s: input %d is %s but its itypes say %s" % (self, k, x.type, expected))
        return Apply(self, inputs, otypes)

    foldable = True   # False for ops whose result is not a function of their inputs (random)

    def __call__(self, *inputs, return_list=False):
        """The node's outputs: one variable, or a list for several (always a list with return_list=True,
        as Theano's Op.__call__)."""
        if autocast.autocast_dtype() is not None:    # mixed precision: weights read in the compute dtype
            inputs = autocast.autocast_inputs(inputs)
        node = self.make_node(*inputs)
        if getattr(config, "compute_test_value", "off") != "off":
            from mlcore.graph import test_values
            test_values.compute(node)
        if self.foldable and _is_small_constant_node(node):
            from mlcore.graph.rewrite.constant_folding import fold
            outputs = fold(node)
            for out in outputs:         # set_subtensor(x[key], y) on a constant x needs the x and key
                out.tag["folded_from"] = node
        else:
            outputs = node.outputs
        if return_list:
            return list(outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def pullback(self, inputs, outputs, output_grads):
        """Gradients wrt each input given gradients wrt each output (None: disconnected).  An op
        written for Theano gives them by its L_op(inputs, outputs, output_grads) or grad(inputs,
        output_grads)."""
        if hasattr(self, "L_op"):
            return list(self.L_op(inputs, outputs, output_grads))
        if hasattr(self, "grad"):
            return list(self.grad(inputs, output_grads))
        raise NotImplementedError("%s has no gradient" % (self,))


def _is_small_constant_node(node, limit=64):
    """Shape arithmetic on constants (x.shape[0] * 2 with static shapes) is folded while the
    graph is built, so static shapes flow on; big constants are left to the rewrite."""
    return (all(isinstance(i, Constant) for i in node.inputs)
            and all(None not in o.type.shape and np.prod(o.type.shape) <= limit for o in node.outputs))


def toposort(outputs, blockers=()):
    """Apply nodes needed for `outputs`, inputs before users (iterative DFS, no recursion limit)."""
    order, seen = [], set()
    blockers = {id(b) for b in blockers}
    for out in outputs:
        stack = [(out, False)]
        while stack:
            var, done = stack.pop()
            node = var.owner
            if node is None or id(var) in blockers:
                continue
            if done:
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
                continue
            if id(node) in seen:
                continue
            stack.append((var, True))
            for inp in reversed(node.inputs):
                if inp.owner is not None and id(inp.owner) not in seen:
                    stack.append((inp, False))
    return order


def clone(output, replace=None):
    """output (a variable or a list) rebuilt with the variables of replace (a dict or pairs)
    substituted, as theano.clone; the original graph is left as it was."""
    from mlcore.graph.fgraph import FunctionGraph
    from mlcore.graph.ops.common import as_tensor_variable
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    pairs = replace.items() if isinstance(replace, dict) else replace or ()
    cloned = FunctionGraph([], outputs, {old: as_tensor_variable(new) for old, new in pairs}).outputs
    return cloned if isinstance(output, (list, tuple)) else cloned[0]


def graph_inputs(outputs):
    """The owner-less variables (inputs, constants, shared) the outputs depend on, in order."""
    found, seen = [], set()
    for node in toposort(outputs):
        for inp in node.inputs:
            if inp.owner is None and id(inp) not in seen:
                seen.add(id(inp))
                found.append(inp)
    for out in outputs:
        if out.owner is None and id(out) not in seen:
            seen.add(id(out))
            found.append(out)
    return found


def _is_graph_function(value):
    return callable(value) and not isinstance(value, (Op, type)) and \
        getattr(value, "__module__", "").startswith("mlcore.")


@functools.lru_cache(maxsize=None)
def op_made_by(fn):
    """The op a graph function such as T.true_div applies, found by calling it on float64 scalars
    (two, then one): in Theano T.true_div is that op, and code compares node.op with it."""
    for arity in (2, 1):
        try:
            out = fn(*[TensorType("float64", ())() for _ in range(arity)])
        except Exception:       # noqa: BLE001 (the other arity is tried)
            continue
        owner = getattr(out, "owner", None)
        if owner is not None and all(i.owner is None for i in owner.inputs):
            return owner.op
    return None
