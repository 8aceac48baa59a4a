"""The Fourier kernels of the backends that run on arrays, written once against the numpy API:
numpy.fft or jax.numpy.fft, which share it.  Complex values live only inside a kernel: its inputs
and results are the real and imaginary parts, in the graph's dtype."""
from mlcore.graph.ops import fourier


def register_fourier(lower, fft):
    """Register the kernels of mlcore.graph.ops.fourier in `lower`, for the fft module `fft`."""
    def parts(value, dtype):
        return value.real.astype(dtype), value.imag.astype(dtype)

    @lower.register(fourier.DFT)
    def _(op, node):
        transform, axes = (fft.ifftn if op.inverse else fft.fftn), tuple(range(-op.axes, 0))
        return lambda real, imag: parts(transform(real + 1j * imag, axes=axes), real.dtype)

    @lower.register(fourier.RFFT)
    def _(op, node):
        return lambda x: parts(fft.rfft(x, n=op.n, axis=-1), x.dtype)

    @lower.register(fourier.IRFFT)
    def _(op, node):
        def irfft(real, imag, like=None):
            return fft.irfft(real + 1j * imag, n=op.length(real.shape[-1], like), axis=-1).astype(real.dtype)
        return irfft
