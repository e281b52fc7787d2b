"""Frames between the engine and its probe workers: length-prefixed pickles on a socketpair.

Why pickle: what crosses is our own frozen dataclasses (Endpoint in, Outcome out) between
our own processes over a private socketpair nobody else can reach; pickle is the fastest
encoding of them Python has, and results stay the very objects the board already reads.
``MappingProxyType`` (the read-only ``detail``/``extra`` mappings of the model) cannot be
pickled by default, so it is registered here to travel as a dict and come back frozen.

Why batches: a worker sends every outcome finished in one turn of its loop as one frame,
so at hundreds of probes per second the engine reads a few frames, not hundreds.
"""

from __future__ import annotations

import copyreg
import pickle
from types import MappingProxyType
from typing import Any

from gatewatch.model import frozen_mapping

HEADER = 4
#: A frame larger than this is a bug (or a corrupted stream), not a message.
MAX_FRAME = 256 * 1024 * 1024


def _reduce_mapping(mapping: MappingProxyType[str, Any]) -> tuple[Any, ...]:
    return (frozen_mapping, (dict(mapping),))


copyreg.pickle(MappingProxyType, _reduce_mapping)


def frame(message: Any) -> bytes:
    """One message as a frame: 4-byte big-endian length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


def frame_length(header: bytes) -> int:
    length = int.from_bytes(header, "big")
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes: the stream is corrupt")
    return length


def load(data: bytes) -> Any:
    return pickle.loads(data)
