"""theano.scan_module: scan and its loops, until, which fn returns last to stop a loop early, and
scan_checkpoints, a scan whose gradient keeps one state per chunk of steps."""
from mlcore.graph.scan import foldl, foldr, map, reduce, scan, until  # noqa: F401,A004
from mlcore.scan_module import scan_utils  # noqa: F401
from mlcore.scan_module.scan_checkpoints import scan_checkpoints  # noqa: F401
