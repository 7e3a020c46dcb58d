"""Choosing the torch device a fit runs on."""

import torch


def resolve_device(device="auto"):
    """Returns a ``torch.device``: ``"auto"`` picks CUDA, then MPS, then CPU."""
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but this torch build sees no CUDA GPU; "
            "use device='auto' or device='cpu'"
        )
    return resolved
