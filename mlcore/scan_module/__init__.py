"""theano.scan_module: scan and its loops, and until, which fn returns last to stop a loop early."""
from mlcore.graph.scan import foldl, foldr, map, reduce, scan, until  # noqa: F401,A004
from mlcore.scan_module import scan_utils  # noqa: F401
