"""Theano's scan, map, reduce, foldl and foldr: a loop written as a function of one step.

fn receives, in Theano's order, the rows of the sequences at step t (one per tap), the past values
of the outputs fed back (one per tap), then the non-sequences, and returns the outputs at t: one,
a list, or (outputs, updates).  The whole loop becomes one Scan op (ops/scan.py); variables fn
reads from outside without being given them (closures, shared variables) are found and passed
in as non-sequences, and a shared variable fn updates (a random stream it draws from, too) is
carried from step to step as one more output fed back.
"""
import numpy as np

from mlcore.graph.basic import SharedVariable, TensorType, toposort
from mlcore.graph.fgraph import FunctionGraph, MissingInputError
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, minimum, neq
from mlcore.graph.ops.random import RandomVariable
from mlcore.graph.ops.scan import apply_scan
from mlcore.graph.ops.shape import dimshuffle
from mlcore.updates import OrderedUpdates


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """Run fn over the steps and return (outputs, updates), as theano.scan.

    sequences: variables iterated along axis 0, or dicts {"input": x, "taps": [-1, 0, 1]}.
    outputs_info: per output, None (not fed back), its initial value (fn gets the value at t-1), or
    {"initial": x0, "taps": [-2, -1]} (x0 has one row per step back, x0[0] the earliest).
    n_steps: the number of steps (else the shortest sequence's length; negative runs backwards).
    outputs: each output's values stacked over the steps; one variable unless return_list or
    several.  updates: an OrderedUpdates of the shared variables fn updates (its returned updates,
    and the random streams it draws from) to their values after the last step, for function().
    mode, profile and allow_gc are accepted for Theano's signature; each backend runs the loop
    its own way.  strict=True: fn may only use the shared variables given in non_sequences.
    """
    if isinstance(n_steps, (int, np.integer)) and n_steps < 0:
        n_steps, go_backwards = -n_steps, not go_backwards
    rows, slots = _sequence_rows(sequences, go_backwards)
    count = _count(n_steps, rows)
    if n_steps is not None or len(rows) > 1:
        rows = [r[:count] for r in rows]
    infos = [_output_info(o) for o in _as_list(outputs_info)]
    windows, tap_slots = _state_windows(infos)
    non_sequences = [as_tensor_variable(v) for v in _as_list(non_sequences)]
    made_before = TensorType("int8", ())().id     # every variable fn makes has a larger id
    outputs, updates, condition = _outputs_updates_and_condition(fn(*slots, *tap_slots, *non_sequences))
    infos = infos or [(None, ())] * len(outputs)
    if len(outputs) != len(infos):
        raise ValueError("scan: fn returned %d outputs for %d outputs_info; please provide None as "
                         "outputs_info for any output that does not feed back into scan (i.e. it behaves "
                         "like a map)" % (len(outputs), len(infos)))
    outputs = [_as_state(out, initial) if taps else out for out, (initial, taps) in zip(outputs, infos)]
    # A shared variable updated each step is one more output fed back: fn's graph reads its value at t-1.
    updates = _with_stream_updates(updates, outputs, made_before)
    updated = [k for k, _ in updates]
    states = [k.type(k.name) for k in updated]
    step_outputs = outputs + [_as_state(v, k) for k, v in updates] + condition
    if updates:
        step_outputs = FunctionGraph(slots + tap_slots + non_sequences, step_outputs,
                                     dict(zip(updated, states))).outputs
    if strict:
        _refuse_unlisted_shared(step_outputs, slots + tap_slots + states + non_sequences)
    stacked = apply_scan(count, rows, windows + [dimshuffle(k, "x", *range(k.ndim)) for k in updated],
                         slots + tap_slots + states, step_outputs,
                         [taps for _, taps in infos] + [(-1,)] * len(updated) + [()] * len(condition),
                         truncate_gradient=truncate_gradient, name=name, until=bool(condition))
    new_values = OrderedUpdates((k, rows[-1]) for k, rows in zip(updated, stacked[len(outputs):]))
    stacked = stacked[:len(outputs)]
    if return_list:
        return stacked, new_values
    return (stacked[0] if len(stacked) == 1 else stacked or None), new_values


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None,  # noqa: A001
        name=None):
    """fn applied to each step's rows of the sequences, as theano.map: scan with no output fed back."""
    return scan(fn, sequences, None, non_sequences, truncate_gradient=truncate_gradient,
                go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """The outputs after the last step of scan, as theano.reduce."""
    outputs, updates = scan(fn, sequences, outputs_info, non_sequences, go_backwards=go_backwards, mode=mode,
                            name=name, return_list=True)
    finals = [out[-1] for out in outputs]
    return (finals[0] if len(finals) == 1 else finals), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first row of the sequences to the last (theano.foldl)."""
    return reduce(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last row of the sequences to the first (theano.foldr)."""
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name)


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _sequence(entry):
    """(variable, taps) of a sequence given as a variable or as Theano's dict."""
    if isinstance(entry, dict):
        taps = entry.get("taps")
        return as_tensor_variable(entry["input"]), [0] if taps is None else _as_list(taps)
    return as_tensor_variable(entry), [0]


def _sequence_rows(sequences, go_backwards):
    """Per tap of each sequence: the rows it reads, one per step, and the step input taking them."""
    rows, slots = [], []
    for var, taps in [_sequence(s) for s in _as_list(sequences)]:
        for k in taps:
            rows.append(_tap_rows(var, k, min(taps), max(taps), go_backwards))
            slots.append(TensorType(var.dtype, var.type.shape[1:])(_tap_name(var, k)))
    return rows, slots


def _state_windows(infos):
    """Per output fed back: its values before step 0, one row per step back (an initial value read
    only at t-1 is that one row), and a step input per tap."""
    windows, slots = [], []
    for initial, taps in infos:
        if taps:
            plain = taps == (-1,)
            windows.append(dimshuffle(initial, "x", *range(initial.ndim)) if plain else initial[:-min(taps)])
            row_type = initial.type if plain else TensorType(initial.dtype, initial.type.shape[1:])
            slots += [row_type(_tap_name(initial, k)) for k in taps]
    return windows, slots


def _tap_rows(var, k, first, last, go_backwards):
    """The rows of var that tap k reads, one per step: step t reads var[t + k - first]."""
    rows = var[(k - first) or None:(k - last) or None]
    return rows[::-1] if go_backwards else rows


def _tap_name(var, k):
    return None if var.name is None else "%s[t%s]" % (var.name, "%+d" % k if k else "")


def _count(n_steps, rows):
    """The number of steps: n_steps where given, else the length of the shortest sequence."""
    if n_steps is not None:
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or np.dtype(n_steps.dtype).kind not in "iu":
            raise ValueError("scan: n_steps must be an int scalar, got %s" % (n_steps.type,))
        return cast(n_steps, "int64")
    if not rows:
        raise ValueError("scan: no information about the number of steps provided; either provide a value "
                         "for the n_steps argument of scan or provide an input sequence")
    count = rows[0].shape[0]
    for r in rows[1:]:
        count = minimum(count, r.shape[0])
    return as_tensor_variable(count)


def _output_info(entry):
    """(initial value, taps) of one entry of outputs_info; taps () for an output not fed back."""
    if entry is None:
        return None, ()
    if not isinstance(entry, dict):
        return as_tensor_variable(entry), (-1,)
    taps = entry.get("taps")
    if entry.get("initial") is None:
        if taps:
            raise ValueError("scan: if you are using slices of an output you need to provide an initial "
                             "state for it: %r" % (entry,))
        return None, ()
    taps = (-1,) if taps is None else tuple(_as_list(taps))
    if any(k >= 0 for k in taps):
        raise ValueError("scan: can not use future taps of outputs: %r" % (entry,))
    return as_tensor_variable(entry["initial"]), taps


class until:  # noqa: N801  (Theano's name)
    """What fn returns last to stop the loop (theano.scan_module.until): the step where condition is
    true is the last one run, and the outputs have as many rows as steps ran (at most n_steps)."""

    def __init__(self, condition):
        condition = as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError("until: the condition must be a scalar, got %s" % (condition.type,))
        self.condition = neq(condition, 0)


def _outputs_updates_and_condition(result):
    """fn's result as (outputs, updates, [until's condition] or []): until(...) comes last, after
    the outputs, the updates, or both."""
    if isinstance(result, until):
        return [], {}, [result.condition]
    if isinstance(result, (list, tuple)) and result and isinstance(result[-1], until):
        rest = result[:-1]
        outputs, updates = _outputs_and_updates(rest[0] if len(rest) == 1 else rest)
        return outputs, updates, [result[-1].condition]
    return (*_outputs_and_updates(result), [])


def _outputs_and_updates(result):
    """fn's result as (list of outputs, updates): outputs, (outputs, updates) or (updates, outputs)."""
    if _is_updates(result):
        return [], result
    if isinstance(result, (list, tuple)) and len(result) == 2 and any(_is_updates(r) for r in result):
        outputs, updates = result if _is_updates(result[1]) else result[::-1]
    else:
        outputs, updates = result, {}
    return [as_tensor_variable(o) for o in _as_list(outputs)], updates


def _is_updates(x):
    return isinstance(x, dict) or isinstance(x, (list, tuple)) and bool(x) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable) for p in x)


def _as_state(out, initial):
    """An output fed back, in its initial value's dtype (a float64 step result of a float32 state
    is cast back; a float result of an integer state is an error, as in Theano)."""
    if out.dtype != initial.dtype and not np.can_cast(out.dtype, initial.dtype, "same_kind"):
        raise TypeError("scan: an output fed back is %s, but its initial state %s is %s; give the initial "
                        "state the output's dtype" % (out.dtype, initial, initial.dtype))
    return cast(out, initial.dtype)


def _with_stream_updates(updates, outputs, made_before):
    """fn's updates as (shared variable, new value) pairs, plus the next key of each random stream
    fn draws from (as Theano's scan gathers those default updates), so that each step draws anew."""
    pairs = []
    for target, value in dict(updates).items():
        if not isinstance(target, SharedVariable):
            raise TypeError("scan: fn returned an update of %r, which is not a shared variable" % (target,))
        pairs.append((target, as_tensor_variable(value)))
    for node in toposort(outputs + [value for _, value in pairs]):
        key = node.inputs[0] if isinstance(node.op, RandomVariable) else None
        if node.outputs[0].id > made_before and isinstance(key, SharedVariable) and all(key is not k for k, _ in pairs):
            pairs.append((key, node.outputs[0]))
    return pairs


def _refuse_unlisted_shared(outputs, given):
    """strict=True (Theano's): every shared variable fn uses must be among its arguments."""
    for node in toposort(outputs, blockers=given):
        for var in node.inputs:
            if isinstance(var, SharedVariable) and not any(var is g for g in given):
                raise MissingInputError("scan(strict=True): fn uses the shared variable %s, which is not among "
                                        "the non_sequences" % (var,))

