"""mlcore.function: compile a graph into a callable, as theano.function does.

The graph (outputs and update expressions) is copied into a FunctionGraph,
rewritten, and handed to a backend.  Shared variables become extra inputs, and
their new values extra outputs, so every backend compiles a pure function and a
shared variable keeps one logical value across backends.
"""
import copy
import operator
import time
import types
import warnings

import numpy as np

from mlcore import config, distribution
from mlcore.compile.builders import inline_op_from_graphs
from mlcore.compile.mode import Mode, get_default_mode, get_mode
from mlcore.graph.basic import Constant, SharedVariable, Variable, graph_inputs
from mlcore.graph.fgraph import FunctionGraph, MissingInputError  # noqa: F401  (theano.compile's too)
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast
from mlcore.graph.rewrite import rewrite
from mlcore.graph.shape_tuple import ShapeTuple
from mlcore.interrupts import GUARD
from mlcore.profiling import Profile
from mlcore.typed_list import type as typed_list


class UnusedInputError(ValueError):
    """An input the outputs do not need (Theano's, raised unless on_unused_input says otherwise)."""


class Out:
    """An output and how it is returned, as theano.Out.  borrow=True returns the backend's own array
    (a jax array stays on its device, where a later function can take it without a copy) instead of
    a numpy array; the caller must then not expect it to survive the next call unchanged."""

    def __init__(self, variable, borrow=False):
        self.variable = as_tensor_variable(variable)
        self.borrow = bool(borrow)

    def __repr__(self):
        return "Out(%r, borrow=%s)" % (self.variable, self.borrow)


class In:
    """An input with a default value and a keyword name, as theano.In: function([x, In(y, value=1)], z)
    may then be called f(x) or f(x, y=2).  name defaults to the variable's name (autoname).  With
    update, the value is state: after each call it becomes the update expression's value, computed
    from that call's inputs (the value given, if one was), and later calls read it.  strict=True
    takes only values of the input's dtype; allow_downcast overrides the function's for this input.
    mutable, borrow, implicit and shared tell Theano whether it may overwrite the caller's array or
    share the value's container: mlcore never writes into inputs, so they change nothing."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if not isinstance(variable, Variable):
            raise TypeError("In: the input must be a symbolic variable such as T.matrix(), got %r" % (variable,))
        if name is not None and not isinstance(name, str):
            raise TypeError("In(%s): name must be a string, got %r" % (variable, name))
        self.variable = variable
        self.name = name if name is not None or not autoname else variable.name
        self.value = value
        self.update = None if update is None else as_tensor_variable(update)
        self.strict, self.allow_downcast = bool(strict), allow_downcast
        self.mutable, self.implicit, self.shared = mutable, implicit, shared
        self.borrow = bool(borrow)

    def __repr__(self):
        return "In(%r, name=%r, value=%r)" % (self.variable, self.name, self.value)


class Param(In):
    """Theano's older name for an input with a default: Param(variable, default=..., name=...) is
    In(variable, value=default, ...), deprecated in Theano as here."""

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False, allow_downcast=None,
                 implicit=None, borrow=None):
        warnings.warn("The Param class is deprecated. Replace Param(default=N) by theano.In(value=N)",
                      DeprecationWarning, stacklevel=2)
        super().__init__(variable, name=name, value=default, mutable=mutable, strict=strict,
                         allow_downcast=allow_downcast, implicit=implicit, borrow=borrow)


def _input_states(inputs):
    """For each In with an update, a shared variable holding its value, and (state, update) pairs:
    the function's updates then write the state, which the next call reads as the default.  A value
    given as another function's container (In(s, value=f.container[s], ...)) is that state itself,
    so the two functions share it."""
    def state(i):
        if isinstance(i.value, SharedVariable):
            return i.value
        if i.update is None:
            return None
        if i.value is None:
            raise TypeError("In(%s): an input with an update needs a value to start from" % (i.variable,))
        return SharedVariable(np.asarray(i.value, dtype=i.variable.dtype), name="%s.value" % (i.name or "input"))
    states = [state(i) for i in inputs]
    return states, [(state, i.update) for state, i in zip(states, inputs) if i.update is not None]


class _Values:
    """f.value: f[key] read and set by input variable or name, as Theano's f.value[key]."""

    def __init__(self, function):
        self.function = function

    def __getitem__(self, key):
        return self.function[key]

    def __setitem__(self, key, value):
        self.function[key] = value


class _Containers:
    """f.container: f's input states by variable or name."""

    def __init__(self, function):
        self.function = function

    def __getitem__(self, key):
        state = self.function.defaults[self.function._input_position(key)]
        if not isinstance(state, SharedVariable):
            raise KeyError("input %r has no state: only an In with an update (or one given a container) has one"
                           % (key,))
        return state


def _update_pairs(updates):
    if updates is None:
        return []
    pairs = list(updates.items()) if isinstance(updates, dict) else [tuple(u) for u in updates]
    out = []
    for pair in pairs:
        if len(pair) != 2:
            raise TypeError("Each update must be a (shared_variable, new_expression) pair, got %r" % (pair,))
        target, expr = pair
        if not isinstance(target, SharedVariable):
            raise TypeError("Update target %r is not a shared variable" % (target,))
        expr = as_tensor_variable(expr)
        if expr.dtype != target.dtype:
            if np.can_cast(expr.dtype, target.dtype, "same_kind"):
                expr = cast(expr, target.dtype)
            else:
                raise TypeError("Update of %s (%s) has dtype %s" % (target.name or target, target.dtype, expr.dtype))
        if expr.ndim != target.ndim or any(a is not None and b is not None and a != b
                                           for a, b in zip(expr.type.shape, target.type.shape)):
            raise ValueError("Update of %s: new value %s does not match the variable's %s"
                             % (target.name or target, expr.type, target.type))
        out.append((target, expr))
    if len({id(t) for t, _ in out}) != len(out):
        raise ValueError("A shared variable is updated twice in one function")
    return out


def _given_pairs(givens, inputs):
    """givens as a dict {variable: replacement}; a replacement that is a value (a number, an array)
    becomes a constant of the variable's dtype, as Theano makes it a shared variable.  Replacing
    one of the function's inputs is refused, as in Theano: it would have no effect."""
    pairs = dict(givens.items() if isinstance(givens, dict) else givens or [])
    for old, new in list(pairs.items()):
        if not isinstance(old, Variable):
            raise TypeError("givens: keys must be symbolic variables, got %r" % (old,))
        if any(old is i for i in inputs):
            raise RuntimeError("givens replaces %s, an input of the function: that would have no effect. Make "
                               "a new input y and give {%s: g(y)}, or use mlcore.clone(out, replace=)" % (old, old))
        if not isinstance(new, Variable):
            pairs[old] = as_tensor_variable(np.asarray(new, dtype=old.dtype))
    return pairs


def _cut_inputs(inputs):
    """Theano lets an input be any variable, an intermediate one too (function([m.T], ...)): the
    graph is cut there.  Each such input is replaced by a new root variable of its type; returns
    the roots and the {input: root} replacements."""
    roots, cuts = [], {}
    for variable in inputs:
        if not isinstance(variable, Variable) or isinstance(variable, (Constant, SharedVariable)):
            raise TypeError("function inputs must be symbolic variables such as T.matrix(); %r is not "
                            "(a shared variable or a constant is part of the graph already)" % (variable,))
        if variable.owner is not None:
            cuts[variable] = variable.type(variable.name)
        roots.append(cuts.get(variable, variable))
    return roots, cuts


def _with_default_updates(outputs, updates, no_default_updates=False):
    """Add the default updates (random keys) of shared variables the graph uses, except with
    no_default_updates=True, or of the shared variables it lists (theano.function's argument)."""
    if no_default_updates is True:
        return updates
    updated = {id(t) for t, _ in updates} | {id(v) for v in no_default_updates or ()}
    pending = outputs + [e for _, e in updates]
    while pending:
        found = []
        for var in graph_inputs(pending):
            if isinstance(var, SharedVariable) and var.default_update is not None and id(var) not in updated:
                updated.add(id(var))
                updates.append((var, var.default_update))
                found.append(var.default_update)
        pending = found
    return updates


def report_unused(unused, on_unused_input):
    """Theano's on_unused_input: "raise" (an UnusedInputError), "warn" or "ignore" inputs the outputs
    do not need."""
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError("on_unused_input must be 'raise', 'warn' or 'ignore', got %r" % (on_unused_input,))
    message = "Input(s) %s are not used to compute the outputs" % ", ".join(map(repr, unused))
    if unused and on_unused_input == "raise":
        raise UnusedInputError(message + "; pass on_unused_input='ignore' to allow this")
    if unused and on_unused_input == "warn":
        warnings.warn(message)


class Function:
    """A compiled graph: call it with numbers, get numpy arrays back."""

    def __init__(self, inputs, outputs=None, updates=None, givens=None, backend=None, device=None,
                 rewrites="fast_run", profile=False, allow_input_downcast=None, on_unused_input="raise",
                 name=None, batch_inputs=False, no_default_updates=False):
        from backends import get_backend
        inputs = [i if isinstance(i, In) else In(i) for i in inputs]
        self.given_inputs = [i.variable for i in inputs]     # f[x] finds an input by the variable given
        self.inputs, cuts = _cut_inputs(self.given_inputs)
        self.input_names = [i.name for i in inputs]
        self._check_missing(self.inputs, [i.update for i in inputs if i.update is not None])   # first, as Theano
        states, state_updates = _input_states(inputs)
        self.defaults = [i.value if state is None else state for i, state in zip(inputs, states)]
        self._strict = [k for k, i in enumerate(inputs) if i.strict]     # In(strict=True): checked in _filtered
        self._downcasts = [allow_input_downcast if i.allow_downcast is None else i.allow_downcast for i in inputs]
        self.output_keys = sorted(outputs) if isinstance(outputs, dict) else None    # Theano's dict of outputs
        self.single_output = outputs is not None and self.output_keys is None and (
            isinstance(outputs, ShapeTuple) or not isinstance(outputs, (list, tuple)))      # function([x], x.shape)
        outs = ([] if outputs is None else [outputs] if self.single_output
                else [outputs[k] for k in self.output_keys] if self.output_keys is not None else list(outputs))
        self.outputs = [o.variable if isinstance(o, Out) else o.as_output() if isinstance(o, ShapeTuple)
                        else as_tensor_variable(o) for o in outs]
        self.borrowed = tuple(isinstance(o, Out) and o.borrow for o in outs)
        updates = _update_pairs(updates)
        givens = _given_pairs(givens, self.given_inputs)
        self._definition = dict(inputs=inputs, outputs=outputs, updates=list(updates), givens=givens,
                                backend=backend, device=device, rewrites=rewrites,
                                allow_input_downcast=allow_input_downcast, on_unused_input=on_unused_input,
                                batch_inputs=batch_inputs, no_default_updates=no_default_updates)
        pairs = _with_default_updates(self.outputs, updates + _update_pairs(state_updates), no_default_updates)
        self.update_targets = [t for t, _ in pairs]
        fgraph = FunctionGraph(self.inputs, self.outputs + [e for _, e in pairs], replacements={**givens, **cuts})
        self._check_inputs(graph_inputs(fgraph.outputs), on_unused_input)   # an OpFromGraph's inputs are used,
        inline_op_from_graphs(fgraph)                                      # as in Theano, even where its graph
        used = graph_inputs(fgraph.outputs)                                # ignores some
        self.shared = [v for v in used if isinstance(v, SharedVariable)]
        fgraph.inputs = self.inputs + self.shared
        self._order_updates_as_inputs(fgraph)
        fgraph.batch_inputs = len(self.inputs) if batch_inputs else 0  # read by backends/jax/sharding.py
        fgraph.allow_input_downcast = allow_input_downcast              # read by backends checking inputs
        self.fgraph = rewrite(fgraph, rewrites)
        self.backend = get_backend(typed_list.host_backend(self.fgraph, backend))
        self.device = self.backend.check_device(device or config.device())
        if batch_inputs:
            from mlcore.distribution import check_backend
            check_backend(self.backend.name, name or "A batched function")
        self.name = name
        self.allow_input_downcast = allow_input_downcast
        self.trust_input = False    # Theano's: True passes the arguments on unchecked (they must fit exactly)
        self.profile = profile if hasattr(profile, "timer") else Profile(name or "function", self.backend.name) \
            if profile else None      # a Mode watching each node (MonitorMode) is called as a Profile is
        self._donate = self._donated()
        self._compile()

    def _input_position(self, key):
        """The position of an input given as its variable or its name."""
        for k, (variable, name) in enumerate(zip(self.given_inputs, self.input_names)):
            if key is variable or (isinstance(key, str) and key == name):
                return k
        raise KeyError("%r is not an input of this function (inputs: %s)" % (key, self.input_names))

    @property
    def value(self):
        """Theano's f.value[x]: f[x], the value input x takes when a call leaves it out (read and set)."""
        return _Values(self)

    def free(self):
        """Theano's free(): drop the intermediate results kept between calls.  A compiled function here
        keeps none (the backends allocate per call, or XLA owns its buffers), so there is nothing to do."""

    def __getitem__(self, key):
        """f[s] (or f["s"]): the value an input takes when a call leaves it out, as Theano's; for an
        In with an update, its state now."""
        return self._current_value(self._input_position(key))

    def _current_value(self, k):
        default = self.defaults[k]
        return default.get_value() if isinstance(default, SharedVariable) else default

    def __setitem__(self, key, value):
        """f[s] = v: the value an input takes from now on when a call leaves it out (its state, for an
        In with an update)."""
        k = self._input_position(key)
        if isinstance(self.defaults[k], SharedVariable):
            self.defaults[k].set_value(np.asarray(value, dtype=self.inputs[k].dtype))
        else:
            self.defaults[k] = value

    @property
    def container(self):
        """Theano's f.container[s]: the state of an In with an update, to give another function as its
        value (In(s, value=f.container[s], update=...)) so that both read and write one state."""
        return _Containers(self)

    @property
    def maker(self):
        """Theano's f.maker: its fgraph is the rewritten graph that runs (`f.maker.fgraph.toposort()`)."""
        return types.SimpleNamespace(fgraph=self.fgraph, inputs=self.inputs, outputs=self.outputs)

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None, profile=None):
        """The same function compiled anew, as Theano's copy: swap={old_shared: new_shared} makes
        the copy read and update other shared variables, delete_updates=True gives it no updates
        (random streams and In updates included).  The copy's inputs start from the defaults and
        In-update states the original has now and go their own way after it; a state given as
        another function's container stays shared.  share_memory is accepted for Theano's sake: a
        compiled mlcore function keeps no intermediate storage between calls to share."""
        definition = dict(self._definition, name=name or (self.name and self.name + " copy"),
                          inputs=[self._copied_input(k, delete_updates) for k in range(len(self.inputs))])
        if profile is not None:
            definition["profile"] = profile
        swap = dict(swap or {})
        definition["givens"] = {**definition["givens"], **swap}
        if delete_updates:
            definition.update(updates=[], no_default_updates=True, on_unused_input="ignore")
        else:
            definition["updates"] = [(swap.get(t, t), e) for t, e in definition["updates"]]
        return Function(**definition)

    def _copied_input(self, k, delete_updates):
        """Input k of a copy: its In with the value it takes now (f[s]), its update dropped with the
        copy's updates; a container given by another function stays that container."""
        given = self._definition["inputs"][k]
        copied = copy.copy(given)
        if not isinstance(given.value, SharedVariable):
            copied.value = self._current_value(k)
        if delete_updates:
            copied.update = None
        return copied

    def _compile(self):
        """The backend's callable for the rewritten graph (also after unpickling)."""
        self._fn = self.backend.compile(self.fgraph, self.device, self.profile, self._donate)
        self._arity = len(self.inputs)
        self._checks_inputs = getattr(self._fn, "checks_inputs", False) and not self._strict and all(
            d == self.allow_input_downcast for d in self._downcasts)    # In's own checks run in _filtered
        self._native_arrays = self.backend.native_arrays_on(self.device)
        self._host_copy = self.backend.host_copier(self.device)
        if any(isinstance(o.type, typed_list.TypedListType) for o in self.outputs):
            self._host_copy = typed_list.list_copier(self._host_copy)      # lists come back as lists
        self._call, self._array_call = self._call_path()
        self._steps_fn = None
        self._known_values = None

    def _call_path(self):
        """What a call runs once its inputs are checked, and the compiled code's own callable where
        __call__ may go straight to it; with a dict of outputs, the results by their keys."""
        call, array_call = self._list_call_path()
        if self.output_keys is None:
            return call, array_call
        keys = self.output_keys
        return (lambda values: dict(zip(keys, call(values)))), None

    def _list_call_path(self):
        """What a call runs once its inputs are checked, and the compiled code's own callable where
        __call__ may go straight to it.  Without shared values, profile or borrowed outputs that is
        the backend's own inputs -> numpy outputs callable, and for one output jax's jit itself: on
        a tiny graph each Python frame here is a measurable share of the call (benchmarks/overhead.py)."""
        if self.profile is not None:
            return self._profiled_run, None
        if self.shared or self.update_targets or any(self.borrowed):
            return self._run, None
        numpy_call = self.backend.numpy_call(self._fn, len(self.outputs), self.single_output, self._host_copy)
        return numpy_call, self.backend.array_call(self._fn) if self.single_output else None

    def _order_updates_as_inputs(self, fgraph):
        """Put the new shared values in the order of the shared inputs they replace.  jax hands each
        donated input's buffer to the first output of its shape and dtype: in another order (Adam's
        updates come as momentum, velocity, weight) a weight's buffer would receive its momentum, and
        XLA copies every such input before the step to keep its old value readable."""
        slot = {id(v): k for k, v in enumerate(self.shared)}
        order = sorted(range(len(self.update_targets)), key=lambda i: slot.get(id(self.update_targets[i]), len(slot)))
        n = len(self.outputs)
        self.update_targets = [self.update_targets[i] for i in order]
        fgraph.outputs = fgraph.outputs[:n] + [fgraph.outputs[n + i] for i in order]

    def _donated(self):
        """Positions of the shared inputs this function overwrites: their buffers can be reused."""
        targets = {id(t) for t in self.update_targets}
        return tuple(len(self.inputs) + k for k, v in enumerate(self.shared) if id(v) in targets)

    def _check_inputs(self, used, on_unused_input):
        used_ids = {id(v) for v in used}
        report_unused([v for v in self.inputs if id(v) not in used_ids], on_unused_input)    # first, as Theano
        self._check_missing(self.inputs, used)

    @staticmethod
    def _check_missing(inputs, graphs):
        """A MissingInputError naming the variables graphs need that are neither inputs, shared
        variables nor constants."""
        known = {id(v) for v in inputs}
        missing = [v for v in graph_inputs(graphs) if id(v) not in known and not isinstance(v, (Constant, SharedVariable))]
        if missing:
            raise MissingInputError("The outputs depend on %s, which %s not among the function's inputs"
                                    % (", ".join(map(repr, missing)), "is" if len(missing) == 1 else "are"))

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._arity:
            args = self._positional(args, kwargs)
        if self.trust_input:
            return self._call(args)
        if self._checks_inputs:   # numpy and the backend's own arrays go as they are: jit checks them as it traces
            for arg in args:      # (a plain loop: on a tiny graph, map + set here cost a microsecond)
                if type(arg) is not np.ndarray and not isinstance(arg, self._native_arrays):
                    break
            else:
                if self._array_call is not None and distribution._active is None:
                    return self._host_copy(self._array_call(*args))   # no Python frame between: see _call_path
                return self._call(args)
        return self._call(self._filtered(args))

    def _filtered(self, args):
        """The inputs converted to their types, or an error naming the input (Theano's filter); an
        In(strict=True) input takes only values of its own dtype."""
        native = self._native_arrays
        for k in self._strict:
            v, a = self.inputs[k], args[k]
            if getattr(a, "dtype", None) != v.type.numpy_dtype:
                raise TypeError("Input %s is strict: it takes %s values only, got %r" % (v, v.dtype, a))
        return [v.type.filter(a, v, downcast, native) for v, a, downcast in zip(self.inputs, args, self._downcasts)]

    def _results(self, results):
        """The outputs among a call's results: numpy arrays, or the backend's own where borrowed."""
        if not any(self.borrowed):
            return self.backend.outputs_to_numpy(results, len(self.outputs), self._host_copy)
        to_numpy, host_copy = self.backend.to_numpy, self._host_copy
        return [r if borrow else to_numpy(r, host_copy) for r, borrow in zip(results, self.borrowed)]

    def _profiled_run(self, values):
        start = time.perf_counter()
        outputs = self._run(values)
        self.profile.calls += 1
        self.profile.total += time.perf_counter() - start
        return outputs

    def _positional(self, args, kwargs):
        """The call's arguments in input order: inputs may be given by name, and those left out
        take their In(..., value=) defaults, as in Theano; a TypeError names what does not fit."""
        if len(args) > len(self.inputs):
            raise TypeError("%s takes %d input(s) (%s), got %d" % (self._label(), len(self.inputs),
                            ", ".join(map(repr, self.inputs)), len(args)))
        args = list(args) + [None] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            k = self._keyword_position(key)
            if args[k] is not None:
                raise TypeError("%s got multiple values for input %r" % (self._label(), key))
            args[k] = value
        args = [self._current_value(k) if a is None else a for k, a in enumerate(args)]
        missing = [repr(v) for v, a in zip(self.inputs, args) if a is None]
        if missing:
            raise TypeError("%s is missing required input(s) %s" % (self._label(), ", ".join(missing)))
        return args

    def _keyword_position(self, key):
        """The position of the input named key; an unknown or ambiguous name is a TypeError."""
        positions = [k for k, name in enumerate(self.input_names) if name == key]
        if len(positions) != 1:
            raise TypeError("%s: %s input name %r; inputs: %s" % (
                self._label(), "Unknown" if not positions else "Ambiguous (pass it by position)", key,
                self.input_names))
        return positions[0]

    def _label(self):
        return "Function %r" % self.name if self.name else "Function"

    def _run(self, values):
        """One compiled call: the fixed cost of every step of a training loop, so kept lean."""
        n_outputs = len(self.outputs)
        if not self.shared and not self.update_targets:
            results = self._fn(*values)
        elif self._donate:   # the donated buffers are gone once the call starts: store what it returns
            with GUARD:
                results = self._fn(*values, *self._shared_values())
                self._store_updates(results[n_outputs:])
        else:
            results = self._fn(*values, *self._shared_values())
            if self.update_targets:
                self._store_updates(results[n_outputs:])
        outputs = self._results(results)
        return outputs[0] if self.single_output else outputs

    def _shared_values(self):
        """The shared inputs' values, moved into the backend's array type once.  When they are the
        values this function adopted or stored last time (the usual case in a training loop), one
        identity test in C passes them on, so the per-call cost does not grow with the checks."""
        values = [var.container_value for var in self.shared]
        known = self._known_values
        if known is not None and all(map(operator.is_, values, known)):
            return values
        for k, (var, value) in enumerate(zip(self.shared, values)):
            if known is None or value is not known[k]:
                value = values[k] = var.container_value = self.backend.adopt(value, self.device)
        self._known_values = values
        return values

    def _store_updates(self, new_values):
        """Store the new shared values; a value returned for two variables (updates={a: b}) is
        copied, so that no two shared variables ever hold one buffer (Theano's DeepCopyOp).
        A variable's own buffer, updated in place, is not another's.  New arrays all different
        from each other and from the inputs (jax's results) are told so by one set of ids."""
        known = self._known_values or ()
        fresh = set(map(id, new_values))
        if len(fresh) == len(new_values) and fresh.isdisjoint(map(id, known)):
            for var, value in zip(self.update_targets, new_values):
                var.container_value = value
        else:
            held = set(map(id, known))
            for var, value in zip(self.update_targets, new_values):
                if id(value) in held and value is not var.container_value:
                    value = self.backend.copy(value)
                held.add(id(value))
                var.container_value = value
        self._known_values = [var.container_value for var in self.shared]

    def run_steps(self, *stacked):
        """Run the function once per leading index of the stacked inputs, each run seeing the
        previous one's updates; returns the outputs stacked.  One compiled call on jax (lax.scan)."""
        values = [np.asarray(a, dtype=v.dtype) for v, a in zip(self.inputs, stacked)]
        if self._steps_fn is None:
            slot = {id(v): k for k, v in enumerate(self.shared)}
            carried = [slot[id(t)] for t in self.update_targets]
            self._steps_fn = self.backend.compile_steps(self.fgraph, len(self.inputs), carried, self.device,
                                                        step=self._fn)
        with GUARD:
            outputs, shared = self._steps_fn(values, self._shared_values())
            for var, value in zip(self.shared, shared):
                var.container_value = value
            self._known_values = list(shared)
        return self._results(outputs)

    def __getstate__(self):
        compiled = ("_fn", "_call", "_array_call", "_steps_fn", "_known_values", "_native_arrays", "_host_copy")
        state = {k: v for k, v in self.__dict__.items() if k not in compiled + ("backend", "profile")}
        state["backend_name"] = self.backend.name
        return state

    def __setstate__(self, state):
        from backends import get_backend
        self.__dict__.update(state)
        self.backend = get_backend(state.pop("backend_name"))
        self.profile = None
        self._donate = self._donated()
        self._compile()


def function(inputs, outputs=None, updates=None, givens=None, backend=None, device=None, rewrites="fast_run",
             profile=False, allow_input_downcast=None, on_unused_input=None, name=None, mode=None,
             batch_inputs=False, no_default_updates=False, accept_inplace=False, rebuild_strict=True):
    """Compile outputs (and updates) as a function of inputs (theano.function's signature).

    outputs is one variable (f returns one array), a list (a list) or a dict of them (a dict by the
    same keys).  Theano's third positional argument is mode: a mode's name or a Mode given there is
    read as mode=.  accept_inplace and rebuild_strict are Theano's: the graph here has no in-place
    ops to accept, and givens must keep the types they replace, so they change nothing.

    backend/device pick where it runs (default: mlcore.config); rewrites is a preset
    ("fast_run", "fast_compile", "none") or a list of pass names; profile=True
    collects per-op times (print with f.profile.summary()); mode="FAST_COMPILE"
    and friends are accepted as Theano spells the presets, and a Mode (mlcore.compile.mode) picks passes.  batch_inputs=True says every input
    has the batch as its leading axis (the model's steps): under an mlcore.distribution they are
    split over the devices, while other functions' inputs are copied to each.
    no_default_updates=True (or a list of shared variables) leaves random streams where they are.
    on_unused_input=None is Theano's flag config.on_unused_input ("raise" unless set).
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("function: the inputs must be in a list, even when there is a single input; got %r"
                        % (inputs,))
    on_unused_input = on_unused_input or config.on_unused_input
    if isinstance(updates, (str, Mode)) and mode is None:    # Theano's order: function(inputs, outputs, mode, ...)
        mode, updates = updates, None
    from mlcore.sparse.function import has_sparse, sparse_function
    if has_sparse(inputs, outputs, updates, givens):      # scipy.sparse matrices in and out, as their parts
        return sparse_function(function, inputs, outputs, updates, givens, backend=backend, device=device,
                               rewrites=rewrites, profile=profile, allow_input_downcast=allow_input_downcast,
                               on_unused_input=on_unused_input, name=name, mode=mode, batch_inputs=batch_inputs,
                               no_default_updates=no_default_updates)
    if mode is None and rewrites == "fast_run" and (config.mode, config.optimizer) != ("Mode", "fast_run"):
        mode = get_default_mode()     # Theano's flags config.mode and config.optimizer, set
    if mode is not None:
        mode = get_mode(mode)         # Theano's names: "FAST_RUN", "DebugMode", ...
        rewrites = mode.rewrites
        backend = backend or mode.backend      # Mode(linker="py") runs on numpy, "cvm" on theano, ...
        if mode.watches_nodes:    # MonitorMode, NanGuardMode: node by node, on the numpy backend
            backend, profile = "numpy", mode
    fn = Function(inputs, outputs, updates, givens, backend, device, rewrites, profile or config.profile,
                  allow_input_downcast, on_unused_input, name, batch_inputs, no_default_updates)
    if config.profile and not profile:
        _print_at_exit(fn.profile)
    return mode.attach(fn) if isinstance(mode, Mode) else fn


_PROFILED = []     # the profiles config.profile made, printed at exit as Theano prints them


def _print_at_exit(profile):
    if not _PROFILED:
        import atexit
        import sys
        atexit.register(lambda: [print(p.summary(), file=sys.stderr) for p in _PROFILED if p.calls])
    _PROFILED.append(profile)
