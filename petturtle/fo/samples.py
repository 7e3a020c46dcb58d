"""Reading and writing per-sample values in bounded batches, so a million samples stay cheap."""

import fiftyone as fo
import numpy as np

# Samples per database round trip: large enough to amortize the query, small enough that the
# Python objects of one batch stay a few tens of MB.
BATCH_SIZE = 20000


def check_image_collection(samples):
    if samples.media_type != fo.core.media.IMAGE:
        raise ValueError(
            f"PET-TURTLE works on image datasets, but this collection's media type is "
            f"{samples.media_type!r}; pass an image dataset or view (for videos, cluster "
            "a frames view made with to_frames(sample_frames=True))"
        )


def check_not_empty(samples):
    if len(samples) == 0:
        raise ValueError("the dataset or view has no samples: there is nothing to cluster")


def write_by_id(dataset, field, ids, values):
    """Sets ``field`` of the samples ``ids`` to ``values`` in batched ``set_values`` calls."""
    for start in range(0, len(ids), BATCH_SIZE):
        stop = start + BATCH_SIZE
        dataset.set_values(field, dict(zip(ids[start:stop], values[start:stop])), key_field="id")


def read_vectors(samples, field, progress=None):
    """The vectors of ``field`` as one float32 matrix, read in batches.

    Returns ``(ids, matrix)`` for the samples that have a vector; samples without one are left
    out. Raises a ValueError when the vectors do not all have the same length.
    """
    all_ids = samples.values("id")
    ids, rows = [], None
    dims = {}
    for start in range(0, len(all_ids), BATCH_SIZE):
        chunk_ids, chunk_vectors = samples.select(all_ids[start : start + BATCH_SIZE]).values(["id", field])
        present = [(i, v) for i, v in zip(chunk_ids, chunk_vectors) if v is not None]
        for _, vector in present:
            dims[np.shape(vector)] = dims.get(np.shape(vector), 0) + 1
        if len(dims) > 1:
            raise ValueError(
                f"the vectors in field {field!r} have different shapes ({_describe(dims)} samples): "
                "they come from different models; re-embed every sample with one model "
                "(compute_embeddings(..., overwrite=True)) or cluster a view where they agree"
            )
        if present:
            if rows is None:
                (shape,) = dims
                if len(shape) != 1:
                    raise ValueError(f"field {field!r} must hold 1-D vectors, found shape {shape}")
                # Preallocated once for the whole collection: the peak stays one matrix plus a batch.
                rows = np.empty((len(all_ids), shape[0]), dtype=np.float32)
            rows[len(ids) : len(ids) + len(present)] = np.stack([v for _, v in present])
            ids.extend(i for i, _ in present)
        if progress is not None:
            progress("read", min(start + BATCH_SIZE, len(all_ids)), len(all_ids))
    if rows is None:
        return [], np.empty((0, 0), dtype=np.float32)
    return ids, rows[: len(ids)]


def _describe(shape_counts):
    return ", ".join(f"{count} of shape {shape}" for shape, count in shape_counts.items())
