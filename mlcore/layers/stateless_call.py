"""Keras 3's layer.stateless_call(trainable_variables, non_trainable_variables, *args): a call computed
from given values of the layer's variables, which it neither reads from the layer nor assigns to it.

It is what JAX training loops differentiate (Keras's guide "Writing a training loop from scratch in
JAX").  The call's graph is built once per shape of its array arguments (and value of the others) on
stand-in inputs, and run by mlcore/stateless.py on the values given: jax arrays out, and the new
values of the non-trainable variables (a SeedGenerator's state, BatchNormalization's statistics,
a variable the call assigns).  A Model builds its graph on its own inputs instead
(mlcore/models/stateless_model.py).
"""
from mlcore import stateless
from mlcore.graph.basic import Variable
from mlcore.layers.structure import flatten, map_structure


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, Variable)


class StatelessCall:
    """Mixed into Layer."""

    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs):
        """(outputs, non_trainable_variables): call(*args, **kwargs) computed from these values of
        self.trainable_variables and self.non_trainable_variables (arrays), and the new values of the
        non-trainable ones.  return_losses=True adds a third item, the values of the losses the call
        adds and of the weights' penalties (Keras's layer.losses under these values)."""
        if not self.built:
            raise ValueError("To call stateless_call, %s must be built (i.e. its variables must have been already "
                             "created). You can build it by calling it on some data." % type(self).__name__)
        bound = self._bound(trainable_variables, non_trainable_variables)
        key, placeholders, values, forward = self._stateless_call_inputs(args, kwargs)

        def build():
            from mlcore.layers.base import collect_extras
            with collect_extras() as extras:
                structure = forward()
            losses = extras.losses + self._symbolic_losses()
            graph = stateless.StatelessGraph(placeholders, flatten(structure) + losses, extras.updates,
                                             name="%s.stateless_call" % self.name)
            graph.structure, graph.n_losses = structure, len(losses)
            return graph
        graph = stateless.cached(self, ("call",) + key, build)
        outputs, new = graph(values, bound)
        n_outputs = len(outputs) - graph.n_losses
        results = iter(outputs[:n_outputs])
        non_trainable = [new.get(id(v), value) for v, value in zip(self.non_trainable_variables,
                                                                    non_trainable_variables)]
        result = map_structure(lambda _: next(results), graph.structure), non_trainable
        return result + (list(outputs[n_outputs:]),) if return_losses else result

    def _stateless_call_inputs(self, args, kwargs):
        """(cache key, placeholders, their values, forward()): the call on stand-ins of the array
        arguments, one graph per their shapes and dtypes and the values of the other arguments."""
        arrays = [leaf for leaf in flatten((list(args), kwargs)) if _is_array(leaf)]
        stand_ins = {id(a): stateless.placeholder(a) for a in arrays}
        symbolic_args, symbolic_kwargs = map_structure(lambda v: stand_ins.get(id(v), v), (list(args), kwargs))
        others = repr(map_structure(lambda v: None if _is_array(v) else v, (list(args), kwargs)))
        key = (stateless.signature(arrays), others)
        return key, [stand_ins[id(a)] for a in arrays], arrays, lambda: self(*symbolic_args, **symbolic_kwargs)

    def _bound(self, trainable_variables, non_trainable_variables):
        """The layer's variables bound to these values (stateless.bind)."""
        bound = stateless.bind(self.trainable_variables, trainable_variables, self, "trainable_variables")
        bound.update(stateless.bind(self.non_trainable_variables, non_trainable_variables, self,
                                    "non_trainable_variables"))
        return bound
