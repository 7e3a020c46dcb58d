"""``PetTurtle``: the scikit-learn style estimator around the batched engine."""

import numpy as np
import torch

from .device import resolve_device
from .engine import Schedule, TaskEncoders, fit_grid
from .objectives import LABEL_MAPS
from .priors import ALPHA_GRID, GAMMA_GRID, fit_power_law_alpha, power_law_prior, power_law_priors
from .representation import Projection
from .selection import cross_validated_scores
from .validation import as_grid, as_spaces

# Bounds the size of the (batch, configurations, clusters) tensors of one pass; larger
# grids are trained in chunks with the same seed, so chunking does not change the result.
_MAX_PASS_ELEMENTS = 2**24
_PREDICT_CHUNK = 65536
# Sparsemax needs several temporaries the size of its input: chunks of 2^22 elements keep them small.
_LABEL_CHUNK_ELEMENTS = 2**22


def _select(configs, scores, n_empty):
    """Index of the winning (gamma, alpha): alpha first, by its mean score over the gammas,
    then the best gamma for that alpha. Averaging over gammas steadies the choice of alpha,
    the structural one, against the noise of single fits.

    Labelings that leave a cluster empty do not give the C clusters asked for, and fewer
    clusters are easier to predict: they compete only when every labeling has an empty one.
    """
    eligible = [i for i in range(len(configs)) if n_empty[i] == 0] or list(range(len(configs)))
    by_alpha = {}
    for i in eligible:
        by_alpha.setdefault(configs[i][1], []).append(i)
    best_alpha = max(by_alpha, key=lambda a: np.mean([scores[i] for i in by_alpha[a]]))
    return max(by_alpha[best_alpha], key=lambda i: scores[i])


def _label_dtype(n_clusters):
    return torch.int16 if n_clusters <= torch.iinfo(torch.int16).max else torch.int32


def _is_overwritable(x):
    if torch.is_tensor(x):
        return x.dtype == torch.float32 and x.device.type == "cpu" and x.is_contiguous()
    return isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable


class PetTurtle:
    """Deep unsupervised SVM clustering with a power-law prior (PET-TURTLE) or TURTLE.

    Parameters
    ----------
    n_clusters : int
        Number of clusters C.
    method : {"pet-turtle", "turtle"}
        PET-TURTLE: sparsemax labels and ``gamma * KL(tau_bar || Pi(alpha))``.
        TURTLE: softmax labels and ``-gamma * H(tau_bar)``.
    gamma, alpha : "auto", float or list of floats
        Regularization weight and power-law exponent. "auto" searches the paper's grids;
        every (gamma, alpha) pair is trained in one batched run and scored by how well a
        linear classifier predicts its labeling under cross-validation (Cohen's kappa). The
        alpha with the best mean score over the gammas wins, then its best gamma.
        ``alpha`` is ignored by TURTLE.
    prior_order : {"sorted", "fixed"}
        "sorted" compares the mean label distribution sorted largest first with the prior
        (permutation invariant); "fixed" ties cluster c to prior rank c.
    n_iter, inner_steps, batch_size, outer_lr, inner_lr, warm_start :
        Schedule: outer steps T, inner head steps M per outer step, samples per step,
        Adam learning rates, and whether the head carries over between outer steps.
        M = 5 by default: with the warm start it measured as good as or better than 10
        (README, "How the engine works").
    n_components : int
        Dimension of the principal subspace each space is reduced to before fitting.
    cv_folds, selection_max_samples :
        Folds of the label-free selection, and a cap on the samples it uses.
    copy : bool
        False lets ``fit`` write its reduced features over X to save memory, as scikit-learn's
        ``PCA(copy=False)`` does: a writable float32 C-contiguous array (or CPU tensor) is then
        garbage afterwards. Other inputs are never modified.
    random_state : int or None
    device : "auto", "cpu", "cuda", ...
    """

    def __init__(
        self,
        n_clusters,
        *,
        method="pet-turtle",
        gamma="auto",
        alpha="auto",
        prior_order="sorted",
        n_iter=300,
        inner_steps=5,
        batch_size=4096,
        outer_lr=1e-2,
        inner_lr=1e-2,
        warm_start=True,
        n_components=256,
        row_norm=3.0,
        cv_folds=10,
        selection_max_samples=20000,
        copy=True,
        random_state=None,
        device="auto",
    ):
        self.n_clusters = n_clusters
        self.method = method
        self.gamma = gamma
        self.alpha = alpha
        self.prior_order = prior_order
        self.n_iter = n_iter
        self.inner_steps = inner_steps
        self.batch_size = batch_size
        self.outer_lr = outer_lr
        self.inner_lr = inner_lr
        self.warm_start = warm_start
        self.n_components = n_components
        self.row_norm = row_norm
        self.cv_folds = cv_folds
        self.selection_max_samples = selection_max_samples
        self.copy = copy
        self.random_state = random_state
        self.device = device

    def get_params(self):
        """The constructor's parameters, as scikit-learn's ``get_params`` gives them."""
        names = self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_argcount + self.__init__.__code__.co_kwonlyargcount]
        return {name: getattr(self, name) for name in names}

    def _check_params(self):
        if self.method not in LABEL_MAPS:
            raise ValueError(f"method must be one of {sorted(LABEL_MAPS)}, got {self.method!r}")
        if self.prior_order not in ("sorted", "fixed"):
            raise ValueError(f"prior_order must be 'sorted' or 'fixed', got {self.prior_order!r}")
        for name in ("n_iter", "inner_steps", "batch_size", "n_components", "cv_folds"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("outer_lr", "inner_lr"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        gammas = as_grid(self.gamma, "gamma", GAMMA_GRID, lowest=0.0)
        alphas = as_grid(self.alpha, "alpha", ALPHA_GRID, lowest=0.0)
        if self.method == "turtle":
            return [(g, 0.0) for g in gammas]
        return [(g, a) for g in gammas for a in alphas]

    def fit(self, X, y=None, progress=None):
        """Fits on X, one (N, d) array or a list of (N, d_s) arrays; ``y`` is ignored.

        ``progress(stage, done, total)``, if given, is called as training and selection advance.
        """
        configs = self._check_params()
        overwrite = not self.copy and all(_is_overwritable(x) for x in (X if isinstance(X, (list, tuple)) else [X]))
        spaces = as_spaces(X, self.n_clusters)
        device = resolve_device(self.device)
        seed = self.random_state if self.random_state is not None else int(np.random.SeedSequence().entropy % 2**63)
        self.projections_ = [Projection.fit(x, self.n_components, device, self.row_norm) for x in spaces]
        reduced = [p.transform(x, overwrite) for p, x in zip(self.projections_, spaces)]
        del spaces
        n_clusters = self.n_clusters
        schedule = Schedule(
            self.n_iter, self.inner_steps, self.batch_size, self.outer_lr, self.inner_lr, self.warm_start
        )

        batch = min(self.batch_size, reduced[0].shape[0])
        chunk = max(1, _MAX_PASS_ELEMENTS // (batch * n_clusters))
        encoders, histories = [], []
        # Every configuration's labeling, in the narrowest integer type that holds the cluster
        # indices: at a million samples the 88 labelings would take 700 MB as int64.
        labels = torch.empty(len(configs), reduced[0].shape[0], dtype=_label_dtype(n_clusters), device=device)
        for start in range(0, len(configs), chunk):
            part = configs[start : start + chunk]
            gammas = torch.tensor([g for g, _ in part], device=device)
            priors = None if self.method == "turtle" else power_law_priors(n_clusters, [a for _, a in part], device)

            def report(done, total, offset=start):
                if progress is not None:
                    progress("train", offset * total + done * len(part), len(configs) * total)

            generator = torch.Generator().manual_seed(seed)
            enc, history = fit_grid(
                reduced, n_clusters, self.method, gammas, priors,
                self.prior_order == "sorted", schedule, generator, report,
            )
            encoders.append(enc)
            histories.append(history)
            self._labels(enc, reduced, reduce=lambda p: p.argmax(-1).to(labels.dtype), out=labels[start : start + chunk].T)

        sizes_per_config = [torch.bincount(l.long(), minlength=n_clusters).cpu().numpy() for l in labels]
        if len(configs) > 1:
            if progress is not None:
                progress("select", 0, 1)
            scores = cross_validated_scores(
                reduced[0] if len(reduced) == 1 else torch.cat(reduced, 1),
                labels, n_clusters, self.cv_folds,
                torch.Generator().manual_seed(seed + 1), self.selection_max_samples,
            ).numpy()
            best = _select(configs, scores, [int((sizes == 0).sum()) for sizes in sizes_per_config])
            if progress is not None:
                progress("select", 1, 1)
        else:
            scores = np.full(1, np.nan)
            best = 0
        chunk_index, within = divmod(best, chunk)
        self.encoders_ = encoders[chunk_index].select(within)
        self.gamma_, self.alpha_ = configs[best]
        self.prior_ = power_law_prior(n_clusters, self.alpha_)
        self.history_ = histories[chunk_index][:, within].numpy()
        self.selection_ = [
            {
                "gamma": g,
                "alpha": a,
                "score": float(s),
                "n_empty_clusters": int((sizes == 0).sum()),
                "cluster_sizes": sorted(sizes.tolist(), reverse=True),
            }
            for (g, a), s, sizes in zip(configs, scores, sizes_per_config)
        ]
        probabilities = self._labels(self.encoders_, reduced)[:, 0]
        self.probabilities_ = probabilities.cpu().numpy()
        self.labels_ = probabilities.argmax(-1).cpu().numpy().astype(np.int64)
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=n_clusters)
        self.fitted_alpha_ = fit_power_law_alpha(self.cluster_sizes_)
        self.n_features_in_ = [p.mean.shape[0] for p in self.projections_]
        return self

    def fit_predict(self, X, y=None, progress=None):
        return self.fit(X, progress=progress).labels_

    def predict_proba(self, X):
        """Label distribution of the fitted task encoder for new samples: (n, C)."""
        self._check_fitted()
        spaces = as_spaces(X)
        if len(spaces) != len(self.projections_) or any(
            s.shape[1] != d for s, d in zip(spaces, self.n_features_in_)
        ):
            raise ValueError(
                f"X must have the spaces and feature counts seen in fit ({self.n_features_in_}), "
                f"got {[s.shape[1] for s in spaces]}"
            )
        out = []
        for start in range(0, spaces[0].shape[0], _PREDICT_CHUNK):
            reduced = [p.transform(s[start : start + _PREDICT_CHUNK]) for p, s in zip(self.projections_, spaces)]
            out.append(self._labels(self.encoders_, reduced)[:, 0].cpu())
        return torch.cat(out).numpy()

    def predict(self, X):
        return self.predict_proba(X).argmax(1).astype(np.int64)

    def _labels(self, encoders, reduced, reduce=None, out=None):
        """Label distributions (N, G, C), or ``reduce`` of them, by chunks whose (rows, G, C) stay
        small; written into ``out`` when given (then nothing is returned)."""
        n_configs, n_clusters = encoders.gains[0].shape
        rows = max(1, _LABEL_CHUNK_ELEMENTS // (n_configs * n_clusters))
        with torch.no_grad():
            parts = []
            for i in range(0, reduced[0].shape[0], rows):
                labels = encoders.label_distribution([z[i : i + rows] for z in reduced], self.method)
                part = labels if reduce is None else reduce(labels)
                if out is None:
                    parts.append(part)
                else:
                    out[i : i + rows] = part
        return None if out is not None else torch.cat(parts)

    def _check_fitted(self):
        if not hasattr(self, "encoders_"):
            raise ValueError("this PetTurtle is not fitted yet: call fit(X) first")
