"""theano.scan_checkpoints: scan in chunks of save_every_N steps, so that a gradient keeps only the
state at the end of each chunk and recomputes the steps inside it.

An outer scan walks the chunks; its step runs an inner scan over one chunk's rows.  The gradient
of the outer scan stores the outer step's inputs (one state per chunk), and recomputes the inner
scan's steps when it differentiates it.  The sequences are zero-padded to whole chunks (padding=True);
the padded steps of the last chunk are computed and their results dropped, so each chunk runs the
same number of steps (a fixed trip count, which jax needs), and the outputs are those after the
last real step of each chunk, as Theano's.
"""
import mlcore.tensor as T
from mlcore.graph.scan import scan


def scan_checkpoints(fn, sequences=[], outputs_info=None, non_sequences=[], name="checkpointscan_fn",  # noqa: B006
                     n_steps=None, save_every_N=10, padding=True):  # noqa: N803  (Theano's name)
    """(outputs, updates) as theano.scan_checkpoints: each output holds its value at the end of each
    chunk of save_every_N steps (the last entry is the value after the last step).  Outputs are fed
    back one step (no taps); every sequence has n_steps rows.  padding=False asks that n_steps be
    a multiple of save_every_N instead of padding (checked when the sizes are known)."""
    sequences, non_sequences = _listed(sequences), _listed(non_sequences)
    outputs_info = _listed(outputs_info)
    if any(isinstance(o, dict) and "taps" in o for o in outputs_info):
        raise RuntimeError("scan_checkpoints doesn't work with taps.")
    if n_steps is None:
        n_steps = sequences[0].shape[0]
    sequences = [s[:n_steps] for s in sequences]
    chunk = int(save_every_N)
    n_chunks = (n_steps + chunk - 1) // chunk
    last_count = n_steps - (n_chunks - 1) * chunk
    if not padding and isinstance(n_steps, int) and n_steps % chunk:
        raise ValueError("scan_checkpoints(padding=False): n_steps %d is not a multiple of save_every_N %d"
                         % (n_steps, chunk))
    chunked = [_chunks(s, n_chunks, chunk, padding) for s in sequences]
    counts = T.set_subtensor((T.zeros((n_chunks,), dtype="int64") + chunk)[-1], last_count)   # steps per chunk
    n_seq, n_state = len(chunked), sum(o is not None for o in outputs_info)

    def outer_step(*args):
        rows, count = list(args[:n_seq]), args[n_seq]
        states, constants = list(args[n_seq + 1:n_seq + 1 + n_state]), list(args[n_seq + 1 + n_state:])
        inner_info = iter(states)
        results, updates = scan(fn, sequences=rows, outputs_info=[None if o is None else next(inner_info)
                                                                  for o in outputs_info],
                                non_sequences=constants, n_steps=chunk, name=name + "_inner", return_list=True)
        return [r[count - 1] for r in results], updates

    return scan(outer_step, sequences=chunked + [counts], outputs_info=outputs_info, non_sequences=non_sequences,
                n_steps=n_chunks, name=name + "_outer")


def _listed(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _chunks(sequence, n_chunks, chunk, padding):
    """sequence as (n_chunks, chunk, ...): zero-padded to whole chunks, or, with padding=False,
    reshaped as it is (an error when its length is not a multiple of chunk)."""
    rest = [sequence.shape[i] for i in range(1, sequence.ndim)]
    if padding:
        zeros = T.zeros([n_chunks * chunk - sequence.shape[0]] + rest, dtype=sequence.dtype)
        sequence = T.concatenate([sequence, zeros], axis=0)
    return sequence.reshape([n_chunks, chunk] + rest, ndim=sequence.ndim + 1)
