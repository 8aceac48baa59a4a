"""The two string hashes of TensorFlow's string ops, which Keras's Hashing and StringLookup layers bin with:

- FarmHash Fingerprint64 (``farmhashna::Hash64``), behind ``tf.strings.to_hash_bucket_fast``;
- SipHash-2-4 with a 128-bit key, behind ``tf.strings.to_hash_bucket_strong`` (the salted hash);

and FingerprintCat64, which ``tf.sparse.cross_hashed`` (Keras's HashedCrossing) chains features' fingerprints with.

Both run vectorised with numpy: the strings of one byte length take the same path through either algorithm, so
each length group is hashed at once as a (strings, bytes) matrix of uint64 words, whose arithmetic wraps modulo
2**64 as the C code's does.  Repeated strings are hashed once.
"""
import numpy as np

# FarmHash's primes between 2**63 and 2**64
K0, K1, K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F
MUL = 0x9DDFEA08EB382D69
SIP_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
U64 = np.uint64


def _rotr(x, shift):
    return (x >> U64(shift)) | (x << U64(64 - shift))


def _rotl(x, shift):
    return (x << U64(shift)) | (x >> U64(64 - shift))


def _word(rows, at, size=8):
    """The little-endian uint64 of each row's bytes at..at+size (a whole word, or FarmHash's 32-bit fetch)."""
    return rows[:, at:at + size].copy().view("<u%d" % size)[:, 0].astype(U64)


# --- FarmHash Fingerprint64 --------------------------------------------------------------------------------
def _shift_mix(x):
    return x ^ (x >> U64(47))


def _hash_len16(u, v, mul=MUL):
    a = _shift_mix((u ^ v) * U64(mul))
    b = _shift_mix((v ^ a) * U64(mul))
    return b * U64(mul)


def _len0to16(rows, length):
    mul = U64((K2 + 2 * length) % 2**64)
    if length >= 8:
        a = _word(rows, 0) + U64(K2)
        b = _word(rows, length - 8)
        return _hash_len16(_rotr(b, 37) * mul + a, (_rotr(a, 25) + b) * mul, mul)
    if length >= 4:
        return _hash_len16(U64(length) + (_word(rows, 0, 4) << U64(3)), _word(rows, length - 4, 4), mul)
    if length > 0:
        y = rows[:, 0].astype(U64) + (rows[:, length >> 1].astype(U64) << U64(8))
        z = U64(length) + (rows[:, length - 1].astype(U64) << U64(2))
        return _shift_mix(y * U64(K2) ^ z * U64(K0)) * U64(K2)
    return np.full(len(rows), K2, dtype=U64)


def _mix_ends(rows, length, first_mul):
    """The first and last 16 bytes mixed as HashLen17to32 hashes them (first_mul K1) and HashLen33to64 begins
    (first_mul K2): (that hash, y, a, mul), the last three being what HashLen33to64 goes on with."""
    mul = U64(K2 + 2 * length)
    a = _word(rows, 0) * U64(first_mul)
    b = _word(rows, 8)
    c = _word(rows, length - 8) * mul
    d = _word(rows, length - 16) * U64(K2)
    y = _rotr(a + b, 43) + _rotr(c, 30) + d
    return _hash_len16(y, a + _rotr(b + U64(K2), 18) + c, mul), y, a, mul


def _len17to32(rows, length):
    return _mix_ends(rows, length, K1)[0]


def _len33to64(rows, length):
    z, y, a, mul = _mix_ends(rows, length, K2)
    e = _word(rows, 16) * mul
    f = _word(rows, 24)
    g = (y + _word(rows, length - 32)) * mul
    h = (z + _word(rows, length - 24)) * mul
    return _hash_len16(_rotr(e + f, 43) + _rotr(g, 30) + h, e + _rotr(f + a, 18) + g, mul)


def _weak_hash32(rows, at, a, b):
    """FarmHash's WeakHashLen32WithSeeds of the 32 bytes at `at`, seeded with a and b."""
    w, x, y, z = (_word(rows, at + 8 * k) for k in range(4))
    a = a + w
    b = _rotr(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotr(a, 44)
    return a + z, b + c


def _len65plus(rows, length):
    """The loop over 64-byte chunks, then the last 64 bytes (which may overlap the last chunk)."""
    zero = np.zeros(len(rows), dtype=U64)
    x = zero + U64(81)
    y = zero + U64((81 * K1 + 113) % 2**64)
    z = _shift_mix(y * U64(K2) + U64(113)) * U64(K2)
    v, w = (zero, zero), (zero, zero)
    x = x * U64(K2) + _word(rows, 0)
    for s in range(0, ((length - 1) // 64) * 64, 64):
        x = _rotr(x + y + v[0] + _word(rows, s + 8), 37) * U64(K1)
        y = _rotr(y + v[1] + _word(rows, s + 48), 42) * U64(K1)
        x = x ^ w[1]
        y = y + v[0] + _word(rows, s + 40)
        z = _rotr(z + w[0], 33) * U64(K1)
        v = _weak_hash32(rows, s, v[1] * U64(K1), x + w[0])
        w = _weak_hash32(rows, s + 32, z + w[1], y + _word(rows, s + 16))
        z, x = x, z
    mul = U64(K1) + ((z & U64(0xFF)) << U64(1))
    s = length - 64
    w0 = w[0] + U64((length - 1) & 63)
    v0 = v[0] + w0
    w = (w0 + v0, w[1])
    v = (v0, v[1])
    x = _rotr(x + y + v[0] + _word(rows, s + 8), 37) * mul
    y = _rotr(y + v[1] + _word(rows, s + 48), 42) * mul
    x = x ^ (w[1] * U64(9))
    y = y + v[0] * U64(9) + _word(rows, s + 40)
    z = _rotr(z + w[0], 33) * mul
    v = _weak_hash32(rows, s, v[1] * mul, x + w[0])
    w = _weak_hash32(rows, s + 32, z + w[1], y + _word(rows, s + 16))
    z, x = x, z
    return _hash_len16(_hash_len16(v[0], w[0], mul) + _shift_mix(y) * U64(K0) + z,
                       _hash_len16(v[1], w[1], mul) + x, mul)


def _fingerprint_rows(rows, length):
    if length <= 16:
        return _len0to16(rows, length)
    if length <= 32:
        return _len17to32(rows, length)
    if length <= 64:
        return _len33to64(rows, length)
    return _len65plus(rows, length)


# --- SipHash-2-4 -------------------------------------------------------------------------------------------
def _sip_rounds(v, count):
    v0, v1, v2, v3 = v
    for _ in range(count):
        v0 = v0 + v1
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = v2 + v3
        v3 = _rotl(v3, 16) ^ v2
        v0 = v0 + v3
        v3 = _rotl(v3, 21) ^ v0
        v2 = v2 + v1
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return [v0, v1, v2, v3]


def _siphash_rows(rows, length, key):
    k0, k1 = (U64(int(k) % 2**64) for k in key)
    zero = np.zeros(len(rows), dtype=U64)
    v = [zero + (k ^ U64(init)) for k, init in zip((k0, k1, k0, k1), SIP_INIT)]

    def absorb(m):
        v[3] = v[3] ^ m
        v[:] = _sip_rounds(v, 2)
        v[0] = v[0] ^ m
    full = length // 8 * 8
    for at in range(0, full, 8):
        absorb(_word(rows, at))
    tail = np.zeros((len(rows), 8), dtype=np.uint8)
    tail[:, :length - full] = rows[:, full:]
    tail[:, 7] = length & 0xFF
    absorb(_word(tail, 0))
    v[2] = v[2] ^ U64(0xFF)
    v0, v1, v2, v3 = _sip_rounds(v, 4)
    return v0 ^ v1 ^ v2 ^ v3


# --- over many strings -------------------------------------------------------------------------------------
def _hash_all(strings, hash_rows):
    """hash_rows(rows, length) on each group of equal-length byte strings; one uint64 per string."""
    strings = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in strings]
    unique = sorted(set(strings))
    by_length = {}
    for s in unique:
        by_length.setdefault(len(s), []).append(s)
    hashes = {}
    for length, group in by_length.items():
        rows = np.frombuffer(b"".join(group), dtype=np.uint8).reshape(len(group), length)
        hashes.update(zip(group, hash_rows(rows, length)))
    return np.array([hashes[s] for s in strings], dtype=U64)


def fingerprint64(strings):
    """FarmHash Fingerprint64 of each string (str as UTF-8, or bytes), as uint64 (TensorFlow's Fingerprint64)."""
    return _hash_all(strings, _fingerprint_rows)


def siphash64(strings, key):
    """SipHash-2-4 of each string under the 128-bit key (k0, k1), two 64-bit words, as uint64."""
    return _hash_all(strings, lambda rows, length: _siphash_rows(rows, length, key))


def hash_buckets(strings, num_buckets, key=None):
    """Each string's bucket in [0, num_buckets), int64: tf.strings.to_hash_bucket_fast (FarmHash) without a key,
    to_hash_bucket_strong (SipHash) with one; `strings` is a flat sequence."""
    hashes = fingerprint64(strings) if key is None else siphash64(strings, key)
    return (hashes % U64(num_buckets)).astype(np.int64)


# --- crosses -----------------------------------------------------------------------------------------------
CROSS_HASH_KEY = 0xDECAFCAFFE       # tf.sparse.cross_hashed's default hash_key
CAT_MUL = 0xC6A4A7935BD1E995


def fingerprint_cat64(first, second):
    """TensorFlow's FingerprintCat64 of two uint64 fingerprints (arrays, elementwise): not commutative, so a
    chain of them fingerprints an ordered tuple of features."""
    mixed = (first ^ U64(CAT_MUL)) ^ _shift_mix(second * U64(CAT_MUL)) * U64(CAT_MUL)
    return _shift_mix(_shift_mix(mixed * U64(CAT_MUL)) * U64(CAT_MUL))
