"""Batched bi-level training of TURTLE / PET-TURTLE over a grid of (gamma, prior) configurations.

All G configurations live side by side in the same tensors, stored as (r, G*C) matrices, so
every pass over a batch of samples is one matrix product shared by the whole grid. Adam is
elementwise, so one optimizer over the stacked tensors is exactly G independent optimizers.
"""

from dataclasses import dataclass

import torch

from .objectives import entropy, kl_to_prior, label_distribution, soft_cross_entropy

_INITIAL_LOGIT_STD = 0.1


@dataclass
class Schedule:
    n_iter: int
    inner_steps: int
    batch_size: int
    outer_lr: float
    inner_lr: float
    warm_start: bool


@dataclass
class TaskEncoders:
    """One linear task encoder per representation space, for each of G configurations.

    Weight-normalized (TURTLE found this crucial): each cluster's weight vector is a
    learned gain times a unit direction, so the sharpness of the labels grows at its own
    pace instead of with every step of the direction.
    """

    directions: list  # per space: (r_s, G, C)
    gains: list  # per space: (G, C)
    biases: list  # per space: (G, C)

    @classmethod
    def initial(cls, spaces, n_configs, n_clusters, generator):
        """Every configuration starts from the same encoder, so the grid compares regularizers only.

        Cluster c starts pointing at a k-means++ seed (as a nearest-seed partition would),
        rather than in a random direction whose labeling cuts through the data's groups.
        Gains make the initial logits spread by about ``_INITIAL_LOGIT_STD``: sparsemax of
        larger logits is already one-hot for most samples, and a one-hot sparsemax passes
        no gradient, which would freeze the initial labeling.
        """
        seeds = _kmeans_plus_plus(spaces, n_clusters, generator)
        directions, gains, biases = [], [], []
        for z in spaces:
            centers = z[seeds].T  # (r, C)
            norms = centers.norm(dim=0).clamp_min(1e-12)
            # Nearest-seed partition: argmax_c <seed_c, z> - |seed_c|^2 / 2, divided by |seed_c|.
            unit_logits = z @ (centers / norms) - norms / 2
            gain = _INITIAL_LOGIT_STD / float(unit_logits.std().clamp_min(1e-12))
            # Direction norms set the pace at which Adam turns them: about 0.58, like nn.Linear's init.
            direction = centers / norms * (z.shape[1] / 3) ** 0.5 * z.shape[1] ** -0.5
            directions.append(direction[:, None, :].expand(-1, n_configs, -1).contiguous())
            gains.append(torch.full((n_configs, n_clusters), gain, device=z.device))
            biases.append((-gain * norms / 2).expand(n_configs, -1).contiguous())
        return cls(directions, gains, biases)

    def parameters(self):
        return self.directions + self.gains + self.biases

    def weights(self):
        return [v * (g / v.norm(dim=0).clamp_min(1e-12)) for v, g in zip(self.directions, self.gains)]

    def label_distribution(self, spaces, method):
        """Soft labels averaged over spaces: (n, G, C)."""
        per_space = [
            label_distribution(_linear(z, w, b), method)
            for z, w, b in zip(spaces, self.weights(), self.biases)
        ]
        return torch.stack(per_space).mean(0)

    def select(self, config):
        """The encoders of one configuration, kept with a grid axis of length 1."""
        return TaskEncoders(
            [v[:, config : config + 1].detach().clone() for v in self.directions],
            [g[config : config + 1].detach().clone() for g in self.gains],
            [b[config : config + 1].detach().clone() for b in self.biases],
        )


def _kmeans_plus_plus(spaces, n_clusters, generator, max_samples=20000):
    """Indices of k-means++ seeds (each drawn with probability ∝ squared distance) over the
    concatenated spaces, on a sample: only the sample is concatenated, never the whole data."""
    n = spaces[0].shape[0]
    device = spaces[0].device
    pool = torch.randperm(n, generator=generator)[:max_samples].to(device)
    points = torch.cat([z[pool] for z in spaces], dim=1)
    chosen = [int(torch.randint(points.shape[0], (1,), generator=generator))]
    closest = (points - points[chosen[0]]).pow(2).sum(1)
    for _ in range(1, n_clusters):
        weights = closest.double().cpu()
        pick = int(torch.multinomial(weights, 1, generator=generator)) if weights.sum() > 0 else int(
            torch.randint(points.shape[0], (1,), generator=generator)
        )
        chosen.append(pick)
        closest = torch.minimum(closest, (points - points[pick]).pow(2).sum(1))
    return pool[torch.tensor(chosen, device=device)]


def _linear(z, weight, bias):
    r, g, c = weight.shape
    return (z @ weight.reshape(r, g * c)).view(-1, g, c) + bias


def _zeros_like_all(tensors):
    return [torch.zeros_like(t) for t in tensors]


def fit_grid(spaces, n_clusters, method, gammas, priors, sort_prior, schedule, generator, progress=None):
    """Trains all configurations at once.

    spaces: list of (N, r_s) float32 tensors on one device. gammas: (G,). priors: (G, C) for
    PET-TURTLE, None for TURTLE. Returns the task encoders and the loss history (T, G).
    """
    device = spaces[0].device
    n_samples = spaces[0].shape[0]
    n_configs = gammas.shape[0]
    shape = (n_configs, n_clusters)

    encoders = TaskEncoders.initial(spaces, n_configs, n_clusters, generator)
    for p in encoders.parameters():
        p.requires_grad_(True)
    head_weights = [torch.zeros(z.shape[1], *shape, device=device, requires_grad=True) for z in spaces]
    head_biases = [torch.zeros(shape, device=device, requires_grad=True) for _ in spaces]
    head_params = head_weights + head_biases
    outer_opt = torch.optim.Adam(encoders.parameters(), lr=schedule.outer_lr)
    inner_opt = torch.optim.Adam(head_params, lr=schedule.inner_lr)

    history = torch.empty(schedule.n_iter, n_configs)
    full_batch = schedule.batch_size >= n_samples
    for step in range(schedule.n_iter):
        if full_batch:
            batch = spaces
        else:
            index = torch.randint(n_samples, (schedule.batch_size,), generator=generator).to(device)
            batch = [z[index] for z in spaces]

        labels = encoders.label_distribution(batch, method)
        targets = labels.detach()
        if not schedule.warm_start:
            with torch.no_grad():
                for p in head_params:
                    p.zero_()
            inner_opt.state.clear()
        _train_heads(batch, head_weights, head_biases, targets, inner_opt, schedule.inner_steps)

        with torch.no_grad():
            head_log_probs = [
                _linear(z, w, b) for z, w, b in zip(batch, head_weights, head_biases)
            ]
        fit_term = sum(soft_cross_entropy(h, labels) for h in head_log_probs)
        tau_bar = labels.mean(0)
        if priors is None:
            regularizer = -gammas * entropy(tau_bar)
        else:
            regularizer = gammas * kl_to_prior(tau_bar, priors, sort=sort_prior)
        loss = fit_term + regularizer
        outer_opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        outer_opt.step()
        history[step] = loss.detach().cpu()
        if progress is not None:
            progress(step + 1, schedule.n_iter)
    for p in encoders.parameters():
        p.requires_grad_(False)
    return encoders, history


def _train_heads(batch, weights, biases, targets, optimizer, steps):
    """M steps of the inner problem, with the cross-entropy gradient written out by hand."""
    n = targets.shape[0]
    for _ in range(steps):
        with torch.no_grad():
            for z, w, b in zip(batch, weights, biases):
                residual = (torch.softmax(_linear(z, w, b), dim=-1) - targets) / n
                r, g, c = w.shape
                w.grad = (z.T @ residual.view(n, g * c)).view(r, g, c)
                b.grad = residual.sum(0)
        optimizer.step()
