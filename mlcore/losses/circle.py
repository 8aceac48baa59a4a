"""keras.losses.circle and keras.losses.Circle: the Circle loss (Sun et al., 2020) of L2-normalised
embeddings with integer labels.  Each sample's similarities to the reference embeddings (by default
the batch itself) are weighted by how far each lies from its optimum, positives (same label) and
negatives apart, and the loss is softplus(logsumexp(positive terms) + logsumexp(negative terms)).
A sample with no positive or no negative pair has loss 0 and is masked out of the mean, as in Keras."""
from mlcore.keras_masks import set_keras_mask
from mlcore.losses.classes import Loss, LossFunctionWrapper
from mlcore.losses.functions import accepts_arrays


def _masked_logsumexp(x, mask):
    """logsumexp over axis 1 of the entries where mask holds; -inf for a row with none.  The masked
    entries never reach exp, so neither the value nor the gradient sees an overflow."""
    from mlcore.ops import elementwise as ew, reductions as red
    top = red.max(ew.where(mask, x, float("-inf")), axis=1, keepdims=True)
    top = ew.where(ew.isfinite(top), top, 0.0)
    kept = ew.where(mask, x, top)
    total = red.sum(ew.where(mask, ew.exp(kept - top), 0.0), axis=1)
    return ew.where(total > 0, ew.log(ew.where(total > 0, total, 1.0)) + top[:, 0], float("-inf"))


@accepts_arrays
def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """The Circle loss of each sample; y_true (batch,) integer labels, y_pred (batch, dim) L2-normalised
    embeddings; ref_labels / ref_embeddings default to y_true / y_pred."""
    from mlcore import activations
    from mlcore.ops import arrays, core, elementwise as ew, reductions as red
    y_pred = core.as_tensor(y_pred)
    y_true = arrays.reshape(core.cast(y_true, "int32"), (-1, 1))
    references = y_pred if ref_embeddings is None else core.as_tensor(ref_embeddings)
    ref_labels = y_true if ref_labels is None else arrays.reshape(core.cast(ref_labels, "int32"), (-1, 1))
    distances = ew.maximum(1 - red.matmul(y_pred, arrays.transpose(references)), 0.0)
    positive = ew.equal(y_true, arrays.transpose(ref_labels))
    negative = ew.logical_not(positive)
    if remove_diagonal:
        positive = ew.logical_and(positive, ew.logical_not(arrays.eye(core.shape(y_true)[0],
                                                                      core.shape(ref_labels)[0], dtype="bool")))
    positive_weights = ew.maximum((margin + distances) * core.cast(positive, distances.dtype), 0.0)
    negative_weights = ew.maximum((1 + margin - distances) * core.cast(negative, distances.dtype), 0.0)
    positive_terms = -gamma * positive_weights * (margin - distances)
    negative_terms = gamma * negative_weights * (1 - margin - distances)
    loss = activations.softplus(_masked_logsumexp(positive_terms, positive) + _masked_logsumexp(negative_terms, negative))
    set_keras_mask(loss, loss > 0)
    return loss


class Circle(LossFunctionWrapper):
    """The reduced Circle loss; samples whose loss is 0 leave the mean."""

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def get_config(self):
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}
