"""theano.tensor.opt: register_canonicalize, register_stabilize and register_specialize put a local
optimizer (gof.local_optimizer, PatternSub, ...) into that rewrite pass of every function compiled
after it, used as a decorator or called; a name given first makes a decorator."""
from mlcore.graph.rewrite.registry import add_local_rule


def _registrar(group):
    def register(lopt, *tags, **kwargs):
        if isinstance(lopt, str):             # @register_canonicalize("name", "tag")
            return lambda inner: register(inner, *tags, **kwargs)
        add_local_rule(group, lopt.rule if hasattr(lopt, "rule") else lopt)
        return lopt
    register.__name__ = "register_" + group
    register.__doc__ = "Add a local optimizer to the %s pass of the functions compiled from now on." % group
    return register


register_canonicalize = _registrar("canonicalize")
register_stabilize = _registrar("stabilize")
register_specialize = _registrar("specialize")
