"""The README's Python examples run as a newcomer copies them: each ```python block (indented ones
dedented) in a fresh process and an empty folder.  The few that need something a test machine lacks
(a dataset download, a folder of the user's files, graphviz's `dot`) are skipped, saying which."""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = [(README[:m.start()].count("\n") + 1, textwrap.dedent(m.group(1)))
          for m in re.finditer(r" *```python\n(.*?)```", README, re.S)]
NEEDS = {"reviews/train": "a folder of the user's review files", "data/train": "the user's image folders",
         "mnist.load_data()": "the MNIST download", "distribution.initialize(": "several hosts"}
EIGHT_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}     # the README's way to try a mesh


def _missing(code):
    for marker, what in NEEDS.items():
        if marker in code:
            return what
    if "plot_model(" in code and shutil.which("dot") is None:
        return "graphviz's dot program"
    return None


def test_the_readme_has_examples():
    assert len(BLOCKS) > 40


@pytest.mark.parametrize("line, code", BLOCKS, ids=["line%d" % line for line, _ in BLOCKS])
def test_readme_example_runs(line, code, tmp_path):
    missing = _missing(code)
    if missing:
        pytest.skip("needs %s" % missing)
    script = tmp_path / "example.py"
    script.write_text(code)
    env = dict(os.environ, **(EIGHT_DEVICES if "DeviceMesh(" in code else {}))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, "README line %d:\n%s" % (line, result.stderr[-3000:])
