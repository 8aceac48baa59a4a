"""keras.tree: nested structures (lists, tuples, namedtuples, dicts, deques) walked as Keras 3 walks
them, with its rules: a dict's leaves come in sorted key order (an OrderedDict's in its own order)
while a rebuilt dict keeps the original's key order; None is a leaf; subclasses of list, tuple or
dict other than namedtuple, OrderedDict and defaultdict are leaves; two structures match when each
node has the same kind, length and keys, and the errors say where they do not (optree's words,
which Keras 3 passes on).  Layers walk their inputs and outputs with flatten and map_structure.
"""
import collections
import warnings

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]

_DICTS = (dict, collections.OrderedDict, collections.defaultdict)


class MAP_TO_NONE:
    """Returned by traverse's func to replace a sub-tree with None."""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields") and hasattr(type(x), "_make")


def _kind(x, none_is_leaf=True):
    """The kind of node x is ('list', 'tuple', 'namedtuple', 'dict', 'deque', 'None'), None for a leaf."""
    kind = type(x)
    if kind is list or kind is tuple:
        return kind.__name__
    if kind in _DICTS:
        return "dict"
    if kind is collections.deque:
        return "deque"
    if x is None:
        return None if none_is_leaf else "None"
    return "namedtuple" if _is_namedtuple(x) else None


def _sorted_keys(mapping):
    """Sorted keys, or sorted by type name first where keys of different types do not compare."""
    if type(mapping) is collections.OrderedDict:
        return list(mapping)
    try:
        return sorted(mapping)
    except TypeError:
        return sorted(mapping, key=lambda k: (type(k).__name__, k))


def _entries(x, kind):
    """x's (path entries, children), in flatten order."""
    if kind == "dict":
        keys = _sorted_keys(x)
        return keys, [x[k] for k in keys]
    if kind == "None":
        return [], []
    return list(range(len(x))), list(x)


def _rebuild(x, kind, children):
    """A node like x holding children (given in flatten order)."""
    if kind == "list":
        return list(children)
    if kind == "tuple":
        return tuple(children)
    if kind == "namedtuple":
        return type(x)(*children)
    if kind == "deque":
        return collections.deque(children, maxlen=x.maxlen)
    if kind == "None":
        return None
    values = dict(zip(_sorted_keys(x), children))
    items = [(k, values[k]) for k in x]              # the original's key order
    if type(x) is collections.defaultdict:
        return collections.defaultdict(x.default_factory, items)
    return type(x)(items)


_EXPECTED = {"list": "list", "tuple": "tuple", "namedtuple": "collections.namedtuple", "deque": "collections.deque",
             "dict": "dict, collections.OrderedDict, or collections.defaultdict"}


def _matching_children(x, kind, keys, other, none_is_leaf=True):
    """other's children in the order of x's (which has kind and keys), or a ValueError saying how
    other's node differs from x's."""
    if _kind(other, none_is_leaf) != kind:
        if kind == "None":
            raise ValueError("Expected None, got %r." % (other,))
        raise ValueError("Expected an instance of %s, got %r." % (_EXPECTED[kind], other))
    if kind == "namedtuple" and type(other) is not type(x):
        raise ValueError("namedtuple type mismatch; expected type: %s, got type: %s; tuple: %r."
                         % (type(x), type(other), other))
    if kind == "dict":
        if set(other) != set(keys):
            missing = [k for k in keys if k not in other]
            extra = [k for k in _sorted_keys(other) if k not in x]
            raise ValueError("dictionary key mismatch; expected key(s): %r, got key(s): %r%s%s; %s: %r."
                             % (keys, _sorted_keys(other), ", missing key(s): %r" % missing if missing else "",
                                ", extra key(s): %r" % extra if extra else "", type(x).__name__, dict(other)))
        return [other[k] for k in keys]
    if len(other) != len(keys):
        raise ValueError("%s arity mismatch; expected: %d, got: %d; %s: %r."
                         % (kind, len(keys), len(other), kind, other))
    return list(other)


def _not_nested(values, none_is_leaf=True):
    if any(_kind(v, none_is_leaf) is not None for v in values):
        raise ValueError("Structures don't have the same nested structure.")


def is_nested(structure):
    """Whether structure is a list, tuple, namedtuple, dict (or OrderedDict, defaultdict) or deque."""
    return _kind(structure) is not None


def flatten(structure):
    """The leaves of structure, depth first, a dict's in sorted key order."""
    kind = _kind(structure)
    if kind is None:
        return [structure]
    return [leaf for child in _entries(structure, kind)[1] for leaf in flatten(child)]


def flatten_with_path(structure):
    """(path, leaf) pairs in flatten's order; a path is the tuple of indices and keys to the leaf."""
    kind = _kind(structure)
    if kind is None:
        return [((), structure)]
    keys, children = _entries(structure, kind)
    return [((key,) + path, leaf) for key, child in zip(keys, children) for path, leaf in flatten_with_path(child)]


def _map(func, structures, none_is_leaf, check_leaves):
    first = structures[0]
    kind = _kind(first, none_is_leaf)
    if kind is None:
        if check_leaves:
            _not_nested(structures[1:], none_is_leaf)
        return func(*structures)
    keys, children = _entries(first, kind)
    columns = [children] + [_matching_children(first, kind, keys, s, none_is_leaf) for s in structures[1:]]
    return _rebuild(first, kind, [_map(func, list(args), none_is_leaf, check_leaves) for args in zip(*columns)])


def map_structure(func, *structures, none_is_leaf=True):
    """func applied to the leaves at each position of structures of the same layout, in that layout
    (the first structure's types and key order); none_is_leaf=False leaves Nones as they are."""
    if not structures:
        raise ValueError("Must provide at least one structure")
    return _map(func, structures, none_is_leaf, check_leaves=len(structures) > 1)


def map_structure_up_to(shallow_structure, func, *structures):
    """func applied to the sub-trees of structures at the leaves of shallow_structure (deeper parts
    are passed whole); the structures must be at least as deep as shallow_structure."""
    if not structures:
        raise ValueError("Must provide at least one structure")
    return _map(lambda shallow, *args: func(*args), (shallow_structure,) + structures, True, check_leaves=False)


def assert_same_structure(a, b, check_types=None):
    """A ValueError unless a and b have the same layout (dict, OrderedDict and defaultdict match one
    another; list, tuple, namedtuple and deque do not)."""
    if check_types is not None:
        warnings.warn("The `check_types` argument is deprecated and no longer has any effect, please remove."
                      if check_types else
                      "The `check_types` argument is deprecated and no longer has any effect. For a looser "
                      "check, use `keras.tree.assert_same_paths()`, which considers `list`, `tuple`, "
                      "`namedtuple` and `deque` as matching", DeprecationWarning, stacklevel=2)
    _map(lambda *leaves: None, (a, b), True, check_leaves=True)


def _paths(structure):
    return {path for path, _ in flatten_with_path(structure)}


def assert_same_paths(a, b):
    """A ValueError unless a and b have leaves at the same paths, whatever their node types."""
    a_paths, b_paths = _paths(a), _paths(b)
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += "\nPaths in `a` missing in `b`:\n%s" % (a_paths - b_paths,)
        if b_paths - a_paths:
            message += "\nPaths in `b` missing in `a`:\n%s" % (b_paths - a_paths,)
        raise ValueError(message)


def pack_sequence_as(structure, flat_sequence):
    """flat_sequence's items put in structure's layout, in flatten's order."""
    leaves = list(flat_sequence)
    expected = len(flatten(structure))
    if len(leaves) < expected:
        raise ValueError("Too few leaves for PyTreeSpec; expected: %d, got: %d." % (expected, len(leaves)))
    if len(leaves) > expected:
        raise ValueError("Too many leaves for PyTreeSpec; expected: %d." % expected)
    items = iter(leaves)
    return map_structure(lambda _: next(items), structure)


def traverse(func, structure, top_down=True):
    """func applied to every sub-tree, parents first (top_down) or children first.  Top down, a
    result other than None replaces the sub-tree and stops the walk into it; bottom up, it replaces
    the rebuilt sub-tree.  MAP_TO_NONE replaces it with None."""
    def walk_children():
        kind = _kind(structure)
        if kind is None:
            return structure
        return _rebuild(structure, kind, [traverse(func, c, top_down) for c in _entries(structure, kind)[1]])

    if top_down:
        result = func(structure)
        if result is None:
            return walk_children()
    else:
        walked = walk_children()
        result = func(walked)
        if result is None:
            return walked
    return None if result is MAP_TO_NONE else result


def lists_to_tuples(structure):
    """structure with every list turned into a tuple."""
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure, top_down=False)


def _is_shape(x):
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_structure(func, structure):
    """func applied to each shape (a list or tuple of ints and None) of a structure of shapes."""
    if _is_shape(structure):
        return func(structure)
    kind = _kind(structure)
    if kind is None:
        return func(structure)
    return _rebuild(structure, kind, [map_shape_structure(func, c) for c in _entries(structure, kind)[1]])
