"""``compute_embeddings``: encode a collection's images into a vector field.

Decoding and preprocessing run in DataLoader workers so the forward pass dominates; vectors are
written in batched ``set_values`` calls. Unreadable images are skipped, tagged and reported.
"""

import dataclasses
import logging
import os

import fiftyone as fo
import numpy as np
import torch
from PIL import Image

from ..device import resolve_device
from .encoders import default_pretrained, load_encoder
from .progress import StageProgress
from .samples import check_image_collection, check_not_empty, write_by_id

logger = logging.getLogger(__name__)

UNREADABLE_TAG = "petturtle_unreadable"
# Vectors buffered between database writes.
_WRITE_EVERY = 1024


@dataclasses.dataclass
class EmbeddingResults:
    """What ``compute_embeddings`` did."""

    embeddings_field: str
    model: str
    pretrained: str | None
    n_embedded: int
    n_already_embedded: int
    unreadable_ids: list
    dim: int | None

    @property
    def n_unreadable(self):
        return len(self.unreadable_ids)


class _ImageFiles(torch.utils.data.Dataset):
    def __init__(self, filepaths, preprocess):
        self.filepaths = filepaths
        self.preprocess = preprocess

    def __len__(self):
        return len(self.filepaths)

    def __getitem__(self, index):
        try:
            with Image.open(self.filepaths[index]) as image:
                return index, self.preprocess(image.convert("RGB"))
        except Exception:  # any decode failure only skips this image
            return index, None


def _collate(items):
    good = [(i, x) for i, x in items if x is not None]
    bad = [i for i, x in items if x is None]
    images = torch.stack([x for _, x in good]) if good else None
    return [i for i, _ in good], images, bad


def default_num_workers():
    return min(8, max(1, (os.cpu_count() or 2) - 1))


def compute_embeddings(
    samples,
    model="ViT-B-32",
    pretrained="default",
    embeddings_field="clip_embeddings",
    batch_size=64,
    num_workers=None,
    device="auto",
    overwrite=False,
    progress=None,
):
    """Embeds the images of ``samples`` into the float32 vector field ``embeddings_field``.

    Parameters
    ----------
    samples : fiftyone Dataset or DatasetView of images
    model : str
        An open_clip architecture (``open_clip.list_models()``, e.g. "ViT-B-32", the paper's
        "RN50x64"), or "efficientnet-lite0": ImageNet features whose weights ship in a pip
        package, so it works without internet access.
    pretrained : str or None
        An open_clip pretrained tag (e.g. "laion2b_s34b_b79k", "openai"), a local checkpoint
        file, None for random weights, or "default": LAION-2B where the architecture has those
        weights, else its first listed tag ("openai" for the paper's RN50x64). Ignored by
        "efficientnet-lite0".
    num_workers : int or None
        DataLoader workers decoding images; None picks one per spare CPU core (at most 8).
    overwrite : bool
        Re-embed samples that already have a vector; by default they are skipped.
    progress : callable or None
        ``progress("embed", done, total)`` after each batch (a terminal bar is shown too).

    Returns an ``EmbeddingResults``. Unreadable images are skipped, tagged
    ``petturtle_unreadable`` and listed in ``unreadable_ids``.
    """
    check_not_empty(samples)  # first: an empty dataset has no media type yet
    check_image_collection(samples)
    if model == "efficientnet-lite0":
        pretrained = None
    elif pretrained == "default":
        pretrained = default_pretrained(model)
    dataset = samples._root_dataset
    existing = dataset.get_field(embeddings_field)
    if existing is not None and not isinstance(existing, fo.VectorField):
        raise ValueError(
            f"field {embeddings_field!r} exists and is a {type(existing).__name__}, not a vector "
            "field: choose another embeddings_field"
        )
    todo = samples if overwrite or existing is None else samples.exists(embeddings_field, False)
    n_already = len(samples) - len(todo) if existing is not None and not overwrite else 0
    # Vectors this call leaves in place fix the length new ones must have.
    kept_length = None if overwrite or existing is None else _first_vector_length(dataset, embeddings_field)
    ids, filepaths = todo.values(["id", "filepath"])
    result = EmbeddingResults(embeddings_field, model, pretrained, 0, n_already, [], None)
    if not ids:
        return result

    device = resolve_device(device)
    encoder, preprocess = load_encoder(model, pretrained, device)
    workers = default_num_workers() if num_workers is None else num_workers
    loader = torch.utils.data.DataLoader(
        _ImageFiles(filepaths, preprocess),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    if existing is None:
        dataset.add_sample_field(embeddings_field, fo.VectorField)

    pending_ids, pending_vectors = [], []

    def flush():
        write_by_id(dataset, embeddings_field, pending_ids, pending_vectors)
        pending_ids.clear()
        pending_vectors.clear()

    done = 0
    with StageProgress(progress) as report, torch.inference_mode():
        report("embed", 0, len(ids))
        for indices, images, bad in loader:
            if images is not None:
                vectors = encoder(images.to(device, non_blocking=True)).float().cpu().numpy()
                if kept_length is not None and vectors.shape[1] != kept_length:
                    raise ValueError(
                        f"{model!r} gives {vectors.shape[1]}-d vectors, but field {embeddings_field!r} "
                        f"already holds {kept_length}-d ones from another model: choose another "
                        "embeddings_field, or re-embed every sample with overwrite=True"
                    )
                result.dim = vectors.shape[1]
                pending_ids.extend(ids[i] for i in indices)
                pending_vectors.extend(np.ascontiguousarray(vectors))
                result.n_embedded += len(indices)
            result.unreadable_ids.extend(ids[i] for i in bad)
            if len(pending_ids) >= _WRITE_EVERY:
                flush()
            done += len(indices) + len(bad)
            report("embed", done, len(ids))
    flush()
    if result.unreadable_ids:
        dataset.select(result.unreadable_ids).tag_samples(UNREADABLE_TAG)
        logger.warning(
            "%d images could not be read and were skipped (tagged %r), first: %s",
            len(result.unreadable_ids), UNREADABLE_TAG, result.unreadable_ids[:5],
        )
    return result


def _first_vector_length(dataset, field):
    first = dataset.exists(field).limit(1).values(field)
    return len(first[0]) if first else None
