"""Each public module imports on its own, in a fresh interpreter: a user's first import may be any of
them, and an import cycle shows only when its module comes first (the rest of the suite imports them
in one order, so it would not notice)."""
import subprocess
import sys

import pytest

MODULES = ["mlcore", "mlcore.tensor", "mlcore.ops", "mlcore.layers", "mlcore.models", "mlcore.utils",
           "mlcore.activations", "mlcore.losses", "mlcore.metrics", "mlcore.optimizers", "mlcore.callbacks",
           "mlcore.applications", "mlcore.preprocessing", "mlcore.wrappers", "mlcore.random", "mlcore.tree",
           "mlcore.backend", "mlcore.datasets", "mlcore.saving", "mlcore.initializers", "mlcore.dtype_policies",
           "mlcore.mixed_precision", "mlcore.compile", "mlcore.ifelse", "mlcore.updates", "backends"]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module):
    done = subprocess.run([sys.executable, "-c", "import " + module], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
