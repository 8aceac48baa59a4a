"""Theano's typed_list ops: getitem, append, extend, insert, remove, reverse, index_, count, length
and make_list.  Each computes in Python on the host (perform), never in place: a list value is
never changed, each op makes a new one, so a graph may use a list twice."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable, constant
from mlcore.typed_list.type import TypedListType, as_items

INDEX = TensorType("int64", ())


class TypedListOp(Op):
    """An op on typed lists: run(*values) on the host; results are new lists, never foldable
    (a list is not a constant the interpreter folds)."""

    foldable = False

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.run(*inputs)

    def __str__(self):
        return type(self).__name__


# list outputs are made as x.type(): a TypedListVariable, with the list methods

def _list(op, x):
    if not isinstance(getattr(x, "type", None), TypedListType):
        raise TypeError("%s takes a typed list (TypedListType(...)()) first, not %r of type %s"
                        % (op, x, getattr(x, "type", type(x).__name__)))
    return x


def _item(op, x, value):
    """value as a variable of x's item type, or an error naming the op and both types."""
    value = as_tensor_variable(value)
    if value.dtype != x.ttype.dtype or value.ndim != x.ttype.ndim:
        raise TypeError("%s: the list holds %r items; got %s of type %s" % (op, x.ttype, value, value.type))
    return value


def _index(op, index):
    index = constant(np.int64(index)) if not isinstance(index, Variable) else index
    if index.ndim != 0 or np.dtype(index.dtype).kind not in "iu":
        raise TypeError("%s: an index is an integer scalar, not %s of type %s" % (op, index, index.type))
    return index


def _same(a, b):
    return a.shape == b.shape and bool(np.all(a == b))


class GetItem(TypedListOp):
    """x[i] (an item) or x[start:stop:step] (a list; the bounds are ints or None)."""

    __props__ = ("slice",)

    def __init__(self, slice=None):  # noqa: A002
        self.slice = slice

    def make_node(self, x, index=None):
        x = _list(self, x)
        if self.slice is not None:
            return Apply(self, [x], [x.type()])
        return Apply(self, [x, _index(self, index)], [x.ttype])

    def run(self, items, index=None):
        return items[slice(*self.slice)] if self.slice is not None else items[int(index)]


def getitem(x, index):
    if isinstance(index, slice):
        bounds = (index.start, index.stop, index.step)
        if any(isinstance(b, Variable) for b in bounds):
            raise NotImplementedError("typed_list getitem: a slice's bounds must be ints or None, not symbolic")
        return GetItem(bounds)(x)
    return GetItem()(x, index)


class Append(TypedListOp):
    def make_node(self, x, item):
        x = _list(self, x)
        return Apply(self, [x, _item(self, x, item)], [x.type()])

    def run(self, items, item):
        return as_items(list(items) + [item.copy()])


class Extend(TypedListOp):
    def make_node(self, x, other):
        x, other = _list(self, x), _list(self, other)
        if other.type != x.type:
            raise TypeError("%s: cannot extend a list of %r with a list of %r" % (self, x.ttype, other.ttype))
        return Apply(self, [x, other], [x.type()])

    def run(self, items, others):
        return as_items(list(items) + [item.copy() for item in others])


class Insert(TypedListOp):
    def make_node(self, x, index, item):
        x = _list(self, x)
        return Apply(self, [x, _index(self, index), _item(self, x, item)], [x.type()])

    def run(self, items, index, item):
        items = list(items)
        items.insert(int(index), item.copy())
        return as_items(items)


class Remove(TypedListOp):
    """The list without the first item equal to the given one (by shape and values)."""

    def make_node(self, x, item):
        x = _list(self, x)
        return Apply(self, [x, _item(self, x, item)], [x.type()])

    def run(self, items, item):
        found = next((k for k, other in enumerate(items) if _same(other, item)), None)
        if found is None:
            raise ValueError("typed_list remove: the item is not in the list")
        return as_items([other for k, other in enumerate(items) if k != found])


class Reverse(TypedListOp):
    def make_node(self, x):
        x = _list(self, x)
        return Apply(self, [x], [x.type()])

    def run(self, items):
        return as_items(list(items)[::-1])


class Index(TypedListOp):
    """The position of the first item equal to the given one (int64)."""

    def make_node(self, x, item):
        x = _list(self, x)
        return Apply(self, [x, _item(self, x, item)], [INDEX])

    def run(self, items, item):
        found = next((k for k, other in enumerate(items) if _same(other, item)), None)
        if found is None:
            raise ValueError("typed_list index_: the item is not in the list")
        return np.int64(found)


class Count(TypedListOp):
    """How many items equal the given one (int64)."""

    def make_node(self, x, item):
        x = _list(self, x)
        return Apply(self, [x, _item(self, x, item)], [INDEX])

    def run(self, items, item):
        return np.int64(sum(_same(other, item) for other in items))


class Length(TypedListOp):
    def make_node(self, x):
        return Apply(self, [_list(self, x)], [INDEX])

    def run(self, items):
        return np.int64(len(items))


class MakeList(TypedListOp):
    """A typed list of the given tensors, which must share one type."""

    def make_node(self, *items):
        if len(items) == 1 and isinstance(items[0], (list, tuple)):     # make_list([a, b]), as Theano's
            items = items[0]
        items = [as_tensor_variable(item) for item in items]
        if not items:
            raise TypeError("make_list: give at least one item (its type is the list's)")
        kinds = {(item.dtype, item.ndim) for item in items}
        if len(kinds) > 1:
            raise TypeError("make_list: the items must share one type; got %s"
                            % ", ".join(str(item.type) for item in items))
        return Apply(self, items, [TypedListType(TensorType(items[0].dtype, (None,) * items[0].ndim))()])

    def run(self, *items):
        return as_items([item.copy() for item in items])


append, extend, insert, remove, reverse = Append(), Extend(), Insert(), Remove(), Reverse()
index_, count, length, make_list = Index(), Count(), Length(), MakeList()
