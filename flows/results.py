"""How the cached stage results are stored: pickled, compressed with Zstandard.

Prefect stores a task result as base64 text inside a JSON record. The validation result is
about 40 MB of pickled frames, mostly the same few strings repeated (file, release, unit), so
its plain record costs more to write and read than the work it caches. Compressed at level 1
(pyarrow's Zstandard codec, already installed) it shrinks about tenfold, in milliseconds.
"""
from __future__ import annotations

import base64
import pickle
import struct
from typing import Any

import pyarrow as pa
from prefect.serializers import Serializer
from pydantic import Field

_SIZE = struct.Struct("<Q")  # the pickle's length, which the codec needs to decompress


class ZstdPickleSerializer(Serializer):
    """pickle (protocol 5) → Zstandard level 1 → base64."""

    type: str = Field(default="zstd-pickle", frozen=True)

    def dumps(self, obj: Any) -> bytes:
        blob = pickle.dumps(obj, protocol=5)
        packed = pa.Codec("zstd", compression_level=1).compress(blob, asbytes=True)
        return base64.b64encode(_SIZE.pack(len(blob)) + packed)

    def loads(self, blob: bytes) -> Any:
        packed = base64.b64decode(blob)
        (size,) = _SIZE.unpack_from(packed)
        return pickle.loads(pa.Codec("zstd").decompress(
            packed[_SIZE.size:], decompressed_size=size, asbytes=True))


STAGE_RESULTS = ZstdPickleSerializer()
