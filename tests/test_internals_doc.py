"""docs/INTERNALS.md promises real printed output: each Python block it shows, run as a script,
prints exactly the listing that follows it (the tour's listings are checked by test_graph_tour.py)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNIPPET_AND_OUTPUT = re.compile(r"```python\n(.*?)```\n\n```\n(.*?)```", re.S)


def test_each_code_block_prints_the_listing_shown_after_it():
    with open(os.path.join(ROOT, "docs", "INTERNALS.md")) as f:
        pairs = SNIPPET_AND_OUTPUT.findall(f.read())
    assert pairs, "no code block with its output in docs/INTERNALS.md"
    for code, shown in pairs:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                                cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
        assert result.returncode == 0, result.stderr
        assert result.stdout == shown
