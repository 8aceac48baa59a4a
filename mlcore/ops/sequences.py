"""keras.ops over sequences: scaled dot-product attention (with Keras's bias, boolean mask,
causal mask and grouped-query heads) and extract_sequences, a signal cut into overlapping frames."""
import numpy as np

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.extra_ops import tri
from mlcore.ops.arrays import repeat, take
from mlcore.ops.core import as_float, as_tensor
from mlcore.ops.reductions import einsum
from mlcore.activations import softmax


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(query . key * scale + bias) . value for (batch, length, heads, head_dim) arrays;
    key and value may have fewer heads, each shared by heads // key_heads query heads.  Masked-out
    logits (mask False, or a key after the query when is_causal) become -0.7 * the dtype's largest
    value, as in jax.nn.dot_product_attention, so a fully masked row averages all values."""
    query, key, value = as_float(query), as_float(key), as_float(value)
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
    logits = einsum("btnh,bsnh->bnts", query, key) * scale
    if bias is not None:
        logits = logits + as_tensor(bias)
    keep = None if mask is None else ew.cast(as_tensor(mask), "bool")
    if is_causal:
        causal = ew.cast(tri(query.type.shape[1], key.type.shape[1]), "bool")
        keep = causal if keep is None else ew.and_(keep, causal)
    if keep is not None:
        logits = ew.switch(keep, logits, -0.7 * float(np.finfo(logits.dtype).max))
    return einsum("bnts,bsnh->btnh", softmax(logits, axis=-1), value)


def extract_sequences(x, sequence_length, sequence_stride):
    """The last axis (of known length) cut into frames of sequence_length, sequence_stride apart:
    (..., length) to (..., frames, sequence_length)."""
    x = as_tensor(x)
    length = x.type.shape[-1] if x.ndim else None
    if length is None:
        raise ValueError("extract_sequences needs x's last axis to be of known length, got shape %s"
                         % (x.type.shape,))
    frames = max(0, (length - sequence_length) // sequence_stride + 1)
    starts = np.arange(frames)[:, None] * sequence_stride
    return take(x, starts + np.arange(sequence_length)[None, :], axis=-1)
