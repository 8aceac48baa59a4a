"""theano.scan_module.scan_utils, where Theano code also imports until from."""
from mlcore.graph.scan import until  # noqa: F401
