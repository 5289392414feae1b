"""Arrow columns built straight from numpy buffers and Python lists, without pandas.

``pa.array`` imports pandas on its first call whatever it is given (pyarrow checks each input
for a pandas type), which costs an ingest ~0.2 s of start-up. These build the same typed
arrays from their buffers instead: numeric values as they are (zero-copy for a numpy array),
a validity bitmap where a value is missing (NaN or None: NULL in DuckDB, as it reads a pandas
frame's NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

TIMESTAMP = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _validity(present: np.ndarray[Any, Any]) -> pa.Buffer | None:
    """Arrow's validity bitmap (LSB first) for a boolean mask; None when nothing is missing."""
    return None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))


def _fixed(type_: pa.DataType, values: np.ndarray[Any, Any], present: np.ndarray[Any, Any] | None) -> pa.Array:
    values = np.ascontiguousarray(values)
    validity = None if present is None else _validity(present)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(values)])


def floats(values: ArrayLike) -> pa.Array:
    """float64; NaN and None are NULL."""
    arr = np.asarray(values, dtype=np.float64)
    return _fixed(pa.float64(), arr, ~np.isnan(arr))


def ints(values: Sequence[int | None] | np.ndarray[Any, Any], wide: bool = False) -> pa.Array:
    """int32 (``wide``: int64); None is NULL (an integer array is taken as it is)."""
    type_, dtype = (pa.int64(), np.int64) if wide else (pa.int32(), np.int32)
    if isinstance(values, np.ndarray):
        return _fixed(type_, values.astype(dtype, copy=False), None)
    present = np.array([v is not None for v in values], dtype=bool)
    return _fixed(type_, np.array([0 if v is None else v for v in values], dtype=dtype), present)


def epoch_micros(micros: np.ndarray[Any, Any]) -> pa.Array:
    """UTC timestamps from int64 microseconds since 1970 (zero-copy)."""
    return _fixed(TIMESTAMP, np.asarray(micros, dtype=np.int64), None)


def micros(values: Sequence[datetime | None]) -> np.ndarray[Any, Any]:
    """Microseconds since 1970 (int64) of datetimes, a naive one read as UTC; 0 for None."""
    return np.array([0 if v is None else ((v if v.tzinfo else v.replace(tzinfo=UTC)) - _EPOCH) // _MICRO
                     for v in values], dtype=np.int64)


def datetimes(values: Sequence[datetime | None]) -> pa.Array:
    """UTC timestamps (microseconds) from datetimes; None is NULL."""
    return _fixed(TIMESTAMP, micros(values), np.array([v is not None for v in values], dtype=bool))


def strings(values: Sequence[str | None]) -> pa.Array:
    """UTF-8 strings; None is NULL."""
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    present = np.array([v is not None for v in values], dtype=bool)
    validity = _validity(present) if len(values) else None
    return pa.Array.from_buffers(pa.string(), len(encoded), [validity, pa.py_buffer(offsets),
                                                             pa.py_buffer(b"".join(encoded))])


def table(columns: dict[str, pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))
