"""Preparing one representation space for fitting: L2 rows, centre, principal subspace.

Gradient descent on a linear head started from zero only moves inside the span of the data
and moves slowest along its weakest principal directions, so dropping those directions
changes little of what the heads learn while every pass over the data gets much cheaper.
"""

from dataclasses import dataclass

import torch

_CHUNK_ROWS = 8192


def _l2_rows(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


@dataclass
class Projection:
    """Maps raw embeddings (n, d) of one space to the reduced, unit-scale features (n, r)."""

    mean: torch.Tensor  # (d,)
    components: torch.Tensor  # (d, r), columns = principal directions
    scale: float  # gives output rows a root-mean-square norm of ``row_norm``

    @classmethod
    def fit(cls, x, n_components, device, row_norm=1.0):
        """Fits on ``x`` (float, (n, d), any device); statistics accumulate in float64 by chunks."""
        n, d = x.shape
        total = torch.zeros(d, dtype=torch.float64, device=device)
        gram = torch.zeros(d, d, dtype=torch.float64, device=device)
        for start in range(0, n, _CHUNK_ROWS):
            chunk = _l2_rows(x[start : start + _CHUNK_ROWS].to(device, torch.float32)).double()
            total += chunk.sum(0)
            gram += chunk.T @ chunk
        mean = total / n
        covariance = gram / n - torch.outer(mean, mean)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        keep = min(n_components, d)
        order = torch.argsort(eigenvalues, descending=True)[:keep]
        variance_kept = eigenvalues[order].clamp_min(0).sum()
        scale = float(row_norm * variance_kept.clamp_min(1e-12).rsqrt())
        return cls(mean.float(), eigenvectors[:, order].float().contiguous(), scale)

    def transform(self, x, overwrite=False):
        """Projects ``x`` (n, d) by chunks into a float32 tensor (n, r) on the fit's device.

        With ``overwrite`` and ``x`` a contiguous float32 tensor on that device, the output is
        written over ``x``'s own memory: output rows [s, s+k) fill the first (s+k)·r floats,
        which only hold input rows already read (r <= d), so the data is never held twice.
        """
        device = self.mean.device
        n, r = x.shape[0], self.components.shape[1]
        in_place = (
            overwrite and x.device == device and x.dtype == torch.float32 and x.is_contiguous() and r <= x.shape[1]
        )
        out = x.view(-1)[: n * r].view(n, r) if in_place else torch.empty(n, r, device=device)
        for start in range(0, n, _CHUNK_ROWS):
            # _l2_rows returns a new tensor: the chunk is copied out before ``out`` is written.
            chunk = _l2_rows(x[start : start + _CHUNK_ROWS].to(device, torch.float32))
            out[start : start + chunk.shape[0]] = ((chunk - self.mean) @ self.components) * self.scale
        return out

    def state_dict(self):
        return {"mean": self.mean.cpu(), "components": self.components.cpu(), "scale": self.scale}
