"""theano.tensor.elemwise: the op classes of elementwise maps, dimension shuffles and reductions."""
from mlcore.graph.ops.elemwise import Elemwise  # noqa: F401
from mlcore.graph.ops.reduce import Max, Min, Prod, Reduce as CAReduce, Sum  # noqa: F401
from mlcore.graph.ops.shape import DimShuffle  # noqa: F401
