"""The FiftyOne layer: embed a dataset's images, cluster them, and keep each clustering as a run.

Importing this package imports fiftyone; the core (``petturtle`` itself) never does.
"""

from .clustering import (
    ClusteringConfig,
    ClusteringResults,
    compute_clusters,
    delete_clusters,
    list_cluster_runs,
    load_clusters,
    rename_clusters,
)
from .embeddings import EmbeddingResults, compute_embeddings

__all__ = [
    "ClusteringConfig",
    "ClusteringResults",
    "EmbeddingResults",
    "compute_clusters",
    "compute_embeddings",
    "delete_clusters",
    "list_cluster_runs",
    "load_clusters",
    "rename_clusters",
]
