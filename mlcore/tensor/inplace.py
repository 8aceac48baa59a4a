"""theano.tensor.inplace: Theano's `*_inplace` elementwise functions (exp_inplace, add_inplace, ...),
which told Theano to overwrite their first argument.

mlcore's graphs are functional: a variable is never changed after it is computed, and whether a
kernel writes over a buffer no one reads any more is the backend's own decision (PyTensor's
inplace rewrites, XLA's buffer donation, the numpy backend's fused blocks with out=).  So each
name here is the function without the suffix (exp_inplace is T.exp), with its value and its
gradient; code written for Theano's in-place ops runs unchanged."""
import mlcore.tensor as _T

NAMES = ("lt gt le ge eq neq and_ or_ xor invert abs_ exp exp2 expm1 neg inv log log1p log2 log10 sgn ceil floor "
         "trunc round_half_to_even round_half_away_from_zero sqr sqrt deg2rad rad2deg cos arccos sin arcsin tan "
         "arctan arctan2 cosh arccosh sinh arcsinh tanh arctanh erf erfc erfcx gamma gammaln polygamma psi tri_gamma "
         "chi2sf j0 j1 jv i0 i1 iv second maximum minimum add sub mul true_div int_div mod pow conj").split()

for _name in NAMES:
    globals()[_name + "_inplace"] = getattr(_T, _name)

fill_inplace = second_inplace  # noqa: F821  (defined by the loop above)
transpose_inplace = _T.transpose
