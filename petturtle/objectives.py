"""The terms of the TURTLE and PET-TURTLE objectives, batched over a leading grid axis.

Shapes: per-sample label distributions are (B, G, C) (batch, grid configuration, cluster);
mean label distributions ``tau_bar`` are (G, C).
"""

import torch
from entmax import sparsemax

# Keeps log() finite when sparsemax gives a cluster zero mass in a batch; the mass itself
# stays exactly zero, so the KL value is the true one.
_LOG_FLOOR = 1e-12

LABEL_MAPS = {"pet-turtle": "sparsemax", "turtle": "softmax"}


def label_distribution(logits, method):
    """Soft labels of the task encoder: sparsemax (PET-TURTLE) or softmax (TURTLE) over clusters."""
    if LABEL_MAPS[method] == "sparsemax":
        return sparsemax(logits, dim=-1)
    return torch.softmax(logits, dim=-1)


def soft_cross_entropy(head_logits, targets):
    """Mean over the batch of ``-sum_c p_c log softmax(head)_c``: returns (G,)."""
    return -(targets * torch.log_softmax(head_logits, dim=-1)).sum(-1).mean(0)


def kl_to_prior(tau_bar, prior, sort=True):
    """``KL(tau_bar || prior)`` per configuration, the direction of the paper's eq. (9).

    With ``sort`` the mean distribution is sorted largest first before it meets the
    (descending) power-law prior, which makes the term invariant to cluster permutations;
    without it cluster ``c`` is tied to prior rank ``c``.
    """
    if sort:
        tau_bar = torch.sort(tau_bar, dim=-1, descending=True).values
    log_ratio = torch.log(tau_bar.clamp_min(_LOG_FLOOR)) - torch.log(prior)
    return (tau_bar * log_ratio).sum(-1)


def entropy(tau_bar):
    """Shannon entropy per configuration (TURTLE's balance regularizer), zero-safe."""
    return -(tau_bar * torch.log(tau_bar.clamp_min(_LOG_FLOOR))).sum(-1)
