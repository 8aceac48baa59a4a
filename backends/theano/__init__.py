"""The theano backend: mlcore graphs lowered to PyTensor (Theano's maintained continuation).

PyTensor compiles each function with its C linker and links its Gemm to BLAS
(scipy-openblas32, see blas.py); on a GPU it uses PyTensor's JAX linker.  The
compiled C modules are cached on disk, so only the first run of a graph pays for
the C compiler: in $MLCORE_HOME/pytensor (default ~/.mlcore/pytensor), unless
PYTENSOR_FLAGS (base_compiledir=..., compiledir=...) or .pytensorrc chose a folder.
"""
from backends.theano.compiler import TheanoBackend

BACKEND = TheanoBackend()
