"""Keras 2's keras.preprocessing.sequence, where code of the seed's era imports pad_sequences from, and
Keras 2's word2vec helpers skipgrams and make_sampling_table (keras-preprocessing 1.1's, which Keras 3
keeps as keras._legacy.preprocessing.sequence), with Keras 2's results."""
import random

import numpy as np

from mlcore.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams"]


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's probability of keeping the word of rank i (0 and 1: the most frequent), for skipgrams'
    sampling_table: min(1, sqrt(f / sampling_factor) / (f / sampling_factor)) with the frequency f of
    rank r taken from Zipf's law, 1 / (r (log r + gamma) + 1/2 - 1 / (12 r)), gamma = 0.577."""
    rank = np.arange(size)
    rank[0] = 1
    inverse_frequency = rank * (np.log(rank) + 0.577) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inverse_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Skip-gram pairs of a sequence of word indices: ([word, neighbour] for each neighbour at most
    window_size away, label 1), then int(positives * negative_samples) pairs [word, random index in
    [1, vocabulary_size)] labelled 0; index 0 is not a word and is skipped; with a sampling_table, word
    i is kept with probability sampling_table[i].  Labels are 1/0, or [0, 1]/[1, 0] with categorical=True.
    Returns (couples, labels), both shuffled in the same order with shuffle=True.  As Keras 2's, it draws
    from Python's `random` module (and, shuffling, reseeds it with `seed`), so a seed gives Keras 2's pairs."""
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        num_negative = int(len(labels) * negative_samples)
        words = [couple[0] for couple in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)] for i in range(num_negative)]
        labels += [[1, 0] if categorical else 0 for _ in range(num_negative)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10 ** 7)
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
