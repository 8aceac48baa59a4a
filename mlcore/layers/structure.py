"""Nested inputs and outputs (lists, tuples and dicts of tensors), walked with Keras's tree rules
(mlcore.tree): what Layer.__call__ and the InputSpec checks share."""
from mlcore.tree import flatten, map_structure

__all__ = ["flatten", "map_structure"]
