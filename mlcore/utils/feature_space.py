"""keras.utils.FeatureSpace: one object that preprocesses and encodes the columns of structured data.

Each feature's layer (Normalization, Discretization, IntegerLookup, StringLookup, Hashing, Rescaling...) is
adapted to the data, then the features (and hashed crosses of them) are encoded (one-hot over each layer's
output space) and concatenated, or returned as a dict.  As in Keras, get_inputs() / get_encoded_features() give
that encoding as a graph to build models on, and calling the FeatureSpace on a dict of arrays runs it.

mlcore's graphs hold numbers, not strings, so a "string" feature's layer runs on the host, before the graph:
its Input (in get_inputs()) takes the layer's output (StringLookup's int64 indices), and calling the
FeatureSpace does that step itself.  Host layers on numbers (integer_hashed, the crosses) run inside the graph
through a host callback op.  Calling the FeatureSpace compiles that graph once and reuses it.
"""
import numpy as np

from mlcore import config, layers
from mlcore.function import function
from mlcore.layers.base import Layer, unique_name
from mlcore.layers.host_layer import HostLayer
from mlcore.layers.structure import flatten
from mlcore.saving.object_registration import register_keras_serializable
from mlcore.utils.feature_space_parts import Cross, Feature, HostCallback, TFDIdentity, spec_of

FEATURE_TYPES = ("float", "float_rescaled", "float_normalized", "float_discretized", "integer_categorical",
                 "string_categorical", "integer_hashed", "string_hashed")


@register_keras_serializable(package="mlcore", name="FeatureSpace")
class FeatureSpace(Layer):
    """FeatureSpace(features, output_mode="concat", crosses=None, crossing_dim=32, hashing_dim=32,
    num_discretization_bins=32, name=None): `features` maps each feature's name to its type, a name from
    FEATURE_TYPES or a FeatureSpace.float_normalized(...)-style Feature; `crosses` lists tuples of feature
    names (or FeatureSpace.cross(...)) to hash together.  adapt(data) learns what each layer needs."""

    # --- feature types -------------------------------------------------------------------------------
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or unique_name("float")
        return Feature("float32", TFDIdentity(dtype="float32", name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or unique_name("float_rescaled")
        return Feature("float32", layers.Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or unique_name("float_normalized")
        return Feature("float32", layers.Normalization(axis=-1, name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        name = name or unique_name("float_discretized")
        preprocessor = layers.Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                             name=f"{name}_preprocessor")
        return Feature("float32", preprocessor, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        name = name or unique_name("integer_categorical")
        preprocessor = layers.IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                            num_oov_indices=num_oov_indices)
        return Feature("int32", preprocessor, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        name = name or unique_name("string_categorical")
        preprocessor = layers.StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                           num_oov_indices=num_oov_indices)
        return Feature("string", preprocessor, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or unique_name("string_hashed")
        return Feature("string", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or unique_name("integer_hashed")
        return Feature("int32", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    # --- construction --------------------------------------------------------------------------------
    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32, hashing_dim=32,
                 num_discretization_bins=32, name=None):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if output_mode not in {"dict", "concat"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                             "Received: output_mode=%s" % (output_mode,))
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.output_mode = output_mode
        self.features = {name: self._standardize_feature(name, value) for name, value in features.items()}
        self.crosses = [self._standardize_cross(cross) for cross in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        self.preprocessors = {name: feature.preprocessor for name, feature in self.features.items()}
        self.crossers = {cross.name: self._crosser(cross) for cross in self.crosses}
        self.one_hot_encoders = {}
        self._is_adapted = False
        self.inputs = self.encoded_features = None
        self._encode = None             # the compiled graph from inputs to encoded_features

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return Feature.from_config(feature["config"])
        if feature in ("float_discretized", "integer_hashed", "string_hashed"):
            size = self.num_discretization_bins if feature == "float_discretized" else self.hashing_dim
            return getattr(self, feature)(size, name=name)
        if feature in FEATURE_TYPES:
            return getattr(self, feature)(name=name)
        raise ValueError("Invalid feature type: %s (feature '%s'). Expected a Feature or one of %s"
                         % (feature, name, FEATURE_TYPES))

    def _standardize_cross(self, cross):
        if isinstance(cross, dict):
            cross = Cross.from_config(cross["config"])
        if not isinstance(cross, Cross):
            if not self.crossing_dim:
                raise ValueError("When specifying `crosses`, the argument `crossing_dim` (dimensionality of the "
                                 "crossing space) should be specified as well.")
            cross = Cross(cross, crossing_dim=self.crossing_dim)
        unknown = [name for name in cross.feature_names if name not in self.features]
        if unknown:
            raise ValueError("All features referenced in the `crosses` argument should be present in the "
                             "`features` dict. Received unknown features: %s in cross %s"
                             % (unknown, cross.feature_names))
        return cross

    @staticmethod
    def _crosser(cross):
        from mlcore.layers import HashedCrossing
        return HashedCrossing(cross.crossing_dim, name=cross.name)

    @property
    def layers(self):
        """The preprocessing and crossing layers, in the order the features and crosses were given (what
        save() stores the state of)."""
        return list(self.preprocessors.values()) + list(self.crossers.values())

    # --- adapt ---------------------------------------------------------------------------------------
    def _list_adaptable_preprocessors(self):
        """The features whose layer learns from data: not a Normalization given its mean and variance, a
        Discretization given its boundaries or a TextVectorization given its vocabulary."""
        names = []
        for name, preprocessor in self.preprocessors.items():
            if isinstance(preprocessor, layers.Normalization) and preprocessor.input_mean is not None:
                continue
            if isinstance(preprocessor, layers.Discretization) and preprocessor.num_bins is None:
                continue
            if isinstance(preprocessor, layers.TextVectorization) and preprocessor._has_input_vocabulary:
                continue
            if hasattr(preprocessor, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Adapt each feature's layer to its column of `dataset`: a dict of arrays or lists (one entry per
        sample), or an iterable of such dicts as batches (a PyDataset, a generator; an (x, y) batch counts its
        x).  The batches are read once and kept for the layers, which each read them in turn."""
        names = self._list_adaptable_preprocessors()
        columns = {name: [] for name in names}
        for batch in [dataset] if isinstance(dataset, dict) else self._batches(dataset):
            for name in names:
                if name not in batch:
                    raise ValueError("FeatureSpace.adapt(): feature '%s' is missing from the data, which has "
                                     "keys %s" % (name, sorted(batch)))
                columns[name].append(as_column(batch[name], name))
        for name in names:
            self.preprocessors[name].adapt(iter(columns[name]))
        self._is_adapted = True
        self.get_encoded_features()     # finishes building, as Keras's adapt

    @staticmethod
    def _batches(dataset):
        if not hasattr(dataset, "__iter__") or isinstance(dataset, (str, bytes, np.ndarray)):
            raise ValueError("`adapt()` can only be called on a dict of arrays/lists or an iterable of dict "
                             "batches (a PyDataset, a generator). Received instead: %r (of type %s)"
                             % (dataset, type(dataset)))
        found = False
        for batch in dataset:
            batch = batch[0] if isinstance(batch, tuple) else batch
            if not isinstance(batch, dict):
                raise ValueError("FeatureSpace.adapt(): each batch must be a dict of feature arrays; received "
                                 "a %s" % type(batch).__name__)
            found = True
            yield batch
        if not found:
            raise ValueError("FeatureSpace.adapt(): the dataset yielded no batches")

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace before you can start "
                                 "using it.")
            self._is_adapted = True

    # --- the encoding graph --------------------------------------------------------------------------
    def get_inputs(self):
        """{feature name: Input of shape (None, 1)} the encoded features are computed from; a "string"
        feature's Input takes what its layer gives on the host (see the module's docstring)."""
        self.get_encoded_features()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features as a graph of get_inputs(): one concatenated tensor, or a dict of them."""
        self._check_if_adapted()
        if self.encoded_features is None:
            self.inputs = {name: self._input_for(name, feature) for name, feature in self.features.items()}
            preprocessed = {name: self._preprocess_in_graph(name, tensor) for name, tensor in self.inputs.items()}
            crossed = {cross.name: self.crossers_in_graph[cross.name]([preprocessed[n] for n in cross.feature_names])
                       for cross in self.crosses}
            self.encoded_features = self._merge_features(preprocessed, crossed)
        return self.encoded_features

    def _runs_on_host(self, name):
        return self.features[name].dtype == "string"

    def _input_for(self, name, feature):
        if not self._runs_on_host(name):
            return layers.Input(shape=(1,), dtype=feature.dtype, name=name)
        shape = self.preprocessors[name].compute_output_shape((None, 1))
        dtype = config.floatx() if feature.output_mode == "float" else "int64"
        return layers.Input(batch_shape=shape, dtype=dtype, name=name)

    def _preprocess_in_graph(self, name, tensor):
        if self._runs_on_host(name):
            return tensor
        preprocessor = self.preprocessors[name]
        if isinstance(preprocessor, HostLayer):
            preprocessor = HostCallback(preprocessor)
        return preprocessor(tensor)

    @property
    def crossers_in_graph(self):
        if not hasattr(self, "_crossers_in_graph"):
            self._crossers_in_graph = {name: HostCallback(crosser) for name, crosser in self.crossers.items()}
        return self._crossers_in_graph

    def _merge_features(self, preprocessed, crossed):
        """Sorted features, then sorted crosses, each one-hot encoded if its spec says so; concatenated in
        "concat" mode (where every part must be encoded), else a dict by name."""
        specs = {**{name: self.features[name] for name in sorted(preprocessed)},
                 **{name: self.crosses_by_name[name] for name in sorted(crossed)}}
        values = {**preprocessed, **crossed}
        encoded = {}
        for name, spec in specs.items():
            feature = values[name]
            if spec.output_mode == "one_hot":
                if not feature.dtype.startswith("int"):
                    raise ValueError("Feature '%s' has `output_mode='one_hot'`. Thus its preprocessor should "
                                     "return an integer dtype. Instead it returns a %s dtype." % (name, feature.dtype))
                self.one_hot_encoders[name] = layers.CategoryEncoding(num_tokens=self._cardinality(name),
                                                                      output_mode="multi_hot")
                feature = self.one_hot_encoders[name](feature)
            if self.output_mode == "concat" and feature.dtype.startswith(("int", "uint")):
                raise ValueError("Cannot concatenate features because feature '%s' has not been encoded (it has "
                                 "dtype %s). Consider using `output_mode='dict'`." % (name, feature.dtype))
            encoded[name] = feature
        if self.output_mode == "dict":
            return encoded
        parts = list(encoded.values())
        return layers.Concatenate(axis=-1)(parts) if len(parts) > 1 else parts[0]

    def _cardinality(self, name):
        """The size of a feature's (or cross's) output space, which its one-hot encoding spans."""
        layer = self.preprocessors.get(name) or self.crossers[name]
        if isinstance(layer, (layers.IntegerLookup, layers.StringLookup)):
            return layer.vocabulary_size()
        if isinstance(layer, layers.CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, layers.Discretization):
            return layer.num_bins or len(layer.bin_boundaries) + 1
        if hasattr(layer, "num_bins"):         # Hashing, HashedCrossing
            return layer.num_bins
        raise ValueError("Feature '%s' has `output_mode='one_hot'`. However it isn't a standard feature and the "
                         "dimensionality of its output space is not known, thus it cannot be one-hot encoded. "
                         "Try using `output_mode='int'`." % name)

    # --- calling it on data --------------------------------------------------------------------------
    def __call__(self, data):
        """The encoding of a dict of feature values: batches (arrays or lists, one entry per sample, or a
        column of shape (n, 1)) or one sample (scalars), which gives one unbatched result.  numpy arrays."""
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. Received: data=%r (of type %s)"
                             % (data, type(data)))
        encoded_features = self.get_encoded_features()
        missing = sorted(set(self.features) - set(data))
        if missing:
            raise ValueError("FeatureSpace '%s' was called without features %s (it received %s)"
                             % (self.name, missing, sorted(data)))
        single = all(np.ndim(data[name]) == 0 for name in self.features)
        columns = {name: as_column(data[name], name) for name in self.features}
        feeds = [self._host_step(name, columns[name]) for name in self.inputs]
        if self._encode is None:
            self._encode = function(list(self.inputs.values()), flatten(encoded_features), allow_input_downcast=True,
                                    on_unused_input="ignore", name="%s.encode" % self.name)
        results = self._encode(*feeds)
        if self.output_mode == "dict":
            results = dict(zip(encoded_features, results))
            return {name: value[0] if single else value for name, value in results.items()}
        return results[0][0] if single else results[0]

    def _host_step(self, name, column):
        return self.preprocessors[name](column) if self._runs_on_host(name) else column

    # --- saving --------------------------------------------------------------------------------------
    def get_config(self):
        return {"features": {name: spec_of(feature) for name, feature in self.features.items()},
                "output_mode": self.output_mode, "crosses": [spec_of(cross) for cross in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, filepath):
        """Save to a `.keras` file (the features' configs, the adapted layers' state); reload it with
        keras.models.load_model()."""
        from mlcore.saving.keras_archive import save_archive
        if not str(filepath).endswith(".keras"):
            raise ValueError("FeatureSpace.save(): the file name must end in '.keras'. Received: filepath=%s"
                             % (filepath,))
        save_archive(self, filepath)

    def load_weights(self, filepath):
        """Restore the adapted layers' state from a file save() wrote (load_model calls it)."""
        from mlcore.saving.weights import load_weights
        load_weights(self, filepath)
        self._is_adapted = True


def as_column(values, name):
    """A feature's values as a batch of shape (n, 1) (or (n, k) as given): a scalar is one sample."""
    array = np.asarray(values)
    if array.ndim > 2:
        raise ValueError("Feature '%s' must be given as a scalar, a vector (one value per sample) or a matrix "
                         "of shape (samples, 1); received shape %s" % (name, array.shape))
    return array.reshape(-1, 1) if array.ndim < 2 else array
