"""FarmHash Fingerprint64 and SipHash-2-4 (mlcore.utils.string_hashing) against published vectors, and
keras.layers.Hashing against the outputs Keras 3.15's docstring and tests give (its layer needs TensorFlow,
which is not installed: those outputs are TensorFlow's own)."""
import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.utils.string_hashing import fingerprint64, hash_buckets, siphash64

# SipHash-2-4's reference vectors (Aumasson & Bernstein, vectors_sip64): key 00..0f, message i = bytes 00..i-1,
# each output as its 8 little-endian bytes
SIP64 = """
310e0edd47db6f72 fd67dc93c539f874 5a4fa9d909806c0d 2d7efbd796666785 b7877127e09427cf 8da699cd64557618
cee3fe586e46c9cb 37d1018bf50002ab 6224939a79f5f593 b0e4a90bdf82009e f3b9dd94c5bb5d7a a7ad6b22462fb3f4
fbe50e86bc8f1e75 903d84c02756ea14 eef27a8e90ca23f7 e545be4961ca29a1 db9bc2577fcc2a3f 9447be2cf5e99a69
9cd38d96f0b3c14b bd6179a71dc96dbb 98eea21af25cd6be c7673b2eb0cbf2d0 883ea3e395675393 c8ce5ccd8c030ca8
94af49f6c650adb8 eab8858ade92e1bc f315bb5bb835d817 adcf6b0763612e2f a5c91da7acaa4dde 716595876650a2a6
28ef495c53a387ad 42c341d8fa92d832 ce7cf2722f512771 e37859f94623f3a7 381205bb1ab0e012 ae97a10fd434e015
b4a31508beff4d31 81396229f0907902 4d0cf49ee5d4dcca 5c73336a76d8bf9a d0a704536ba93e0e 925958fcd6420cad
a915c29bc8067318 952b79f3bc0aa6d4 f21df2e41d4535f9 87577519048f53a9 10a56cf5dfcd9adb eb75095ccd986cd0
51a9cb9ecba312e6 96afadfc2ce666c7 72fe52975a4364ee 5a1645b276d592a1 b274cb8ebf87870a 6f9bb4203de7b381
eaecb2a30b22a87f 9924a43cc1315724 bd838d3aafbf8db7 0b1a2a3265d51aea 135079a3231ce660 932b2846e4d70666
e1915f5cb1eca46c f325965ca16d629f 575ff28e60381be5 724506eb4c328a95
""".split()

# FarmHash Fingerprint64 (farmhashna::Hash64) of strings of every length class the algorithm branches on:
# 0, 1-3, 4-7, 8-16, 17-32, 33-64 bytes and the 64-byte-chunk loop (the farmhash64 project's test table)
FINGERPRINTS = {
    "": 0x9AE16A3B2F90404F, "a": 0xB3454265B6DF75E3, "abc": 0x24A5B3A074E7F369, "abcd": 0x1A5502DE4A1F8101,
    "abcdefg": 0x3C40C92B1CCB7355, "abcdefgh": 0xFEE9D22990C82909, "0123456789'01234": 0x4283D4EF43627F64,
    "0123456789=012345": 0x46A7416ED4861E3B, "size:  a.out:  bad magic": 0x80D73B843BA57DB8,
    "C is as portable as Stonehedge!!": 0xB944F8A16261E414,
    "Discard medicine more than two years old.": 0xE8F89AB6DF9BDD25,
    "How can you write a big system without C++?  -Paul Glick": 0x5A0A6EFD52E84E2A,
    "For every action there is an equal and opposite government program.": 0x55182F8859ECA4CE,
    "The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its mole "
    "fraction.  Lewis-Randall Rule": 0x098EFF6958C5E91A,
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo "
    "consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla "
    "pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id "
    "est laborum.": 0xC3F02C4FFD5D71E6,
}
WIRE = [["omar"], ["stringer"], ["marlo"], ["wire"], ["skywalker"]]


def test_siphash_matches_the_reference_vectors():
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
    messages = [bytes(range(n)) for n in range(64)]
    got = siphash64(messages, key)
    assert [int(h).to_bytes(8, "little").hex() for h in got] == SIP64


def test_fingerprint64_matches_published_values():
    got = fingerprint64(list(FINGERPRINTS))
    assert [int(h) for h in got] == list(FINGERPRINTS.values())
    # bytes hash as they are; str as its UTF-8 bytes
    assert int(fingerprint64([b"0123456789%0123456789\\xa3"])[0]) == 0xC91FDC3787A41523
    assert fingerprint64(["été"])[0] == fingerprint64(["été".encode("utf-8")])[0]


def test_hash_buckets_as_tensorflow_documents_them():
    # tf.strings.to_hash_bucket_fast and to_hash_bucket_strong's docstring examples
    np.testing.assert_array_equal(hash_buckets(["Hello", "TensorFlow", "2.x"], 3), [0, 2, 2])
    np.testing.assert_array_equal(hash_buckets(["Hello", "TF"], 3, key=[1, 2]), [2, 0])


def test_many_strings_hash_as_each_alone(rng):
    """Strings are grouped by length and repeated ones hashed once: the grouping must not change any hash."""
    words = ["".join(rng.choice(list("abcdefghé "), size=n)) for n in rng.integers(0, 150, size=400)]
    words += words[:50]
    together, salted = fingerprint64(words), siphash64(words, (7, 11))
    assert [int(h) for h in together] == [int(fingerprint64([w])[0]) for w in words]
    assert [int(h) for h in salted] == [int(siphash64([w], (7, 11))[0]) for w in words]
    assert hash_buckets(["w%d" % i for i in range(100000)], 1000).shape == (100000,)


# --- the layer -----------------------------------------------------------------------------------------------
def hashed(data, **kwargs):
    return layers.Hashing(**kwargs)(data)


def test_hashing_outputs_as_keras_documents_them():
    np.testing.assert_array_equal(hashed([["A"], ["B"], ["C"], ["D"], ["E"]], num_bins=3), [[1], [0], [1], [1], [2]])
    np.testing.assert_array_equal(hashed([["A"], ["B"], [""], ["C"], ["D"]], num_bins=3, mask_value=""),
                                  [[1], [1], [0], [2], [2]])
    np.testing.assert_array_equal(hashed([["A"], ["B"], ["C"], ["D"], ["E"]], num_bins=3, salt=[133, 137]),
                                  [[1], [2], [1], [0], [2]])
    np.testing.assert_array_equal(hashed([["A"], ["B"], ["C"], ["D"], ["E"]], num_bins=3, salt=133),
                                  [[0], [0], [2], [1], [0]])


def test_hashing_outputs_of_keras_tests():
    np.testing.assert_array_equal(hashed(np.asarray(WIRE), num_bins=2), [[0], [0], [1], [0], [0]])
    np.testing.assert_array_equal(hashed(WIRE, num_bins=3, mask_value=""), [[1], [1], [2], [1], [1]])
    np.testing.assert_array_equal(hashed(WIRE, num_bins=3, mask_value="omar"), [[0], [1], [2], [1], [1]])
    np.testing.assert_array_equal(hashed([w for w, in WIRE], num_bins=2), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(hashed(np.asarray(WIRE), num_bins=2, salt=[133, 137]), [[0], [1], [0], [1], [0]])
    np.testing.assert_array_equal(hashed(np.asarray(WIRE), num_bins=2, salt=[211, 137]), [[1], [0], [1], [0], [1]])
    np.testing.assert_array_equal(hashed(np.asarray(WIRE, dtype=bytes), num_bins=2), [[0], [0], [1], [0], [0]])
    # integers hash as their decimal strings (and floats as the integers they truncate to)
    for data in ([0, 1, 2, 3, 4], (0, 1, 2, 3, 4), np.array([0, 1, 2, 3, 4]), np.array([0.2, 1.9, 2.5, 3.0, 4.7])):
        np.testing.assert_array_equal(hashed(data, num_bins=3), [1, 0, 1, 0, 2])
    np.testing.assert_array_equal(hashed(np.arange(5)[:, None], num_bins=3, salt=[133, 137]),
                                  [[1], [1], [2], [0], [1]])
    np.testing.assert_array_equal(hashed([[[1], [2]], [[2], [3]], [[3], [4]]], num_bins=2), np.ones((3, 2, 1)))
    np.testing.assert_array_equal(hashed(np.asarray(WIRE), num_bins=1), np.zeros((5, 1)))


def test_hashing_encodings_and_dtypes():
    one_hot = hashed(np.array([0, 1, 2, 3, 4]), num_bins=3, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot, [[0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert one_hot.dtype == np.float32
    np.testing.assert_array_equal(hashed(np.array([[0], [1], [2]]), num_bins=3, output_mode="one_hot"),
                                  [[0, 1, 0], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(hashed(np.array([[0, 1, 2, 3, 4]]), num_bins=3, output_mode="multi_hot"),
                                  [[1, 1, 1]])
    np.testing.assert_array_equal(hashed([0, 1, 2, 3, 4], num_bins=3, output_mode="count"), [2, 2, 1])
    np.testing.assert_array_equal(hashed([[0, 1, 2, 3, 4]], num_bins=3, output_mode="count"), [[2, 2, 1]])
    assert hashed(["a"], num_bins=3).dtype == np.int64
    assert hashed(["a"], num_bins=3, dtype="int32").dtype == np.int32
    assert hashed([["a"]], num_bins=3, output_mode="one_hot", dtype="float64").dtype == np.float64
    for mode, shape in (("int", (None, 3, 4)), ("one_hot", (None, 3, 5)), ("count", (None, 3, 5))):
        assert layers.Hashing(num_bins=5, output_mode=mode).compute_output_shape((None, 3, 4)) == shape


def test_hashing_config_round_trips():
    layer = layers.Hashing(num_bins=7, mask_value="", salt=9, output_mode="count", name="hash_it")
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == \
        {"num_bins": 7, "salt": [9, 9], "mask_value": "", "output_mode": "count", "sparse": False}
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is layers.Hashing and again.get_config() == config
    np.testing.assert_array_equal(again([["a", "", "b"]]), layer([["a", "", "b"]]))


def test_hashing_errors_as_keras():
    with pytest.raises(ValueError, match="The `num_bins` for `Hashing` cannot be `None` or non-positive values"):
        layers.Hashing(num_bins=None)
    with pytest.raises(ValueError, match="cannot be `None` or non-positive"):
        layers.Hashing(num_bins=0)
    for salt in ("string", [1], [133, 137, 177]):
        with pytest.raises(ValueError, match="can only be a tuple of size 2 integers, or a single integer"):
            layers.Hashing(num_bins=2, salt=salt)
    with pytest.raises(ValueError, match="Invalid value for argument `output_mode`. Expected one of"):
        layers.Hashing(num_bins=3, output_mode="unsupported_mode")
    with pytest.raises(ValueError, match='When `output_mode="int"`, `dtype` should be an integer type,'):
        layers.Hashing(num_bins=3, output_mode="int", dtype="float32")
    with pytest.raises(ValueError, match="`sparse` may only be true if `output_mode` is"):
        layers.Hashing(num_bins=3, output_mode="int", sparse=True)
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        layers.Hashing(num_bins=3, output_mode="count", sparse=True)
    with pytest.raises(ValueError, match="Hashing 'h' runs on the host.*symbolic tensor"):
        layers.Hashing(num_bins=3, name="h")(mlcore.Input((2,), dtype="int64"))
