"""Nested inputs and outputs (lists, tuples and dicts of tensors), walked as Keras's tree module walks
them: what Layer.__call__ and the InputSpec checks share."""


def flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [t for s in structure for t in flatten(s)]
    if isinstance(structure, dict):
        return [t for v in structure.values() for t in flatten(v)]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)
