"""keras.io's code examples (keras-team/keras-io examples/, their Keras 3 versions) run on mlcore with only the
imports changed, on small synthetic data of the original shapes: timeseries classification (a Conv1D network,
then a Transformer), text classification with a Transformer, image classification from scratch, the denoising
autoencoder, weather forecasting with an LSTM, structured data with lookup layers, collaborative filtering and
the English-to-Spanish Transformer.  Where Keras 3 runs the same model (its tf.data loaders need TensorFlow,
which is not installed), it gets mlcore's weights and must give the same outputs and training histories."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore


@pytest.fixture(autouse=True)
def fixed_initial_weights():
    """Each example's weights (and dropout masks) drawn from one seed: a few epochs' "the loss falls" check is
    then the same run every time."""
    mlcore.utils.set_random_seed(0)


def same_start(ours, theirs):
    """theirs with our initial weights; both returned."""
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def assert_histories_equal(ours, theirs, rtol=1e-4):
    assert sorted(ours.history) == sorted(theirs.history)
    for key in theirs.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=rtol, atol=1e-6, err_msg=key)


def assert_same_predictions(ours, theirs, x, atol=1e-5):
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=atol)


# --- timeseries_classification_from_scratch -------------------------------------------------------------
def fcn(keras, input_shape, num_classes=2):
    """The example's make_model, two convolution blocks instead of three."""
    input_layer = keras.layers.Input(input_shape)
    x = input_layer
    for _ in range(2):
        x = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    gap = keras.layers.GlobalAveragePooling1D()(x)
    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def test_timeseries_classification_with_callbacks_and_best_checkpoint(keras, rng, tmp_path):
    x_train = rng.normal(size=(64, 40)).astype("float32")
    y_train = (x_train[:, :10].mean(1) > 0).astype("int64")
    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    histories, best = [], []
    for lib, model in zip((mlcore, keras), same_start(fcn(mlcore, (40, 1)), fcn(keras, (40, 1)))):
        path = str(tmp_path / ("best_%s.keras" % lib.__name__))
        callbacks = [
            lib.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
            lib.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.0001),
            lib.callbacks.EarlyStopping(monitor="val_loss", patience=3, verbose=0),
        ]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
        histories.append(model.fit(x_train, y_train, batch_size=16, epochs=5, callbacks=callbacks,
                                   validation_split=0.2, verbose=0, shuffle=False))
        best.append(lib.models.load_model(path))
    assert_histories_equal(*histories)
    assert "learning_rate" in histories[0].history
    assert_same_predictions(best[0], best[1], x_train[:8], atol=5e-4)   # five epochs of float32 drift


# --- text_classification_with_transformer -----------------------------------------------------------
def transformer_classifier(keras, rate=0.1, maxlen=20, vocab_size=100, embed_dim=16):
    """The example's TransformerBlock and TokenAndPositionEmbedding, as written, and its model."""
    layers, ops = keras.layers, keras.ops

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.dropout1(self.att(inputs, inputs))
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.dropout2(self.ffn(out1))
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = self.pos_emb(ops.arange(start=0, stop=maxlen, step=1))
            return self.token_emb(x) + positions

    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, 2, 16, rate)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(rate)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    return keras.Model(inputs=inputs, outputs=layers.Dense(2, activation="softmax")(x))


def test_text_classification_transformer_trains_its_position_embedding_as_keras(keras, rng):
    """The position embedding is called on `ops.arange` (an array, not an input): its weights still get
    gradients (they did not: the call ran eagerly, as a constant), so training matches Keras's."""
    x = mlcore.utils.pad_sequences([list(rng.integers(1, 100, size=rng.integers(5, 25))) for _ in range(64)],
                                   maxlen=20)
    y = (x[:, -1] > 50).astype("int64")
    for lib in (mlcore, keras):      # layer names count from the same start in both (other tests made layers)
        lib.backend.clear_session()
    ours, theirs = same_start(transformer_classifier(mlcore, rate=0.0), transformer_classifier(keras, rate=0.0))
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert_same_predictions(ours, theirs, x)
    position_table = ours.weights[1].numpy().copy()
    histories = []
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, y, batch_size=32, epochs=2, validation_data=(x[:16], y[:16]), verbose=0,
                                   shuffle=False))
    assert_histories_equal(*histories)
    assert not np.allclose(ours.weights[1].numpy(), position_table)
    with_dropout = transformer_classifier(mlcore)
    with_dropout.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    losses = with_dropout.fit(x, y, batch_size=16, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


# --- timeseries_classification_transformer -----------------------------------------------------------
def timeseries_transformer(keras, input_shape, dropout=0.0):
    """The example's transformer_encoder (tensors added with +) and build_model, smaller."""
    layers = keras.layers

    def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
        x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(inputs, inputs)
        x = layers.Dropout(dropout)(x)
        res = layers.LayerNormalization(epsilon=1e-6)(x) + inputs
        x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
        x = layers.Dropout(dropout)(x)
        x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
        return layers.LayerNormalization(epsilon=1e-6)(x) + res

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(2):
        x = transformer_encoder(x, 8, 2, 4, dropout)
    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    x = layers.Dropout(dropout)(layers.Dense(16, activation="relu")(x))
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


def test_timeseries_transformer_with_early_stopping_restoring_the_best_weights(keras, rng):
    x = rng.normal(size=(48, 30, 1)).astype("float32")
    y = (x[:, :5, 0].mean(1) > 0).astype("int64")
    results = []
    models = same_start(timeseries_transformer(mlcore, x.shape[1:]), timeseries_transformer(keras, x.shape[1:]))
    for lib, model in zip((mlcore, keras), models):
        model.compile(loss="sparse_categorical_crossentropy", optimizer=lib.optimizers.Adam(learning_rate=1e-3),
                      metrics=["sparse_categorical_accuracy"])
        callbacks = [lib.callbacks.EarlyStopping(patience=1, restore_best_weights=True)]
        history = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=16, callbacks=callbacks, verbose=0,
                            shuffle=False)
        results.append((history, model.evaluate(x, y, verbose=0)))
    assert_histories_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4)


# --- image_classification_from_scratch ----------------------------------------------------------------
def small_xception(keras, input_shape, num_classes, augmentation=None):
    """The example's make_model with two residual blocks of 8 and 16 filters."""
    layers = keras.layers
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs if augmentation is None else augmentation(inputs))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(8, 3, strides=2, padding="same")(x)))
    previous_block_activation = x
    for size in [8, 16]:
        x = layers.Activation("relu")(x)
        x = layers.BatchNormalization()(layers.SeparableConv2D(size, 3, padding="same")(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.GlobalAveragePooling2D()(x)
    activation, units = ("sigmoid", 1) if num_classes == 2 else ("softmax", num_classes)
    return keras.Model(inputs, layers.Dense(units, activation=activation)(layers.Dropout(0.5)(x)))


def write_pet_images(root, rng, per_class=8):
    from PIL import Image
    for label, name in enumerate(("Cat", "Dog")):
        os.makedirs(root / name)
        for i in range(per_class):
            pixels = rng.random((40, 36, 3)) * 120 + 100 * label
            Image.fromarray(pixels.astype("uint8")).save(root / name / ("%d.jpg" % i))


def summary_lines(model):
    lines = []
    model.summary(line_length=120, print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def test_image_classification_from_scratch(keras, rng, tmp_path):
    write_pet_images(tmp_path / "PetImages", rng)
    image_size = (24, 24)
    train_ds, val_ds = mlcore.utils.image_dataset_from_directory(
        str(tmp_path / "PetImages"), validation_split=0.25, subset="both", seed=1337, image_size=image_size,
        batch_size=4)
    data_augmentation = mlcore.Sequential([mlcore.layers.RandomFlip("horizontal"), mlcore.layers.RandomRotation(0.1)])
    for images, labels in train_ds.take(1):            # the example's look at a batch, as tf.data gives it
        augmented_images = data_augmentation(images)
        assert images[0].numpy().astype("uint8").shape == (24, 24, 3)
        assert np.asarray(augmented_images).shape == (4, 24, 24, 3) and labels.numpy().shape == (4,)
    # option 1: the augmentation inside the model; it was built by the call above on a batch of 4
    in_model = small_xception(mlcore, image_size + (3,), 2, augmentation=data_augmentation)
    row = next(line for line in summary_lines(in_model).splitlines() if data_augmentation.name + " " in line)
    assert "(None, 24, 24, 3)" in row       # its shape in this model, not that of the batch it was built on
    assert data_augmentation.name + "[0][0]" in summary_lines(in_model)     # its eager calls left no node
    # option 2, the example's: the augmentation mapped over the dataset
    train_ds = train_ds.map(lambda img, label: (data_augmentation(img), label)).prefetch(4)
    model = small_xception(mlcore, image_size + (3,), 2)
    model.compile(optimizer=mlcore.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"],
                  jit_compile=True)
    pattern = str(tmp_path / "save_at_{epoch}.keras")
    model.fit(train_ds, epochs=2, callbacks=[mlcore.callbacks.ModelCheckpoint(pattern)], validation_data=val_ds,
              verbose=0)
    img = mlcore.preprocessing.image.load_img(str(tmp_path / "PetImages/Cat/3.jpg"), target_size=image_size)
    img_array = mlcore.ops.expand_dims(mlcore.preprocessing.image.img_to_array(img), 0)
    score = float(model.predict(img_array, verbose=0)[0][0])
    assert 0.0 < score < 1.0
    reloaded = mlcore.models.load_model(pattern.format(epoch=2))
    np.testing.assert_allclose(reloaded.predict(img_array, verbose=0), [[score]], rtol=1e-5)
    assert_same_predictions(model, same_start(model, small_xception(keras, image_size + (3,), 2))[1],
                            np.concatenate([img_array] * 3))


# --- autoencoder (image denoising) ----------------------------------------------------------------------
def denoising_autoencoder(keras):
    layers = keras.layers
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    autoencoder = keras.Model(inputs, layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x))
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder


def test_denoising_autoencoder_fits_as_keras(keras, rng):
    clean = np.zeros((32, 28, 28, 1), "float32")
    for image, row in zip(clean, rng.integers(4, 20, size=32)):
        image[row:row + 6, 4:24] = 1.0
    noisy = np.clip(clean + 0.4 * rng.normal(size=clean.shape), 0.0, 1.0)     # float64, as the example's
    histories = [model.fit(x=noisy, y=clean, epochs=3, batch_size=8, shuffle=False, verbose=0,
                           validation_data=(noisy[:8], clean[:8]))
                 for model in same_start(denoising_autoencoder(mlcore), denoising_autoencoder(keras))]
    assert_histories_equal(*histories)
    assert histories[0].history["loss"][-1] < histories[0].history["loss"][0]


# --- timeseries_weather_forecasting -----------------------------------------------------------------------
def test_weather_forecasting_with_timeseries_dataset_and_lstm(keras, rng, tmp_path):
    steps = np.arange(400)
    features = np.stack([np.sin(steps / 15 + i) + 0.1 * rng.normal(size=400) for i in range(7)], 1)
    train_split, step, past, future = 280, 6, 36, 12
    features = (features - features[:train_split].mean(0)) / features[:train_split].std(0)
    start = past + future
    x_train, y_train = features[:train_split], features[start:start + train_split][:, [1]]
    dataset_train = mlcore.preprocessing.timeseries_dataset_from_array(
        x_train, y_train, sequence_length=past // step, sampling_rate=step, batch_size=32)
    for batch in dataset_train.take(1):
        inputs, targets = batch
    assert inputs.numpy().shape == (32, 6, 7) and targets.numpy().shape == (32, 1)
    models = []
    for lib in (mlcore, keras):
        layer_inputs = lib.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
        models.append(lib.Model(inputs=layer_inputs, outputs=lib.layers.Dense(1)(lib.layers.LSTM(8)(layer_inputs))))
        models[-1].compile(optimizer=lib.optimizers.Adam(learning_rate=0.01), loss="mse")
    ours, theirs = same_start(*models)
    path_checkpoint = str(tmp_path / "model_checkpoint.weights.h5")
    callbacks = [mlcore.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5),
                 mlcore.callbacks.ModelCheckpoint(monitor="val_loss", filepath=path_checkpoint,
                                                  save_weights_only=True, save_best_only=True)]
    history = ours.fit(dataset_train, epochs=3, validation_data=dataset_train.take(2), callbacks=callbacks,
                       verbose=0)
    # Keras reads the same batches as arrays (its timeseries_dataset_from_array needs TensorFlow)
    batches = list(dataset_train.as_numpy_iterator())
    x, y = (np.concatenate([b[k] for b in batches]) for k in (0, 1))
    keras_history = theirs.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0,
                               validation_data=(x[:64], y[:64]))
    assert_histories_equal(history, keras_history)
    for model in (ours, theirs):       # the best epoch's weights, written by mlcore, read by both
        model.load_weights(path_checkpoint)
    for x_batch, _ in dataset_train.take(2):
        np.testing.assert_allclose(ours.predict(x_batch, verbose=0)[0], theirs.predict(x_batch.numpy(), verbose=0)[0],
                                   rtol=1e-4, atol=1e-5)


# --- structured_data_classification_from_scratch ------------------------------------------------------------
CATEGORIES = {"sex": [0, 1], "cp": [0, 1, 2, 3], "thal": ["fixed", "normal", "reversible"]}
NUMERIC = ["age", "trestbps"]


def heart_classifier(keras, numeric_columns):
    """The example's model: Normalization adapted per numeric column, one-hot inputs for the categorical
    ones, and its Classifier layer over the dict of them."""
    layers = keras.layers

    class Classifier(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense_1 = layers.Dense(16, activation="relu")
            self.dropout = layers.Dropout(0.5)
            self.dense_2 = layers.Dense(1, activation="sigmoid")

        def call(self, inputs):
            all_features = layers.concatenate(list(inputs.values()))
            return self.dense_2(self.dropout(self.dense_1(all_features)))

        def build(self, input_shape):
            self.built = True

    inputs, encoded = {}, {}
    for name in NUMERIC + list(CATEGORIES):
        if name in CATEGORIES:
            inputs[name] = encoded[name] = layers.Input(name=name, shape=(len(CATEGORIES[name]),), dtype="int64")
        else:
            inputs[name] = layers.Input(name=name, shape=(1,), dtype="float32")
            normalizer = layers.Normalization()
            normalizer.adapt(np.expand_dims(numeric_columns[name], -1))
            encoded[name] = normalizer(inputs[name])
    model = keras.Model(inputs, Classifier()(encoded))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_structured_data_with_lookup_and_normalization_layers(keras, rng):
    n = 96
    columns = {"age": rng.integers(30, 80, n).astype("float32"), "trestbps": rng.normal(130, 15, n).astype("float32"),
               "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 4, n),
               "thal": rng.choice(CATEGORIES["thal"], n)}
    target = ((columns["age"] > 55) ^ (columns["thal"] == "normal")).astype("int64")
    x = {name: np.expand_dims(values, -1) for name, values in columns.items()}
    for name, vocabulary in CATEGORIES.items():
        lookup_class = mlcore.layers.StringLookup if name == "thal" else mlcore.layers.IntegerLookup
        index = lookup_class(vocabulary=vocabulary, mask_token=None, num_oov_indices=0, output_mode="binary")
        x[name] = np.asarray(index(x[name]))
        assert x[name].shape == (n, len(vocabulary)) and (x[name].sum(1) == 1).all()
    ours, theirs = same_start(heart_classifier(mlcore, columns), heart_classifier(keras, columns))
    assert_same_predictions(ours, theirs, x)
    history = ours.fit(x, target, epochs=12, batch_size=16, validation_split=0.2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    sample = {"age": [60.0], "trestbps": [145.0], "sex": [[0, 1]], "cp": [[0, 1, 0, 0]], "thal": [[1, 0, 0]]}
    input_dict = {name: mlcore.ops.convert_to_tensor(value) for name, value in sample.items()}
    assert ours.predict(input_dict, verbose=0).shape == (1, 1)


# --- collaborative_filtering_movielens ------------------------------------------------------------------------
def recommender(keras, num_users=20, num_movies=30, embedding_size=8):
    layers, ops = keras.layers, keras.ops

    class RecommenderNet(keras.Model):
        def __init__(self, num_users, num_movies, embedding_size, **kwargs):
            super().__init__(**kwargs)
            self.num_users, self.num_movies, self.embedding_size = num_users, num_movies, embedding_size
            self.user_embedding = layers.Embedding(num_users, embedding_size, embeddings_initializer="he_normal",
                                                   embeddings_regularizer=keras.regularizers.l2(1e-6))
            self.user_bias = layers.Embedding(num_users, 1)
            self.movie_embedding = layers.Embedding(num_movies, embedding_size, embeddings_initializer="he_normal",
                                                    embeddings_regularizer=keras.regularizers.l2(1e-6))
            self.movie_bias = layers.Embedding(num_movies, 1)

        def call(self, inputs):
            user_vector = self.user_embedding(inputs[:, 0])
            movie_vector = self.movie_embedding(inputs[:, 1])
            x = ops.sum(user_vector * movie_vector, axis=1, keepdims=True)
            return ops.sigmoid(x + self.user_bias(inputs[:, 0]) + self.movie_bias(inputs[:, 1]))

    model = RecommenderNet(num_users, num_movies, embedding_size)
    model.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.Adam(learning_rate=0.01))
    return model, RecommenderNet


def test_collaborative_filtering_subclassed_model_fits_and_saves(keras, rng, tmp_path):
    x = np.stack([rng.integers(0, 20, 300), rng.integers(0, 30, 300)], 1)
    y = (x[:, 0] % 3 == x[:, 1] % 3) * 0.8 + rng.random(300) * 0.2
    (ours, net_class), (theirs, _) = recommender(mlcore), recommender(keras)
    ours(x[:2]), theirs(x[:2])
    same_start(ours, theirs)
    histories = [model.fit(x=x[:250], y=y[:250], batch_size=64, epochs=3, verbose=0, shuffle=False,
                           validation_data=(x[250:], y[250:])) for model in (ours, theirs)]
    assert_histories_equal(*histories)
    ours.save(str(tmp_path / "recommender.keras"))    # a subclassed model: its constructor's arguments as config
    reloaded = mlcore.models.load_model(str(tmp_path / "recommender.keras"),
                                        custom_objects={"RecommenderNet": net_class})
    assert reloaded.get_config()["num_movies"] == 30
    np.testing.assert_allclose(reloaded.predict(x[:20], verbose=0), ours.predict(x[:20], verbose=0), rtol=1e-6)


# --- layers called eagerly before the functional model is built ------------------------------------------------
def test_an_eager_call_adds_no_node(keras):
    """As in Keras, `layer(array)` leaves no node: the layer's `output` is that of its functional call."""
    for lib in (mlcore, keras):
        dense = lib.layers.Dense(3)
        dense(np.ones((2, 4), "float32"))
        inputs = lib.Input((4,))
        dense(inputs)
        assert len(dense._inbound_nodes) == 1
        assert lib.Model(inputs, dense.output).output_shape == (None, 3)


# --- neural_machine_translation_with_transformer ---------------------------------------------------------------
def translation_transformer(keras, sequence_length=8, vocab_size=40, embed_dim=16, latent_dim=32, num_heads=2):
    """The example's PositionalEmbedding (with compute_mask), TransformerEncoder and TransformerDecoder (a
    causal attention mask built with ops from the inputs' dynamic shape), assembled as its transformer."""
    layers, ops = keras.layers, keras.ops

    class PositionalEmbedding(layers.Layer):
        def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_embeddings = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.position_embeddings = layers.Embedding(input_dim=sequence_length, output_dim=embed_dim)
            self.sequence_length, self.vocab_size, self.embed_dim = sequence_length, vocab_size, embed_dim

        def call(self, inputs):
            positions = ops.arange(0, ops.shape(inputs)[-1], 1)
            return self.token_embeddings(inputs) + self.position_embeddings(positions)

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0)

        def get_config(self):
            config = super().get_config()
            config.update({"sequence_length": self.sequence_length, "vocab_size": self.vocab_size,
                           "embed_dim": self.embed_dim})
            return config

    class TransformerEncoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim, self.dense_dim, self.num_heads = embed_dim, dense_dim, num_heads
            self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential([layers.Dense(dense_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            padding_mask = None if mask is None else ops.cast(mask[:, None, :], dtype="int32")
            attention_output = self.attention(query=inputs, value=inputs, key=inputs, attention_mask=padding_mask)
            proj_input = self.layernorm_1(inputs + attention_output)
            return self.layernorm_2(proj_input + self.dense_proj(proj_input))

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "dense_dim": self.dense_dim, "num_heads": self.num_heads})
            return config

    class TransformerDecoder(layers.Layer):
        def __init__(self, embed_dim, latent_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim, self.latent_dim, self.num_heads = embed_dim, latent_dim, num_heads
            self.attention_1 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.attention_2 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential([layers.Dense(latent_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.layernorm_3 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            inputs, encoder_outputs = inputs
            causal_mask = self.get_causal_attention_mask(inputs)
            inputs_padding_mask, encoder_outputs_padding_mask = (None, None) if mask is None else mask
            attention_output_1 = self.attention_1(query=inputs, value=inputs, key=inputs,
                                                  attention_mask=causal_mask, query_mask=inputs_padding_mask)
            out_1 = self.layernorm_1(inputs + attention_output_1)
            attention_output_2 = self.attention_2(query=out_1, value=encoder_outputs, key=encoder_outputs,
                                                  query_mask=inputs_padding_mask,
                                                  key_mask=encoder_outputs_padding_mask)
            out_2 = self.layernorm_2(out_1 + attention_output_2)
            return self.layernorm_3(out_2 + self.dense_proj(out_2))

        def get_causal_attention_mask(self, inputs):
            input_shape = ops.shape(inputs)
            i = ops.arange(input_shape[1])[:, None]
            j = ops.arange(input_shape[1])
            mask = ops.reshape(ops.cast(i >= j, dtype="int32"), (1, input_shape[1], input_shape[1]))
            if keras is not mlcore:     # Keras's jax backend cannot tile by a traced batch size: it broadcasts
                return mask
            mult = ops.concatenate([ops.expand_dims(input_shape[0], -1), ops.convert_to_tensor([1, 1])], axis=0)
            return ops.tile(mask, mult)

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "latent_dim": self.latent_dim, "num_heads": self.num_heads})
            return config

    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(encoder_inputs)
    encoder_outputs = TransformerEncoder(embed_dim, latent_dim, num_heads)(x)
    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(decoder_inputs)
    x = TransformerDecoder(embed_dim, latent_dim, num_heads)([x, encoder_outputs])
    decoder_outputs = layers.Dense(vocab_size, activation="softmax")(layers.Dropout(0.5)(x))
    model = keras.Model({"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs}, decoder_outputs,
                        name="transformer")
    return model, {cls.__name__: cls for cls in (PositionalEmbedding, TransformerEncoder, TransformerDecoder)}


def padded_pairs(rng, n, sequence_length=8, vocab_size=40):
    source = rng.integers(1, vocab_size, (n, sequence_length))
    target = rng.integers(1, vocab_size, (n, sequence_length + 1))
    for tokens in (source, target):
        for row in tokens:
            row[rng.integers(3, sequence_length):] = 0
    return {"encoder_inputs": source, "decoder_inputs": target[:, :-1]}, target[:, 1:]


def test_translation_transformer_with_masks_matches_keras(keras, rng, tmp_path):
    """Outputs equal Keras's at the real (unpadded) target positions, and so do the masked loss and accuracy.
    At padded query positions they differ: mlcore honours MultiHeadAttention's query_mask argument there,
    where Keras 3.15 replaces it by the query's own Keras mask (none inside a traced call)."""
    x, y = padded_pairs(rng, 32)
    (ours, custom_objects), (theirs, _) = translation_transformer(mlcore), translation_transformer(keras)
    same_start(ours, theirs)
    real = x["decoder_inputs"] != 0
    np.testing.assert_allclose(ours.predict(x, verbose=0)[real], theirs.predict(x, verbose=0)[real], rtol=1e-4,
                               atol=1e-5)
    for model in (ours, theirs):
        model.compile("rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-4)
    history = ours.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    ours.save(str(tmp_path / "transformer.keras"))
    reloaded = mlcore.models.load_model(str(tmp_path / "transformer.keras"), custom_objects=custom_objects)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    prefix = {"encoder_inputs": x["encoder_inputs"][:1], "decoder_inputs": x["decoder_inputs"][:1, :3]}
    assert np.asarray(ours(prefix)).shape == (1, 3, 40)   # the example's decoding loop calls it on prefixes
