"""Keras 3's model.get_state_tree / set_state_tree: every variable of a model keyed by its path.

The tree is ``{"trainable_variables": ..., "non_trainable_variables": ..., "optimizer_variables": ...,
"metrics_variables": ...}``, each a nested dict that splits the variables' paths at "/"
(``{"seq": {"dense": {"kernel": ...}}}``).  Keying by path rather than by position is what lets an
Orbax checkpoint written by Keras load into mlcore and back (mlcore/saving/orbax_checkpoints.py).
"""
VALUE_FORMATS = ("backend_tensor", "numpy_array")


class StateTree:
    """Mixed into Model."""

    def get_state_tree(self, value_format="backend_tensor"):
        """The variables' values, nested by path: the backend's own arrays ("backend_tensor", jax arrays
        after a jax run) or copies as numpy arrays ("numpy_array")."""
        if value_format not in VALUE_FORMATS:
            raise ValueError("Invalid `value_format` argument. Expected one of {'numpy_array', "
                             "'backend_tensor'}. Received: value_format=%s" % (value_format,))
        return {group: _nested(variables, value_format) for group, variables in self._state_groups().items()}

    def set_state_tree(self, state_tree):
        """Assigns each value of the tree to the model's variable of that path in that group; paths the
        model lacks are passed over, as in Keras (an optimizer not built yet has no slots to fill)."""
        groups = self._state_groups()
        for group, nested in state_tree.items():
            if group not in groups:
                raise ValueError("Unknown variable name: %s" % group)
            by_path = {variable.path: variable for variable in groups[group]}
            for path, value in _by_path(nested):
                if path in by_path:
                    by_path[path].assign(value)

    def _state_groups(self):
        optimizer = getattr(self, "optimizer", None)
        return {"trainable_variables": self.trainable_variables,
                "non_trainable_variables": self.non_trainable_variables,
                "optimizer_variables": optimizer.variables if optimizer is not None else [],
                "metrics_variables": self.metrics_variables}


def _by_path(nested, prefix=""):
    """(path, value) of each leaf of nested dicts; a list is a value ([[0.6], [0.7]]), not a level."""
    for key, value in nested.items():
        path = prefix + "/" + key if prefix else key
        if isinstance(value, dict):
            yield from _by_path(value, path)
        else:
            yield path, value


def _nested(variables, value_format):
    tree = {}
    seen = set()
    for variable in variables:
        if variable.path in seen:
            raise ValueError("The following variable path is found twice in the model: '%s'. "
                             "`get_state_tree()` can only be called when all variable paths are unique. Make "
                             "sure to give unique names to your layers (and other objects)." % variable.path)
        seen.add(variable.path)
        *parents, leaf = variable.path.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = variable.value if value_format == "backend_tensor" else variable.numpy()
    return tree
