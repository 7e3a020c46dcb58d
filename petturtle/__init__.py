"""PET-TURTLE: unsupervised discovery of (imbalanced) classes on foundation-model embeddings.

The core (estimator, baselines, metrics) needs only torch, numpy and scipy. The FiftyOne
functions are imported on first use, so ``import petturtle`` stays light.
"""

from .baselines import KMeans, LinearProbe
from .estimator import PetTurtle
from .metrics import (
    adjusted_rand_index,
    cluster_to_class_mapping,
    confusion_matrix,
    evaluate_clustering,
    hungarian_accuracy,
    mean_per_class_accuracy,
    normalized_mutual_info,
)
from .priors import fit_power_law_alpha, power_law_prior

__version__ = "0.1.0"

_FIFTYONE_NAMES = {
    "compute_embeddings": "petturtle.fo.embeddings",
    "compute_clusters": "petturtle.fo.clustering",
    "load_clusters": "petturtle.fo.clustering",
    "list_cluster_runs": "petturtle.fo.clustering",
    "rename_clusters": "petturtle.fo.clustering",
    "delete_clusters": "petturtle.fo.clustering",
    "ClusteringConfig": "petturtle.fo.clustering",
    "ClusteringResults": "petturtle.fo.clustering",
}


def __getattr__(name):
    if name in _FIFTYONE_NAMES:
        import importlib

        return getattr(importlib.import_module(_FIFTYONE_NAMES[name]), name)
    raise AttributeError(f"module 'petturtle' has no attribute {name!r}")


__all__ = [
    "PetTurtle",
    "KMeans",
    "LinearProbe",
    "adjusted_rand_index",
    "cluster_to_class_mapping",
    "confusion_matrix",
    "evaluate_clustering",
    "hungarian_accuracy",
    "mean_per_class_accuracy",
    "normalized_mutual_info",
    "fit_power_law_alpha",
    "power_law_prior",
    *_FIFTYONE_NAMES,
]
