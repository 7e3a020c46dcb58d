"""Checks on what users pass in, with errors that say what to do."""

import numbers

import numpy as np
import torch

_CHECK_ROWS = 16384


def as_spaces(X, n_clusters=None):
    """Turns X (one (N, d) array or a list of them) into float32 CPU tensors, checked.

    With ``n_clusters`` the sample count is also checked against it (fitting needs N >= C).
    """
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            raise ValueError("X is an empty list: pass one (N, d) array, or a list of them for several spaces")
        arrays = list(X)
    else:
        arrays = [X]
    spaces = []
    for i, array in enumerate(arrays):
        where = f"X[{i}]" if len(arrays) > 1 else "X"
        tensor = torch.as_tensor(np.asarray(array) if not torch.is_tensor(array) else array)
        if tensor.ndim != 2:
            raise ValueError(f"{where} must be 2-D (n_samples, n_features), got shape {tuple(tensor.shape)}")
        if tensor.shape[0] == 0 or tensor.shape[1] == 0:
            raise ValueError(f"{where} is empty (shape {tuple(tensor.shape)}): there is nothing to cluster")
        if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
            raise ValueError(f"{where} must hold numbers, got dtype {tensor.dtype}")
        tensor = tensor.detach().to("cpu", torch.float32)
        # Checked by chunks: a whole-matrix mask would cost a quarter of the data again.
        bad_rows = torch.cat([
            (~torch.isfinite(tensor[i : i + _CHECK_ROWS])).any(1) for i in range(0, tensor.shape[0], _CHECK_ROWS)
        ])
        if bad_rows.any():
            first = bad_rows.nonzero()[:5, 0].tolist()
            raise ValueError(
                f"{where} has {int(bad_rows.sum())} rows with NaN or inf values (first: {first}); "
                "drop or re-embed those samples"
            )
        spaces.append(tensor)
    n_rows = {s.shape[0] for s in spaces}
    if len(n_rows) > 1:
        shapes = [tuple(s.shape) for s in spaces]
        raise ValueError(f"every space in X must have the same number of samples, got shapes {shapes}")
    if n_clusters is not None:
        check_n_clusters(n_clusters, spaces[0].shape[0])
    return spaces


def check_n_clusters(n_clusters, n_samples):
    if not isinstance(n_clusters, numbers.Integral) or isinstance(n_clusters, bool):
        raise ValueError(f"n_clusters must be an integer, got {n_clusters!r}")
    if n_clusters < 2:
        raise ValueError(f"n_clusters must be at least 2, got {n_clusters}")
    if n_samples < n_clusters:
        raise ValueError(
            f"n_clusters={n_clusters} is larger than the number of samples ({n_samples}); "
            "use fewer clusters or more samples"
        )


def as_grid(value, name, default_grid, lowest):
    """'auto' -> the default grid; a number -> (value,); a list -> checked tuple."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name} must be 'auto', a number or a list of numbers, got {value!r}")
        return tuple(default_grid)
    values = (value,) if isinstance(value, numbers.Real) else tuple(value)
    if len(values) == 0:
        raise ValueError(f"{name} is an empty list: give at least one value or 'auto'")
    for v in values:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not np.isfinite(v) or v < lowest:
            raise ValueError(f"every {name} must be a finite number >= {lowest}, got {v!r}")
    return tuple(float(v) for v in values)
