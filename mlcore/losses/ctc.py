"""keras.losses.ctc and keras.losses.CTC: the CTC loss of logits (batch, time, classes) for integer
labels (batch, max_length), 0 the blank, the label length each row's count of non-zero entries and
every time step read (Keras's rules).  The recursion itself is mlcore.ops.ctc_loss."""
from mlcore.losses.classes import Loss, LossFunctionWrapper
from mlcore.losses.functions import accepts_arrays


@accepts_arrays
def ctc(y_true, y_pred):
    """The CTC loss of each sample; y_pred holds logits (not softmax output)."""
    # the graph-building functions, not mlcore.ops's (which run at once on constants); imported here
    # because mlcore.ops's crossentropies import mlcore.losses
    from mlcore.ops import arrays, core, elementwise, reductions
    from mlcore.ops.ctc import ctc_loss
    y_true, y_pred = core.as_tensor(y_true), core.as_tensor(y_pred)
    if y_true.ndim != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         "integer format. Received: y_true.shape=%s" % (y_true.type.shape,))
    if y_pred.ndim != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         "num_classes)`. Received: y_pred.shape=%s" % (y_pred.type.shape,))
    batch, steps = core.shape(y_pred)[:2]
    output_length = arrays.full((batch,), steps, dtype="int32")
    target_length = reductions.sum(core.cast(elementwise.not_equal(y_true, 0), "int32"), axis=-1)
    return ctc_loss(y_true, y_pred, target_length, output_length, mask_index=0)


ctc.label_sequences = True     # fit passes its targets as they are: (batch, max_length), not the output's shape


class CTC(LossFunctionWrapper):
    """The reduced CTC loss (y_pred: logits)."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Keras 1/2's K.ctc_batch_cost: y_pred softmax probabilities (batch, time, classes) whose last
    class is the blank (TensorFlow's convention), input_length and label_length (batch, 1); the loss
    of each sample as (batch, 1).  Keras 2 takes log(y_pred + epsilon) as the logits, as here."""
    from mlcore import config
    from mlcore.ops import arrays, core, elementwise
    from mlcore.ops.ctc import ctc_loss
    y_pred = core.as_tensor(y_pred)
    logits = elementwise.log(y_pred + config.epsilon())
    loss = ctc_loss(y_true, logits, arrays.reshape(label_length, (-1,)), arrays.reshape(input_length, (-1,)),
                    mask_index=core.shape(y_pred)[2] - 1)
    return arrays.expand_dims(loss, 1)
