"""keras.name_scope: a prefix for the paths of the variables created inside it.

Its scopes share one stack with the layers' own (mlcore/layers/layer_state.py), so they nest with
them as Keras's do: a layer first built or called inside `name_scope("block")` gets the path
"block/dense", and a keras.Variable made there "block/<name>".  A layer's add_weight reopens the
layer's scope under the path the layer was first met in, so a name_scope opened inside build()
leaves the weights' paths alone, as in Keras.
"""
from mlcore.layers import layer_state


class name_scope:
    """with name_scope("block"): ... puts "block/" before the paths made inside.

    caller: the object opening the scope; with deduplicate=True, a scope with the same name and caller
    as the innermost one is not opened twice, and a caller that sits somewhere (a layer's path) puts
    the scope under that path.  override_parent: a path to sit under instead of the open scopes'."""

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             "Received: name=%s" % (name,))
        self.name, self.caller, self.deduplicate = name, caller, deduplicate
        if override_parent is None and deduplicate:
            override_parent = getattr(caller, "_parent_path", None)
        self.override_parent = override_parent
        self._pushed = False

    def __enter__(self):
        scopes = layer_state._scopes
        if self.deduplicate and scopes and self.caller is not None:
            name, caller, _ = scopes[-1]
            if caller is self.caller and name == self.name:
                return self
        scopes.append((self.name, self.caller, self.override_parent))
        self._pushed = True
        return self

    def __exit__(self, *exc_info):
        if self._pushed:
            layer_state._scopes.pop()
            self._pushed = False


def current_path():
    """The path the open scopes give, as "block/inner" ("" outside any)."""
    return layer_state.current_path()
