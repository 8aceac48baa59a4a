"""Layers that wrap a layer: Bidirectional (an RNN run forwards and backwards, outputs merged),
TimeDistributed (a layer applied to every time step), and their base Wrapper for users' own."""
from mlcore.graph import ops
from mlcore.graph.basic import clone
from mlcore.layers.base import Layer, collect_extras
from mlcore.layers.recurrent_cells import build_sublayer

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_named(layer, name, **changes):
    """A new layer from layer's config (Keras's way to copy one), renamed as Bidirectional names its halves."""
    return type(layer).from_config({**layer.get_config(), "name": name, **changes})


def _halves(states):
    """(forward states, backward states) of a list given for both halves, or (None, None)."""
    if states is None:
        return None, None
    half = len(states) // 2
    return list(states[:half]), list(states[half:])


def _prefixed(prefix, name):
    return prefix + (name[len(prefix):] if name.startswith(prefix) else name)


class Bidirectional(Layer):
    """Runs an RNN layer over the sequence forwards and a copy of it backwards, and merges their outputs
    ("concat", "sum", "mul", "ave", or None for both as a list). The backward outputs are put back in
    time order before merging. Its weights are the forward layer's, then the backward layer's.  A mask
    goes to both; returning sequences, both output zeros at padding steps (zero_output_for_mask), as in Keras."""
    supports_masking = True
    sublayer_attributes = ("backward_layer", "forward_layer")   # Keras 3's weight files, by attribute name

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             "Received: %s" % (layer,))
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `keras.layers.Layer` instance. Received: %s"
                             % (backward_layer,))
        if merge_mode not in MERGE_MODES:
            raise ValueError('Invalid merge mode. Received: %s. Merge mode should be one of {"sum", "mul", '
                             '"ave", "concat", None}' % (merge_mode,))
        super().__init__(**kwargs)
        self.forward_layer = _copy_named(layer, _prefixed("forward_", layer.name))
        self.backward_layer = backward_layer if backward_layer is not None else \
            _copy_named(layer, _prefixed("backward_", layer.name), go_backwards=True)
        if hasattr(layer, "use_cudnn"):        # not in the config: kept as Keras keeps it
            self.forward_layer.use_cudnn = self.backward_layer.use_cudnn = layer.use_cudnn
        self._check_directions()
        for half in (self.forward_layer, self.backward_layer):
            half.zero_output_for_mask = half.return_sequences
        self.merge_mode = merge_mode
        self.initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.rowwise = layer.rowwise

    def _check_directions(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value. "
                             "Received: forward_layer.go_backwards %s, backward_layer.go_backwards=%s"
                             % (forward.go_backwards, backward.go_backwards))
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError('Forward layer and backward layer are expected to have the same value for '
                                 'attribute "%s", got "%s" for forward layer and "%s" for backward layer'
                                 % (attribute, getattr(forward, attribute), getattr(backward, attribute)))

    def build(self, sequences_shape, initial_state_shape=None):
        for layer in (self.forward_layer, self.backward_layer):
            build_sublayer(self, layer, sequences_shape)
        if self.initial_weights:
            self.set_weights(self.initial_weights)
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state, backward_state = _halves(initial_state)
        y = self.forward_layer.call(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer.call(sequences, initial_state=backward_state, mask=mask, training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merged = self._merge(y, y_rev)
        outputs = merged if isinstance(merged, list) else [merged]
        return tuple(outputs + states) if self.return_state or len(outputs) > 1 else merged

    def reset_states(self, states=None):
        """Both halves' states (stateful=True): zeros, or the given forward states then backward ones."""
        forward_states, backward_states = _halves(states)
        self.forward_layer.reset_states(forward_states)
        self.backward_layer.reset_states(backward_states)

    reset_state = reset_states

    @property
    def states(self):
        """Both halves' state variables, forward ones first, where they are stateful; else None (Keras's)."""
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states + self.backward_layer.states)
        return None

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] if self.merge_mode else [output_mask, output_mask]
        return masks + [None] * 2 * len(self.forward_layer.state_size) if self.return_state else \
            masks if len(masks) > 1 else output_mask

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def get_config(self):
        from mlcore.models.serialization import layer_config    # mlcore.models imports the layers
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": layer_config(self.forward_layer),
                "backward_layer": layer_config(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.models.serialization import layer_from_config
        config = dict(config)
        config["layer"] = layer_from_config(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = layer_from_config(config["backward_layer"], custom_objects)
        return cls(**config)


class Wrapper(Layer):
    """The base of a layer that wraps a layer (keras.layers.Wrapper), for users' wrappers: it holds it as
    `layer` (its weights are the wrapper's, saved under "layer" as Keras 3 saves them), builds it on the
    wrapper's input shape unless a subclass says otherwise, and keeps it in its config."""
    sublayer_attributes = ("layer",)

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Layer %s supplied to Wrapper isn't a supported layer type. Please ensure wrapped "
                             "layer is a valid Keras layer." % (layer,))
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        build_sublayer(self, self.layer, input_shape)
        self.built = True

    def get_config(self):
        from mlcore.models.serialization import layer_config    # mlcore.models imports the layers
        return {**super().get_config(), "layer": layer_config(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.models.serialization import layer_from_config
        config = dict(config)
        return cls(layer_from_config(config.pop("layer"), custom_objects), **config)


def _check_mask(mask_shape, input_shape):
    """Keras's checks of a TimeDistributed mask: at least (batch, timesteps), and those as the inputs'."""
    if len(mask_shape) < 2:
        raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                         "`(batch_size, timesteps)`), but it has %d dimension(s) with shape %s."
                         % (len(mask_shape), tuple(mask_shape)))
    if any(None not in (m, i) and m != i for m, i in zip(mask_shape[:2], input_shape[:2])):
        raise ValueError("The `mask` passed to the `TimeDistributed` layer has a shape %s that is incompatible "
                         "with the input shape %s. The first two dimensions of the mask (batch size and timesteps) "
                         "must match the input's first two dimensions. Expected mask shape prefix: (%s, %s)."
                         % (tuple(mask_shape), tuple(input_shape), input_shape[0], input_shape[1]))


class TimeDistributed(Wrapper):
    """Applies a layer to every time step of (batch, time, ...) inputs.  A row-wise layer (Dense, Conv2D)
    runs as one call on the steps stacked along the batch axis (batch * time rows), so its graph appears
    once, not once per step; another (BatchNormalization, Lambda) runs per step, as in Keras.  A (batch,
    time) mask passes through, and reaches the layer, one entry per row, if its call takes one."""
    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             "Received: %s" % (layer,))
        super().__init__(layer, **kwargs)
        self.rowwise = layer.rowwise

    def _step_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                             "dimensions, received: %s" % (tuple(input_shape),))
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        build_sublayer(self, self.layer, self._step_shape(input_shape))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        static = inputs.type.shape
        self._step_shape(static)
        if mask is not None:
            mask = ops.as_tensor_variable(mask)
            _check_mask(mask.type.shape, static)
        if not self.layer.rowwise and static[1] is not None:
            return self._call_step_by_step(inputs, training, mask)
        batch, steps = (static[k] if static[k] is not None else inputs.shape[k] for k in (0, 1))
        rows = ops.reshape(inputs, [batch * steps] + self._dims(inputs, 2), ndim=inputs.ndim - 1)
        row_mask = None if mask is None else ops.reshape(mask, [batch * steps] + self._dims(mask, 2),
                                                         ndim=mask.ndim - 1)
        outputs = self.layer.call_for_step(rows, training, mask=row_mask)
        return ops.reshape(outputs, [batch, steps] + self._dims(outputs, 1), ndim=outputs.ndim + 1)

    def _call_step_by_step(self, inputs, training, mask):
        """A layer whose rows depend on each other (BatchNormalization's batch statistics) runs once per
        time step, as Keras's TimeDistributed runs every layer; each step's updates start from the last
        step's (a moving mean moves once per step, as Keras's assignments do)."""
        outputs, pending = [], {}
        for t in range(inputs.type.shape[1]):
            with collect_extras() as extras:
                outputs.append(self.layer.call_for_step(inputs[:, t], training,
                                                        mask=None if mask is None else mask[:, t]))
            for variable, value in extras.updates:
                pending[variable] = clone(value, pending) if pending else value
            for loss in extras.losses:
                self.add_loss(loss)
        for variable, value in pending.items():
            self.add_update(variable, value)
        return ops.stack(outputs, axis=1)

    @staticmethod
    def _dims(tensor, start):
        """tensor's dims from `start` on: the known ones as ints, so that they stay known after a reshape."""
        return [d if d is not None else tensor.shape[k] for k, d in enumerate(tensor.type.shape) if k >= start]
