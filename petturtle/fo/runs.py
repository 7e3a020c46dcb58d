"""The clustering run, stored with FiftyOne's run machinery (``dataset.list_runs()`` shows it).

The config, run and results classes live in the pip package, so any process that can import
``petturtle`` can load a run saved by another.
"""

import fiftyone as fo
import fiftyone.core.runs as fors

from ..metrics import evaluate_clustering
from ..priors import power_law_prior

RUN_TYPE = "petturtle"


class ClusteringConfig(fors.RunConfig):
    """Parameters of one clustering run.

    Attributes: ``method`` ("pet-turtle", "turtle" or "kmeans"), ``n_clusters``,
    ``embeddings`` (list of vector fields), ``label_field``, ``gamma``, ``alpha``,
    ``random_state``, ``engine_params`` and ``gt_field``.
    """

    @property
    def type(self):
        return RUN_TYPE


class Clustering(fors.Run):
    """The run behind ``ClusteringConfig``: it owns ``label_field`` and deletes it on cleanup."""

    def get_fields(self, samples, key):
        return [self.config.label_field]

    def cleanup(self, samples, key):
        dataset = samples._root_dataset
        if dataset.has_sample_field(self.config.label_field):
            dataset.delete_sample_field(self.config.label_field)

    def rename(self, samples, key, new_key):
        """FiftyOne's ``rename_run`` calls this: a label field named after the run key (the
        default) follows the key, unless a field of the new name already exists."""
        dataset = samples._root_dataset
        if self.config.label_field == key and dataset.has_sample_field(key) and not dataset.has_sample_field(new_key):
            # Through the results, so a copy FiftyOne holds in its cache learns the new field too.
            results = dataset.load_run_results(key)
            dataset.rename_sample_field(key, new_key)
            results.config.label_field = new_key
            results.save_config()


class ClusteringResults(fors.RunResults):
    """What a clustering run found: cluster names and sizes (largest first), the prior, the
    selected hyperparameters, the selection table, the loss history and, once ground truth is
    known, the evaluation. ``summary()`` gives it all as one JSON-able dict.
    """

    def __init__(
        self,
        samples,
        config,
        key,
        backend=None,
        *,
        cluster_names,
        cluster_sizes,
        n_samples,
        n_skipped,
        gamma,
        alpha,
        fitted_alpha,
        prior,
        selection,
        history,
        evaluation=None,
    ):
        super().__init__(samples, config, key, backend=backend)
        self.cluster_names = list(cluster_names)
        self.cluster_sizes = [int(s) for s in cluster_sizes]
        self.n_samples = int(n_samples)
        self.n_skipped = int(n_skipped)
        self.gamma = None if gamma is None else float(gamma)
        self.alpha = None if alpha is None else float(alpha)
        self.fitted_alpha = float(fitted_alpha)
        self.prior = None if prior is None else [float(p) for p in prior]
        self.selection = list(selection)
        self.history = [float(h) for h in history]
        self.evaluation = evaluation

    @classmethod
    def _from_dict(cls, d, samples, config, key):
        return cls(samples, config, key, **d)

    @property
    def label_field(self):
        return self.config.label_field

    @property
    def method(self):
        return self.config.method

    @property
    def n_clusters(self):
        return len(self.cluster_names)

    @property
    def fitted_prior(self):
        """Pi(fitted_alpha) over clusters, largest first; ``n_samples`` times it is the expected sizes."""
        return power_law_prior(self.n_clusters, self.fitted_alpha).tolist()

    def evaluate(self, gt_field):
        """Scores the clusters against the ground truth ``gt_field`` and stores the scores with the run.

        ``gt_field`` is a Classification field or a field of class names. Samples without a
        cluster or without ground truth are left out. Returns the evaluation dict: Hungarian
        ``accuracy``, ``mean_per_class_accuracy``, ``nmi``, ``ari``, ``confusion_matrix``
        (rows ``classes``, columns ``clusters``), ``mapping`` (cluster -> class or None),
        ``gt_field`` and ``n_evaluated``.
        """
        ids, predicted = self.samples.values(["id", f"{self.label_field}.label"])
        clustered = [(i, p) for i, p in zip(ids, predicted) if p is not None]
        self.evaluation = evaluate_against(
            self.samples, gt_field, [i for i, _ in clustered], [p for _, p in clustered]
        )
        if self.key is not None:
            self.save()
        return self.evaluation

    def summary(self):
        """Everything a report or panel needs, as plain JSON values."""
        return {
            "run_key": self.key,
            "label_field": self.label_field,
            "method": self.method,
            "embeddings": list(self.config.embeddings),
            "n_samples": self.n_samples,
            "n_skipped": self.n_skipped,
            "n_clusters": self.n_clusters,
            "cluster_names": self.cluster_names,
            "cluster_sizes": self.cluster_sizes,
            "gamma": self.gamma,
            "alpha": self.alpha,
            "fitted_alpha": self.fitted_alpha,
            "prior": self.prior,
            "fitted_prior": self.fitted_prior,
            "selection": self.selection,
            "history": self.history,
            "evaluation": self.evaluation,
        }


def ground_truth_path(samples, gt_field):
    """The value path of ``gt_field``: ``<field>.label`` for Classification fields."""
    field = samples.get_field(gt_field)
    if field is None:
        raise ValueError(f"the collection has no ground-truth field {gt_field!r}")
    if isinstance(field, fo.EmbeddedDocumentField) and issubclass(field.document_type, fo.Classification):
        return f"{gt_field}.label"
    if isinstance(field, fo.EmbeddedDocumentField):
        raise ValueError(
            f"ground-truth field {gt_field!r} holds {field.document_type.__name__}; "
            "use a Classification field or a field of class names"
        )
    return gt_field


def evaluate_against(samples, gt_field, ids, predicted):
    """Evaluates the cluster names ``predicted`` of samples ``ids`` against ``gt_field``."""
    truth_by_id = dict(zip(*samples.values(["id", ground_truth_path(samples, gt_field)])))
    pairs = [(truth_by_id[i], p) for i, p in zip(ids, predicted) if truth_by_id.get(i) is not None]
    if not pairs:
        raise ValueError(
            f"no clustered sample has a value in ground-truth field {gt_field!r}: "
            "check the ground-truth field name"
        )
    evaluation = evaluate_clustering([str(t) for t, _ in pairs], [p for _, p in pairs])
    evaluation.update(gt_field=gt_field, n_evaluated=len(pairs))
    return evaluation
