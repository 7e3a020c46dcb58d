"""FiftyOne plugin ``@pet-turtle/pet-turtle``: PET-TURTLE clustering operators and the
cluster sizes panel.

FiftyOne imports this file from the plugin directory (a clone of this repository). The
``petturtle`` package is normally pip-installed; when it is not, the copy that sits beside
this file in the clone is used.
"""

import os
import sys

try:
    import petturtle  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import petturtle  # noqa: F401

from .plugin.operators import (
    ClusterSamples,
    ComputeEmbeddings,
    DeleteClusterRun,
    GetClusterRunInfo,
    RenameClusterRun,
)
from .plugin.panel import ClusterSizesPanel

PLUGIN_CLASSES = (
    ComputeEmbeddings,
    ClusterSamples,
    GetClusterRunInfo,
    RenameClusterRun,
    DeleteClusterRun,
    ClusterSizesPanel,
)


def register(p):
    for cls in PLUGIN_CLASSES:
        p.register(cls)
