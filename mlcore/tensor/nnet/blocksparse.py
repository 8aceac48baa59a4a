"""theano.tensor.nnet.blocksparse: products with chosen blocks of a block matrix W (input blocks,
output blocks, input size, output size), for layers that read and write only a few blocks per
example (Theano's hierarchical softmax and block-sparse layers).

The blocks each example needs are gathered with one advanced index and contracted with its
input blocks by one batched matmul, so the gradients (a scatter-add into W, a product into h)
are those ops' pullbacks.  Theano's SparseBlockGemv and SparseBlockOuter ops are offered as the
functions sparse_block_gemv and sparse_block_outer."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.indexing import inc_subtensor
from mlcore.graph.ops.linalg import matmul
from mlcore.graph.ops.shape import dimshuffle, reshape


def _pairs(first, second):
    """The advanced index of the blocks (first[b, i], second[b, j]): (batch, len i, len j)."""
    return dimshuffle(first, 0, 1, "x"), dimshuffle(second, 0, "x", 1)


def sparse_block_gemv(o, W, h, inputIdx, outputIdx):
    """o (batch, oWin, oSize) plus, for each example b and output block j, the sum over its input
    blocks i of dot(h[b, i], W[inputIdx[b, i], outputIdx[b, j]]); h is (batch, iWin, iSize)."""
    o, W, h, inputIdx, outputIdx = (as_tensor_variable(v) for v in (o, W, h, inputIdx, outputIdx))
    blocks = W[_pairs(inputIdx, outputIdx)]                                      # batch iWin oWin iSize oSize
    batch, windows = h.shape[0], outputIdx.shape[1]
    blocks = reshape(dimshuffle(blocks, 0, 2, 1, 3, 4), [batch, windows, -1, W.shape[3]])
    rows = dimshuffle(reshape(h, [batch, -1]), 0, "x", "x", 1)                  # batch 1 1 iWin*iSize
    return o + matmul(rows, blocks)[:, :, 0, :]


def sparse_block_outer(o, x, y, xIdx, yIdx, alpha=None):
    """o (xBlocks, yBlocks, xSize, ySize) with alpha * outer(x[b, i], y[b, j]) added to its block
    (xIdx[b, i], yIdx[b, j]) for every example b (a block chosen twice gets both); the product
    in sparse_block_gemv's gradient with respect to W."""
    o, x, y = (as_tensor_variable(v) for v in (o, x, y))
    outer = dimshuffle(x, 0, 1, "x", 2, "x") * dimshuffle(y, 0, "x", 1, "x", 2)
    return inc_subtensor(o[_pairs(as_tensor_variable(xIdx), as_tensor_variable(yIdx))],
                         outer if alpha is None else alpha * outer)


def sparse_block_dot(W, h, inputIdx, b, outputIdx):
    """For each example, the output blocks outputIdx (batch, oWin) of h's blocks inputIdx (batch,
    iWin) times W, plus each output block's bias from b (oBlocks, oSize), added once:
    (batch, oWin, oSize).  A 2-d h (iWin, iSize) with 1-d indices is one example."""
    h, inputIdx, outputIdx, b = (as_tensor_variable(v) for v in (h, inputIdx, outputIdx, b))
    if inputIdx.ndim != h.ndim - 1 or outputIdx.ndim != inputIdx.ndim:
        raise ValueError("sparse_block_dot: inputIdx and outputIdx need one dim less than h, got %s, %s and %s"
                         % (h.type, inputIdx.type, outputIdx.type))
    if h.ndim == 2:
        h, inputIdx, outputIdx = dimshuffle(h, "x", 0, 1), dimshuffle(inputIdx, "x", 0), dimshuffle(outputIdx, "x", 0)
    return sparse_block_gemv(b[outputIdx], W, h, inputIdx, outputIdx)
