"""keras.ops over sequences: scaled dot-product attention (with Keras's bias, boolean mask,
causal mask and grouped-query heads) and extract_sequences, a signal cut into overlapping frames."""
import numpy as np

from mlcore import config
from mlcore.dtype_promotion import result_type
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import is_float_dtype
from mlcore.graph.ops.extra_ops import tri
from mlcore.graph.ops.nn import softmax     # not keras.activations' (it warns over one key, no mistake here)
from mlcore.ops.arrays import repeat, take
from mlcore.ops.core import as_tensor
from mlcore.ops.reductions import einsum


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(query . key * scale + bias) . value for (batch, length, heads, head_dim) arrays;
    key and value may have fewer heads, each shared by heads // key_heads query heads.  Masked-out
    logits (mask False, or a key after the query when is_causal) become -0.7 * the dtype's largest
    value, as in jax.nn.dot_product_attention, so a fully masked row averages all values.  As there,
    the inputs meet in their result_type (floatx for ints), the logits and softmax in at least float32."""
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    dtype = result_type(query.dtype, key.dtype, value.dtype)
    dtype = dtype if is_float_dtype(dtype) else config.floatx()
    logits_dtype = result_type(dtype, "float32")
    if not query.ndim == key.ndim == value.ndim == 4:
        raise ValueError("`dot_product_attention` only supports 4D inputs. Received: query.shape=%s, key.shape=%s, "
                         "value.shape=%s." % (query.type.shape, key.type.shape, value.type.shape))
    if flash_attention or attn_logits_soft_cap is not None:
        raise ValueError("dot_product_attention: flash_attention and attn_logits_soft_cap need a GPU or TPU "
                         "kernel mlcore does not have")
    heads, key_heads, head_dim = query.type.shape[2], key.type.shape[2], query.type.shape[3]
    if heads % key_heads:
        raise ValueError("dot_product_attention: query's %d heads (shape %s) are not a multiple of key's %d "
                         "(shape %s)" % (heads, query.type.shape, key_heads, key.type.shape))
    if heads != key_heads:
        key, value = repeat(key, heads // key_heads, axis=2), repeat(value, heads // key_heads, axis=2)
    scale = 1.0 / np.sqrt(head_dim) if scale is None else scale
    logits = einsum("btnh,bsnh->bnts", ew.cast(query, logits_dtype), ew.cast(key, logits_dtype))
    logits = logits * ew.cast(as_tensor(scale), logits_dtype)
    if bias is not None:
        logits = logits + ew.cast(as_tensor(bias), dtype)
    keep = None if mask is None else ew.cast(as_tensor(mask), "bool")
    if is_causal:
        causal = ew.cast(tri(query.type.shape[1], key.type.shape[1]), "bool")
        keep = causal if keep is None else ew.and_(keep, causal)
    if keep is not None:
        logits = ew.switch(keep, logits, -0.7 * float(np.finfo(logits.dtype).max))
    probabilities = ew.cast(softmax(logits, axis=-1), dtype)
    return einsum("bnts,bsnh->btnh", probabilities, ew.cast(value, dtype))


def extract_sequences(x, sequence_length, sequence_stride):
    """The last axis (of known length) cut into frames of sequence_length, sequence_stride apart:
    (..., length) to (..., frames, sequence_length)."""
    x = as_tensor(x)
    if not x.ndim:
        raise ValueError("extract_sequences: Input should have rank >= 1. Received: input.shape = ()")
    length = x.type.shape[-1]
    if length is None:
        raise ValueError("extract_sequences needs x's last axis to be of known length, got shape %s"
                         % (x.type.shape,))
    frames = max(0, (length - sequence_length) // sequence_stride + 1)
    starts = np.arange(frames)[:, None] * sequence_stride
    return take(x, starts + np.arange(sequence_length)[None, :], axis=-1)
