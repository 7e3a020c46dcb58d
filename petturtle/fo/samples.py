"""Reading and writing per-sample values in bounded batches, so a million samples stay cheap."""

import ast
import zlib

import fiftyone as fo
import numpy as np

# Samples per database round trip: large enough to amortize the query, small enough that the
# Python objects of one batch stay a few tens of MB.
BATCH_SIZE = 20000
# Reads carry whole vectors (about 2 KB each compressed for 512-d), so they come in smaller batches.
READ_BATCH_SIZE = 8192


def check_image_collection(samples):
    if samples.media_type != fo.core.media.IMAGE:
        raise ValueError(
            f"PET-TURTLE works on image datasets, but this collection's media type is "
            f"{samples.media_type!r}; pass an image dataset or view (for videos, cluster "
            "a frames view made with to_frames(sample_frames=True))"
        )


def check_not_empty(samples):
    if len(samples) == 0:
        raise ValueError("the dataset or view has no samples: add images or pass a non-empty view")


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
    decoder = _VectorDecoder(field)
    ids, rows = [], None
    if progress is not None:
        progress("read", 0, len(all_ids))
    for start in range(0, len(all_ids), READ_BATCH_SIZE):
        # Raw values: FiftyOne's own decoding of each vector costs ten times the query.
        chunk_ids, chunk_raw = samples.select(all_ids[start : start + READ_BATCH_SIZE]).values(["id", field], _raw=True)
        present = [(str(i), v) for i, v in zip(chunk_ids, chunk_raw) if v is not None]
        if present:
            if rows is None:
                dim = decoder.dim(present[0][1])
                # Preallocated once for the whole collection: the peak stays one matrix plus a batch.
                rows = np.empty((len(all_ids), dim), dtype=np.float32)
            for offset, (_, raw) in enumerate(present):
                rows[len(ids) + offset] = decoder.decode(raw)
            ids.extend(i for i, _ in present)
        if progress is not None:
            progress("read", min(start + READ_BATCH_SIZE, len(all_ids)), len(all_ids))
    if rows is None:
        return [], np.empty((0, 0), dtype=np.float32)
    return ids, rows[: len(ids)]


class _VectorDecoder:
    """Decodes stored vectors (FiftyOne's zlib-compressed .npy bytes, or plain lists) of one length.

    The .npy header of each distinct array type is parsed once, so decoding is a decompression and
    a buffer view per vector.
    """

    def __init__(self, field):
        self.field = field
        self.length = None
        self._headers = {}

    def dim(self, raw):
        return len(self.decode(raw))

    def decode(self, raw):
        if isinstance(raw, (bytes, bytearray)):
            data = zlib.decompress(raw)
            start = 12 if data[6] >= 2 else 10
            end = start + int.from_bytes(data[start - 4 if start == 12 else 8 : start], "little")
            header = data[:end]
            if header not in self._headers:
                self._headers[header] = ast.literal_eval(data[start:end].decode("latin1"))
            info = self._headers[header]
            vector = np.frombuffer(data, dtype=np.dtype(info["descr"]), offset=end).reshape(info["shape"])
        else:
            vector = np.asarray(raw)
        if vector.ndim != 1:
            raise ValueError(f"field {self.field!r} must hold 1-D vectors, found one of shape {vector.shape}")
        if self.length is None:
            self.length = len(vector)
        elif len(vector) != self.length:
            raise ValueError(
                f"the vectors in field {self.field!r} have different lengths ({self.length} and "
                f"{len(vector)}): they come from different models; re-embed every sample with one "
                "model (compute_embeddings(..., overwrite=True)) or cluster a view where they agree"
            )
        return vector
