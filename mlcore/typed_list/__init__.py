"""theano.typed_list: lists of tensors of one type as graph values (mlcore/typed_list/type.py says
where they run)."""
from mlcore.typed_list.basic import (Append, Count, Extend, GetItem, Index, Insert, Length,  # noqa: F401
                                     MakeList, Remove, Reverse, append, count, extend, getitem, index_,
                                     insert, length, make_list, remove, reverse)
from mlcore.typed_list.type import TypedListType, TypedListVariable  # noqa: F401
