"""Keras's classic examples (keras-team/keras examples/, the Keras 2.x versions, and Keras 3's demos) run
on mlcore with only the imports changed, on small synthetic data of the original shapes.  Each test
checks what the example shows: the loss falls, the shapes are the example's, and where Keras 3 can run
the same model its outputs equal mlcore's with the same weights."""
import numpy as np
import pytest

import mlcore
from mlcore import backend as K
from mlcore import layers
from mlcore.layers import (LSTM, Activation, Bidirectional, Conv1D, Conv2D, Conv2DTranspose, Dense, Dropout,
                           Embedding, Flatten, GlobalMaxPooling1D, Input, Lambda, MaxPooling2D, Reshape)
from mlcore.models import Model, Sequential
from mlcore.optimizers import RMSprop
from mlcore.preprocessing import sequence
from mlcore.preprocessing.image import ImageDataGenerator
from mlcore.utils import np_utils


@pytest.fixture(autouse=True)
def fixed_initial_weights():
    """Each example's weights drawn from one seed: a 1-2 epoch "the loss falls" check is then the same run
    every time (unseeded, one run in seven failed)."""
    mlcore.utils.set_random_seed(0)


def _digits(rng, n, shape=(28, 28)):
    """n synthetic 'MNIST' images in [0, 1] whose mean brightness of one band tells the class."""
    labels = rng.integers(0, 10, size=n)
    x = rng.random((n,) + shape).astype("float32") * 0.3
    rows = np.linspace(0, shape[0], 11).astype(int)
    for i, label in enumerate(labels):
        x[i, rows[label]:rows[label + 1]] += 0.7
    return x, labels


def _same_outputs(model, keras_model, x, atol=1e-5):
    """keras_model with model's weights predicts what model predicts."""
    keras_model.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0), rtol=1e-4,
                               atol=atol)


def _falls(history, key="loss"):
    losses = history.history[key]
    assert losses[-1] < losses[0], losses


def _mnist_mlp(lib):
    model = lib.models.Sequential()
    model.add(lib.layers.Dense(512, activation='relu', input_shape=(784,)))
    model.add(lib.layers.Dropout(0.2))
    model.add(lib.layers.Dense(512, activation='relu'))
    model.add(lib.layers.Dropout(0.2))
    model.add(lib.layers.Dense(10, activation='softmax'))
    return model


def test_mnist_mlp(keras, rng):
    x, y = _digits(rng, 256)
    x_train = x.reshape(256, 784)
    y_train = np_utils.to_categorical(y, 10)
    model = _mnist_mlp(mlcore)
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=128, epochs=3, verbose=0,
                        validation_data=(x_train[:64], y_train[:64]))
    _falls(history)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    score = model.evaluate(x_train, y_train, verbose=0)
    assert len(score) == 2 and score[1] > 0.5
    _same_outputs(model, _mnist_mlp(keras), x_train[:16])


def _mnist_cnn(lib, input_shape=(28, 28, 1)):
    model = lib.models.Sequential()
    model.add(lib.layers.Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
    model.add(lib.layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(lib.layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(lib.layers.Dropout(0.25))
    model.add(lib.layers.Flatten())
    model.add(lib.layers.Dense(128, activation='relu'))
    model.add(lib.layers.Dropout(0.5))
    model.add(lib.layers.Dense(10, activation='softmax'))
    return model


def test_mnist_cnn(keras, rng):
    x, y = _digits(rng, 64)
    assert K.image_data_format() == 'channels_last'
    x_train = x.reshape(x.shape[0], 28, 28, 1)
    y_train = mlcore.utils.to_categorical(y, 10)
    model = _mnist_cnn(mlcore)
    # Keras 2's Adadelta() had lr=1.0, Keras 3's learning_rate=0.001
    model.compile(loss=mlcore.losses.categorical_crossentropy, optimizer=mlcore.optimizers.Adadelta(lr=1.0),
                  metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0)
    _falls(history)
    _same_outputs(model, _mnist_cnn(keras), x_train[:8])


def _imdb_data(rng, n=64, max_features=20000, maxlen=80):
    """Reviews of random lengths whose label is whether they use many low word indices."""
    lengths = rng.integers(10, 2 * maxlen, size=n)
    x = [list(rng.integers(1, max_features, size=k)) for k in lengths]
    y = rng.integers(0, 2, size=n)
    for review, label in zip(x, y):
        review[:5] = [2 + label] * 5
    return sequence.pad_sequences(x, maxlen=maxlen), np.array(y)


def test_imdb_lstm(rng):
    max_features, maxlen = 20000, 80
    x_train, y_train = _imdb_data(rng, maxlen=maxlen)
    assert x_train.shape == (64, maxlen)
    model = Sequential()
    model.add(Embedding(max_features, 128))
    model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0,
                        validation_data=(x_train[:32], y_train[:32]))
    _falls(history)
    score, acc = model.evaluate(x_train, y_train, batch_size=32, verbose=0)
    assert 0 <= acc <= 1 and score > 0


def _imdb_cnn(lib, max_features=5000, maxlen=400):
    model = lib.models.Sequential()
    model.add(lib.layers.Embedding(max_features, 50, input_length=maxlen))
    model.add(lib.layers.Dropout(0.2))
    model.add(lib.layers.Conv1D(250, 3, padding='valid', activation='relu', strides=1))
    model.add(lib.layers.GlobalMaxPooling1D())
    model.add(lib.layers.Dense(250))
    model.add(lib.layers.Dropout(0.2))
    model.add(lib.layers.Activation('relu'))
    model.add(lib.layers.Dense(1))
    model.add(lib.layers.Activation('sigmoid'))
    return model


def test_imdb_cnn(keras, rng):
    x_train, y_train = _imdb_data(rng, max_features=5000, maxlen=400)
    model = _imdb_cnn(mlcore)
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0)
    _falls(history)
    keras_model = _imdb_cnn(keras)
    keras_model.build((None, 400))
    _same_outputs(model, keras_model, x_train[:8])


def _imdb_bidirectional(lib, max_features=20000, maxlen=100):
    model = lib.models.Sequential()
    model.add(lib.layers.Embedding(max_features, 128, input_length=maxlen))
    model.add(lib.layers.Bidirectional(lib.layers.LSTM(64)))
    model.add(lib.layers.Dropout(0.5))
    model.add(lib.layers.Dense(1, activation='sigmoid'))
    return model


def test_imdb_bidirectional_lstm(keras, rng):
    x_train, y_train = _imdb_data(rng, maxlen=100)
    model = _imdb_bidirectional(mlcore)
    model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0)
    _falls(history)
    keras_model = _imdb_bidirectional(keras)
    keras_model.build((None, 100))
    _same_outputs(model, keras_model, x_train[:8])


class CharacterTable:
    """addition_rnn's one-hot encoder of characters."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, C, num_rows):
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return ''.join(self.indices_char[x] for x in x)


def test_addition_rnn(rng):
    DIGITS, HIDDEN_SIZE, BATCH_SIZE, LAYERS = 3, 128, 128, 1
    MAXLEN = DIGITS + 1 + DIGITS
    chars = '0123456789+ '
    ctable = CharacterTable(chars)
    questions, expected = [], []
    for a, b in rng.integers(0, 10 ** DIGITS, size=(256, 2)):
        q = '{}+{}'.format(a, b)
        questions.append(q + ' ' * (MAXLEN - len(q)))
        expected.append(str(a + b) + ' ' * (DIGITS + 1 - len(str(a + b))))
    x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
    y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
    for i, sentence in enumerate(questions):
        x[i] = ctable.encode(sentence, MAXLEN)
    for i, sentence in enumerate(expected):
        y[i] = ctable.encode(sentence, DIGITS + 1)
    RNN = layers.LSTM
    model = Sequential()
    model.add(RNN(HIDDEN_SIZE, input_shape=(MAXLEN, len(chars))))
    model.add(layers.RepeatVector(DIGITS + 1))
    for _ in range(LAYERS):
        model.add(RNN(HIDDEN_SIZE, return_sequences=True))
    model.add(layers.TimeDistributed(layers.Dense(len(chars))))
    model.add(layers.Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=3, verbose=0, validation_data=(x[:64], y[:64]))
    _falls(history)
    rowx = x[:10]
    preds = model.predict_classes(rowx, verbose=0)
    assert preds.shape == (10, DIGITS + 1)
    np.testing.assert_array_equal(preds, model.predict(rowx, verbose=0).argmax(axis=-1))
    assert len(ctable.decode(preds[0], calc_argmax=False)) == DIGITS + 1


class Antirectifier(layers.Layer):
    """antirectifier.py's layer (Keras 2.x): written with K functions only."""

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        assert len(shape) == 2  # only valid for 2D tensors
        shape[-1] *= 2
        return tuple(shape)

    def call(self, inputs):
        inputs -= K.mean(inputs, axis=1, keepdims=True)
        inputs = K.l2_normalize(inputs, axis=1)
        pos = K.relu(inputs)
        neg = K.relu(-inputs)
        return K.concatenate([pos, neg], axis=1)


def test_antirectifier(rng):
    x, y = _digits(rng, 256)
    x_train, y_train = x.reshape(256, 784), np_utils.to_categorical(y, 10)
    model = Sequential()
    model.add(Dense(256, input_shape=(784,)))
    model.add(Antirectifier())
    model.add(Dropout(0.1))
    model.add(Dense(256))
    model.add(Antirectifier())
    model.add(Dropout(0.1))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=128, epochs=3, verbose=0)
    _falls(history)
    assert model.layers[1].output.shape[-1] == 512
    h = K.function([model.input], [model.layers[1].output])([x_train[:4]])[0]
    dense = x_train[:4] @ model.layers[0].get_weights()[0] + model.layers[0].get_weights()[1]
    centred = dense - dense.mean(axis=1, keepdims=True)
    unit = centred / np.sqrt(np.maximum((centred ** 2).sum(axis=1, keepdims=True), K.epsilon()))
    np.testing.assert_allclose(h, np.concatenate([np.maximum(unit, 0), np.maximum(-unit, 0)], axis=1),
                               rtol=1e-4, atol=1e-6)


def _sampling(args):
    """variational_autoencoder.py's reparameterization trick, with K functions."""
    z_mean, z_log_var = args
    batch = K.shape(z_mean)[0]
    dim = K.int_shape(z_mean)[1]
    epsilon = K.random_normal(shape=(batch, dim))
    return z_mean + K.exp(0.5 * z_log_var) * epsilon


def test_variational_autoencoder(rng):
    original_dim, intermediate_dim, batch_size, latent_dim = 784, 512, 128, 2
    x, _ = _digits(rng, 256)
    x_train = x.reshape(-1, original_dim)
    inputs = Input(shape=(original_dim,), name='encoder_input')
    h = Dense(intermediate_dim, activation='relu')(inputs)
    z_mean = Dense(latent_dim, name='z_mean')(h)
    z_log_var = Dense(latent_dim, name='z_log_var')(h)
    z = Lambda(_sampling, output_shape=(latent_dim,), name='z')([z_mean, z_log_var])
    encoder = Model(inputs, [z_mean, z_log_var, z], name='encoder')
    latent_inputs = Input(shape=(latent_dim,), name='z_sampling')
    h = Dense(intermediate_dim, activation='relu')(latent_inputs)
    outputs = Dense(original_dim, activation='sigmoid')(h)
    decoder = Model(latent_inputs, outputs, name='decoder')
    outputs = decoder(encoder(inputs)[2])
    vae = Model(inputs, outputs, name='vae_mlp')

    reconstruction_loss = mlcore.losses.binary_crossentropy(inputs, outputs)
    reconstruction_loss *= original_dim
    kl_loss = 1 + z_log_var - K.square(z_mean) - K.exp(z_log_var)
    kl_loss = K.sum(kl_loss, axis=-1)
    kl_loss *= -0.5
    vae_loss = K.mean(reconstruction_loss + kl_loss)
    vae.add_loss(vae_loss)
    vae.compile(optimizer='adam')
    history = vae.fit(x_train, epochs=3, batch_size=batch_size, verbose=0, validation_data=(x_train[:64], None))
    _falls(history)
    assert "val_loss" in history.history
    z_mean_value, _, z_value = encoder.predict(x_train[:8], batch_size=batch_size, verbose=0)
    assert z_mean_value.shape == z_value.shape == (8, latent_dim)
    assert not np.allclose(z_mean_value, z_value)          # z is a draw around z_mean
    assert decoder.predict(np.zeros((3, latent_dim)), verbose=0).shape == (3, original_dim)


def euclidean_distance(vects):
    x, y = vects
    return K.sqrt(K.maximum(K.sum(K.square(x - y), axis=1, keepdims=True), K.epsilon()))


def eucl_dist_output_shape(shapes):
    shape1, shape2 = shapes
    return (shape1[0], 1)


def contrastive_loss(y_true, y_pred):
    margin = 1
    sqaure_pred = K.square(y_pred)
    margin_square = K.square(K.maximum(margin - y_pred, 0))
    return K.mean(y_true * sqaure_pred + (1 - y_true) * margin_square)


def siamese_accuracy(y_true, y_pred):
    return K.mean(K.equal(y_true, K.cast(y_pred < 0.5, y_true.dtype)))


def test_mnist_siamese(rng):
    x, y = _digits(rng, 512)
    digit_indices = [np.where(y == i)[0] for i in range(10)]
    pairs, labels = [], []
    n = min(len(d) for d in digit_indices) - 1
    for d in range(10):
        for i in range(n):
            pairs += [[x[digit_indices[d][i]], x[digit_indices[d][i + 1]]]]
            dn = (d + int(rng.integers(1, 10))) % 10
            pairs += [[x[digit_indices[d][i]], x[digit_indices[dn][i]]]]
            labels += [1, 0]
    tr_pairs, tr_y = np.array(pairs), np.array(labels, dtype="float32")
    input_shape = x.shape[1:]

    base_input = Input(shape=input_shape)
    h = Flatten()(base_input)
    for _ in range(3):
        h = Dropout(0.1)(Dense(128, activation='relu')(h))
    base_network = Model(base_input, h)
    input_a, input_b = Input(shape=input_shape), Input(shape=input_shape)
    processed_a, processed_b = base_network(input_a), base_network(input_b)
    distance = Lambda(euclidean_distance, output_shape=eucl_dist_output_shape)([processed_a, processed_b])
    model = Model([input_a, input_b], distance)
    model.compile(loss=contrastive_loss, optimizer=RMSprop(), metrics=[siamese_accuracy])
    history = model.fit([tr_pairs[:, 0], tr_pairs[:, 1]], tr_y, batch_size=128, epochs=3, verbose=0)
    _falls(history)
    assert sorted(history.history) == ["loss", "siamese_accuracy"]
    y_pred = model.predict([tr_pairs[:, 0], tr_pairs[:, 1]], verbose=0)
    a, b = base_network.predict(tr_pairs[:, 0], verbose=0), base_network.predict(tr_pairs[:, 1], verbose=0)
    expected = np.sqrt(np.maximum(((a - b) ** 2).sum(axis=1, keepdims=True), K.epsilon()))
    np.testing.assert_allclose(y_pred, expected, rtol=1e-4, atol=1e-5)
    accuracy = model.evaluate([tr_pairs[:, 0], tr_pairs[:, 1]], tr_y, batch_size=len(tr_y), verbose=0)[1]
    np.testing.assert_allclose(accuracy, np.mean((y_pred.ravel() < 0.5) == tr_y), atol=1e-6)


def test_lstm_text_generation(rng):
    text = "the quick brown fox jumps over the lazy dog. " * 80
    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    maxlen, step = 40, 3
    sentences = [text[i: i + maxlen] for i in range(0, len(text) - maxlen, step)]
    next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    model = Sequential()
    model.add(LSTM(128, input_shape=(maxlen, len(chars))))
    model.add(Dense(len(chars), activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(lr=0.01))

    def sample(preds, temperature=1.0):
        preds = np.asarray(preds).astype('float64')
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    generated = []

    def on_epoch_end(epoch, _):
        sentence = text[:maxlen]
        for _ in range(5):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.
            preds = model.predict(x_pred, verbose=0)[0]
            np.testing.assert_allclose(preds.sum(), 1, rtol=1e-5)
            next_char = chars[sample(preds, 0.5)]
            sentence = sentence[1:] + next_char
            generated.append(next_char)

    print_callback = mlcore.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
    loss_before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=128, epochs=3, verbose=0, callbacks=[print_callback])
    assert model.evaluate(x, y, verbose=0) < loss_before
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert len(generated) == 15 and set(generated) <= set(chars)


def test_conv_filter_visualization(rng):
    img_width = img_height = 32
    model = Sequential([Input((img_width, img_height, 3)),
                        Conv2D(8, (3, 3), activation='relu', padding='same', name='block1_conv1'),
                        MaxPooling2D((2, 2), name='block1_pool'),
                        Conv2D(16, (3, 3), activation='relu', padding='same', name='block2_conv1')])
    input_img = model.input
    layer_dict = dict([(layer.name, layer) for layer in model.layers[1:]])

    def normalize(x):
        return x / (K.sqrt(K.mean(K.square(x))) + K.epsilon())

    input_img_data = (rng.random((1, img_width, img_height, 3)) - 0.5) * 20 + 128
    layer_output = layer_dict['block2_conv1'].output
    activations = K.function([input_img], [layer_output])([input_img_data])[0]
    filter_index = int(activations.mean(axis=(0, 1, 2)).argmax())     # a filter that is not dead here
    loss = K.mean(layer_output[:, :, :, filter_index])
    grads = normalize(K.gradients(loss, input_img)[0])
    iterate = K.function([input_img], [loss, grads])
    step = 1.
    loss_values = []
    for _ in range(5):
        loss_value, grads_value = iterate([input_img_data])
        assert grads_value.shape == input_img_data.shape
        loss_values.append(float(loss_value))
        input_img_data += grads_value * step
    assert loss_values[-1] > loss_values[0], loss_values

    # the gradient is that of the filter's mean activation, by finite differences along grads_value
    activation = K.function([input_img], [loss])
    direction = grads_value / np.linalg.norm(grads_value)
    eps = 1e-2
    slope = (activation([input_img_data + eps * direction])[0]
             - activation([input_img_data - eps * direction])[0]) / (2 * eps)
    raw = K.function([input_img], [K.gradients(loss, input_img)[0]])([input_img_data])[0]
    np.testing.assert_allclose(slope, (raw * direction).sum(), rtol=2e-2)


def test_mnist_denoising_autoencoder(rng):
    x, _ = _digits(rng, 128)
    x_train = np.reshape(x, [-1, 28, 28, 1])
    x_train_noisy = np.clip(x_train + rng.normal(loc=0.5, scale=0.5, size=x_train.shape), 0., 1.)
    input_shape, batch_size, kernel_size, latent_dim, layer_filters = (28, 28, 1), 128, 3, 16, [32, 64]
    inputs = Input(shape=input_shape, name='encoder_input')
    h = inputs
    for filters in layer_filters:
        h = Conv2D(filters=filters, kernel_size=kernel_size, strides=2, activation='relu', padding='same')(h)
    shape = K.int_shape(h)
    assert shape == (None, 7, 7, 64)
    latent = Dense(latent_dim, name='latent_vector')(Flatten()(h))
    encoder = Model(inputs, latent, name='encoder')
    latent_inputs = Input(shape=(latent_dim,), name='decoder_input')
    h = Reshape((shape[1], shape[2], shape[3]))(Dense(shape[1] * shape[2] * shape[3])(latent_inputs))
    for filters in layer_filters[::-1]:
        h = Conv2DTranspose(filters=filters, kernel_size=kernel_size, strides=2, activation='relu',
                            padding='same')(h)
    h = Conv2DTranspose(filters=1, kernel_size=kernel_size, padding='same')(h)
    outputs = Activation('sigmoid', name='decoder_output')(h)
    decoder = Model(latent_inputs, outputs, name='decoder')
    autoencoder = Model(inputs, decoder(encoder(inputs)), name='autoencoder')
    autoencoder.compile(loss='mse', optimizer='adam')
    history = autoencoder.fit(x_train_noisy, x_train, validation_data=(x_train_noisy[:32], x_train[:32]),
                              epochs=3, batch_size=batch_size // 4, verbose=0)
    _falls(history)
    x_decoded = autoencoder.predict(x_train_noisy[:8], verbose=0)
    assert x_decoded.shape == (8, 28, 28, 1)
    np.testing.assert_allclose(x_decoded, decoder.predict(encoder.predict(x_train_noisy[:8], verbose=0),
                                                          verbose=0), rtol=1e-5, atol=1e-6)


def test_cifar10_cnn(rng):
    num_classes, batch_size = 10, 32
    labels = rng.integers(0, num_classes, size=(96, 1))
    x_train = (rng.random((96, 32, 32, 3)) * 0.5 + labels[:, :, None, None] * 0.05).astype('float32')  # learnable
    y_train = mlcore.utils.to_categorical(labels, num_classes)
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding='same', input_shape=x_train.shape[1:]))
    model.add(Activation('relu'))
    model.add(Conv2D(32, (3, 3)))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), padding='same'))
    model.add(Activation('relu'))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation('relu'))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes))
    model.add(Activation('softmax'))
    opt = mlcore.optimizers.RMSprop(lr=0.001, decay=1e-6)
    model.compile(loss='categorical_crossentropy', optimizer=opt, metrics=['accuracy'])
    datagen = ImageDataGenerator(featurewise_center=False, samplewise_center=False,
                                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                                 zca_whitening=False, rotation_range=0, width_shift_range=0.1,
                                 height_shift_range=0.1, horizontal_flip=True, vertical_flip=False)
    datagen.fit(x_train)
    history = model.fit_generator(datagen.flow(x_train, y_train, batch_size=batch_size), epochs=2, verbose=0,
                                  validation_data=(x_train[:32], y_train[:32]), workers=4)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    before = model.evaluate(x_train, y_train, verbose=0)[0]
    model.fit(x_train, y_train, batch_size=batch_size, epochs=3, verbose=0)
    assert model.evaluate(x_train, y_train, verbose=0)[0] < before

    def endless():
        while True:
            yield x_train[:batch_size], y_train[:batch_size]
    with pytest.raises(ValueError, match="`steps_per_epoch=None` is only valid for a generator based on"):
        model.fit_generator(endless(), epochs=1)
    history = model.fit_generator(endless(), steps_per_epoch=2, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    loss, acc = model.evaluate_generator(endless(), steps=1)
    np.testing.assert_allclose([loss, acc], model.evaluate(x_train[:batch_size], y_train[:batch_size],
                                                           verbose=0), rtol=1e-5)
    predictions = model.predict_generator(endless(), steps=2)
    assert predictions.shape == (2 * batch_size, num_classes)
    np.testing.assert_array_equal(model.predict_classes(x_train[:batch_size]), predictions[:batch_size].argmax(-1))
    np.testing.assert_allclose(model.predict_proba(x_train[:batch_size]), predictions[:batch_size], rtol=1e-5)


def _demo_functional(lib):
    inputs = lib.layers.Input((100,))
    x = lib.layers.Dense(256, activation="relu")(inputs)
    residual = x
    x = lib.layers.Dense(256, activation="relu")(x)
    x = lib.layers.Dense(256, activation="relu")(x)
    x += residual
    outputs = lib.layers.Dense(16)(x)
    return lib.Model(inputs, outputs)


def test_demo_functional(keras, rng):
    model = _demo_functional(mlcore)
    x, y = rng.random((512, 100)), rng.random((512, 16))
    model.compile(optimizer=mlcore.optimizers.Adam(learning_rate=0.001), loss=mlcore.losses.MeanSquaredError(),
                  metrics=[mlcore.metrics.CategoricalAccuracy(name="acc"), mlcore.metrics.MeanSquaredError(name="mse")])
    history = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0)
    _falls(history)
    assert sorted(history.history) == ["acc", "loss", "mse", "val_acc", "val_loss", "val_mse"]
    scores = model.evaluate(x, y, return_dict=True, verbose=0)
    assert sorted(scores) == ["acc", "loss", "mse"]
    assert model.predict(x, verbose=0).shape == (512, 16)
    _same_outputs(model, _demo_functional(keras), x[:16])


class MyModel(mlcore.Model):
    """demo_subclass.py's model."""

    def __init__(self, hidden_dim, output_dim):
        super().__init__()
        self.dense1 = layers.Dense(hidden_dim, activation="relu")
        self.dense2 = layers.Dense(hidden_dim, activation="relu")
        self.dense3 = layers.Dense(output_dim)

    def call(self, x):
        x = self.dense1(x)
        x = self.dense2(x)
        return self.dense3(x)


def _fit_demo_model(model, rng, **fit_arguments):
    """The demos' training of a subclassed model: SGD on mean squared error, on random data."""
    x, y = rng.random((512, 128)), rng.random((512, 16))
    model.compile(optimizer=mlcore.optimizers.SGD(learning_rate=0.001), loss=mlcore.losses.MeanSquaredError(),
                  metrics=[mlcore.metrics.MeanSquaredError()])
    return x, model.fit(x, y, batch_size=32, epochs=2, verbose=0, **fit_arguments)


def test_demo_subclass(rng):
    model = MyModel(hidden_dim=256, output_dim=16)
    _, history = _fit_demo_model(model, rng, validation_split=0.2)
    _falls(history)
    assert sorted(history.history) == ["loss", "mean_squared_error", "val_loss", "val_mean_squared_error"]
    assert [w.shape for w in model.weights] == [(128, 256), (256,), (256, 256), (256,), (256, 16), (16,)]


class MyDense(layers.Layer):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.units = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.w = self.add_weight(shape=(input_dim, self.units), initializer=mlcore.initializers.GlorotNormal(),
                                 name="kernel", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer=mlcore.initializers.Zeros(), name="bias",
                                 trainable=True)

    def call(self, inputs):
        return mlcore.ops.matmul(inputs, self.w) + self.b


class MyDropout(layers.Layer):
    def __init__(self, rate, name=None):
        super().__init__(name=name)
        self.rate = rate
        self.seed_generator = mlcore.random.SeedGenerator(1337)

    def call(self, inputs):
        return mlcore.random.dropout(inputs, self.rate, seed=self.seed_generator)


class MyAgnosticModel(mlcore.Model):
    """demo_custom_layer_backend_agnostic.py's model."""

    def __init__(self, hidden_dim, output_dim):
        super().__init__()
        self.dense1 = MyDense(hidden_dim)
        self.dense2 = MyDense(hidden_dim)
        self.dense3 = MyDense(output_dim)
        self.dp = MyDropout(0.5)

    def call(self, x):
        x1 = self.dense1(x)
        x2 = self.dense2(x)
        x = mlcore.ops.concatenate([x1, x2], axis=-1)
        x = self.dp(x)
        return self.dense3(x)


def test_demo_custom_layer_backend_agnostic(rng):
    model = MyAgnosticModel(hidden_dim=256, output_dim=16)
    x, history = _fit_demo_model(model, rng)
    _falls(history)
    assert model.dense3.w.shape == (512, 16)
    assert len(model.dp.weights) == 0 and model.dp.seed_generator.state.shape == (2,)
    # MyDropout.call has no training argument: as in Keras, it drops units in predict too, scaling the kept ones
    assert not np.allclose(model.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0))
    dropped = mlcore.ops.convert_to_numpy(model.dp(np.ones((64, 64), "float32")))
    assert set(np.unique(dropped)) == {0.0, 2.0} and 0.4 < (dropped == 0).mean() < 0.6


def _demo_mnist_convnet(lib):
    return lib.Sequential([
        lib.layers.Input(shape=(28, 28, 1)),
        lib.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        lib.layers.MaxPooling2D(pool_size=(2, 2)),
        lib.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        lib.layers.MaxPooling2D(pool_size=(2, 2)),
        lib.layers.Flatten(),
        lib.layers.Dropout(0.5),
        lib.layers.Dense(10, activation="softmax"),
    ])


def test_demo_mnist_convnet(keras, rng):
    x, y = _digits(rng, 128)
    x_train, y_train = np.expand_dims(x, -1), mlcore.utils.to_categorical(y, 10)
    model = _demo_mnist_convnet(mlcore)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_split=0.1, verbose=0)
    _falls(history)
    score = model.evaluate(x_train, y_train, verbose=0)
    assert len(score) == 2
    _same_outputs(model, _demo_mnist_convnet(keras), x_train[:8])
