"""Small data sets shipped inside mlcore, each with its licence beside it in data/.

Loaders never download: `from mlcore.datasets import sonar; x, y = sonar.load_data()`.
"""

from mlcore.datasets import sonar

__all__ = ["sonar"]
