"""Everything that touches fitparse's internals, in one room: the lean decoder ``fit.py`` uses.

fitparse 1.2.0 still does the framing, definitions, compressed timestamps, developer-field
registration and the profile (scale, offset, components, subfields); :class:`FitReader`
overrides two of its private methods so that ``record`` messages are unpacked with one
precompiled struct per definition straight into column lists, and messages nobody reads are
only skipped over. Nothing else in runlift imports a private fitparse name, and the version is
asserted below: ``tests/test_ingest_fit.py`` compares every record with stock fitparse.
"""

from __future__ import annotations

import math
import struct
import threading
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from fitparse import FitFile, FitFileDataProcessor
from fitparse.profile import MESSAGE_TYPES
from fitparse.records import (
    BASE_TYPE_BYTE,
    BASE_TYPES,
    DEV_TYPES,
    ComponentField,
    DataMessage,
    DefinitionMessage,
    DevField,
    DevFieldDefinition,
    FieldDefinition,
    MessageHeader,
)
from fitparse.utils import FitEOFError, FitParseError

from pipeline.parsers.records import QuarantineError

# The fast path below overrides two private methods of exactly this fitparse release.
FITPARSE_VERSION = "1.2.0"
if (_installed := metadata.version("fitparse")) != FITPARSE_VERSION:
    raise ImportError(f"runlift's FIT decoder needs fitparse=={FITPARSE_VERSION}, found {_installed}")
# fitparse keeps developer field types in a module global (DEV_TYPES) that each parse clears and
# fills: one parse at a time per process, so threads (a thread task runner) cannot mix two files.
FITPARSE_STATE = threading.Lock()

_TIMESTAMP_DEF_NUM = 253

# What no recorded activity holds. 24 h at one record a second is 86,400 records; the longest
# events (multi-day ultras) are recorded at 1 Hz for a few days at most: 1,000,000 records is
# 11.6 days of 1 Hz. A file beyond it (6 MB of 2-byte compressed-timestamp records make 3 million)
# is refused before decoding, so its parse costs ~0.5 s and little memory; below it, the records
# cost 64 B each (RecordColumns). Summary messages are full fitparse objects (~2 KB each): a real
# file has tens to a few thousand (2,000 chained copies of one run: 8,000).
MAX_RECORDS = 1_000_000
MAX_SUMMARY_MESSAGES = 50_000
TOO_MANY_RECORDS = (
    f"FIT file holds more than {MAX_RECORDS:,} record messages (11 days at one a second: more than any "
    "recorded activity); refused"
)
TOO_MANY_SUMMARIES = (
    f"FIT file holds more than {MAX_SUMMARY_MESSAGES:,} session/lap/set messages (more than any recorded "
    "activity); refused"
)
_RECORD_NUM = 20
_MAX_DETAIL = 120  # longest decoder message quoted in a quarantine reason

# Messages decoded by stock fitparse: few per file, and the developer ones register fields.
_SUMMARY_MESSAGES = frozenset({"file_id", "session", "lap", "set", "activity", "sport", "timestamp_correlation"})
_STOCK_MESSAGES = _SUMMARY_MESSAGES | {"developer_data_id", "field_description"}
_STOCK_NUMS = frozenset(num for num, t in MESSAGE_TYPES.items() if t.name in _STOCK_MESSAGES)
# what malformed bytes make fitparse (or struct) raise
DECODE_ERRORS = (FitParseError, struct.error, ValueError, KeyError, IndexError, TypeError, OverflowError)

# record fields that feed the samples (components such as compressed_speed_distance count too)
_RECORD_FIELDS = frozenset(
    {
        "timestamp",
        "position_lat",
        "position_long",
        "distance",
        "enhanced_speed",
        "speed",
        "heart_rate",
        "cadence",
        "fractional_cadence",
        "enhanced_altitude",
        "altitude",
    }
)


class _RawValues(FitFileDataProcessor):
    """No per-field processing: enums stay rendered by the profile, date_times stay raw seconds
    (this module converts them, including device-relative ones fitparse would leave as ints)."""

    def run_type_processor(self, field_data: object) -> None:
        pass

    def run_field_processor(self, field_data: object) -> None:
        pass

    def run_unit_processor(self, field_data: object) -> None:
        pass

    def run_message_processor(self, data_message: object) -> None:
        pass


@dataclass
class _Slot:
    """Where one field's value sits in a definition's unpacked tuple, and how to decode it."""

    start: int
    count: int
    array: bool  # several values (a FIT array), or a byte field, which fitparse keeps as a tuple
    parse: Callable[[object], object]
    field_def: FieldDefinition | DevFieldDefinition


@dataclass
class _Layout:
    """A definition compiled once: one struct for the whole data message."""

    size: int
    unpack: Callable[[bytes], tuple[Any, ...]]
    slots: list[_Slot]
    timestamp: _Slot | None  # the message's own timestamp field, if it has one
    sample_slots: list[int]  # indexes of the record fields that feed samples (directly or via components)
    needs_raws: bool  # a kept field or component resolves a subfield, which looks at other fields

    @classmethod
    def compile(cls, def_mesg: DefinitionMessage) -> _Layout:
        fmt: list[str] = []
        slots: list[_Slot] = []
        start = 0
        for fd in def_mesg.field_defs + def_mesg.dev_field_defs:
            base = fd.base_type
            n = fd.size // base.size
            fmt.append(f"{n}{base.fmt}")
            count = 1 if base.fmt == "s" else n  # a string unpacks as one bytes value
            slots.append(_Slot(start, count, base.name == "byte" or count > 1, base.parse, fd))
            start += count
        compiled = struct.Struct(def_mesg.endian + "".join(fmt))
        own = slots[: len(def_mesg.field_defs)]
        timestamp = next((s for s in own if s.field_def.def_num == _TIMESTAMP_DEF_NUM), None)
        feeds = [i for i, s in enumerate(own) if s is not timestamp and _feeds_samples(def_mesg, s.field_def)]
        needs_raws = any(_has_subfields(def_mesg, slots[i].field_def.field) for i in feeds)
        return cls(compiled.size, compiled.unpack, slots, timestamp, feeds, needs_raws)


def _feeds_samples(def_mesg: DefinitionMessage, fd: FieldDefinition) -> bool:
    f = fd.field
    if def_mesg.name != "record" or f is None:
        return False
    return f.name in _RECORD_FIELDS or any(c.name in _RECORD_FIELDS for c in f.components or ())


def _has_subfields(def_mesg: DefinitionMessage, f: Any) -> bool:
    targets = [def_mesg.mesg_type.fields.get(c.def_num) for c in f.components or ()]
    return any(t is not None and t.subfields for t in [f, *targets])


NO_TIME = -1  # RecordColumns.timestamp of a record without one (FIT times are uint32, never negative)
_NAN = math.nan


class RecordColumns:
    """``record`` values as compact typed arrays, 8 bytes a value and no object per value: raw FIT
    seconds for timestamps (:data:`NO_TIME` where missing), float64 for the rest (NaN where a
    value is missing or not a number; positions in semicircles).

    Per-record lists of Python objects cost ~450 B a record: a 6 MB file of 3 million
    compressed-timestamp records needed 1.5 GB. These arrays cost 64 B a record."""

    def __init__(self) -> None:
        self.timestamp = array("q")
        self.lat, self.lon, self.distance, self.speed = array("d"), array("d"), array("d"), array("d")
        self.heart_rate, self.cadence, self.altitude = array("d"), array("d"), array("d")

    def __len__(self) -> int:
        return len(self.timestamp)

    def append(self, ts: int | None, v: dict[str, Any]) -> None:
        get = v.get
        self.timestamp.append(ts if type(ts) is int and ts >= 0 else NO_TIME)
        self.lat.append(_number(get("position_lat")))
        self.lon.append(_number(get("position_long")))
        self.distance.append(_number(get("distance")))
        self.speed.append(_number(_first_present(get("enhanced_speed"), get("speed"))))
        cadence, fraction = _number(get("cadence")), _number(get("fractional_cadence"))
        self.cadence.append(cadence + fraction if fraction == fraction else cadence)  # NaN != NaN
        self.heart_rate.append(_number(get("heart_rate")))
        self.altitude.append(_number(_first_present(get("enhanced_altitude"), get("altitude"))))


def _number(value: Any) -> float:
    """A number as float; NaN for None and for what a damaged definition makes of a field (a
    string, bytes, an array, a bool)."""
    kind = type(value)
    return float(value) if kind is float or kind is int else _NAN


def _first_present(a: Any, b: Any) -> Any:
    return a if a is not None else b


class _Skipped:
    """Returned for messages nobody reads; fitparse's loop only needs a truthy message."""

    type = "data"
    name = "skipped"
    mesg_type = None


_SKIPPED = _Skipped()


class FitReader(FitFile):
    """fitparse's FitFile with a lean data-message path (see the module docstring).

    Overrides two private methods of fitparse 1.2; the equivalence test in
    tests/test_ingest_fit.py fails loudly if a fitparse upgrade changes what they rely on."""

    def __init__(self, data: bytes) -> None:
        DEV_TYPES.clear()  # fitparse keeps developer field types in a module global: none may leak between files
        self._layouts: dict[int, _Layout] = {}
        self.records = RecordColumns()
        self.summary: dict[str, list[DataMessage]] = defaultdict(list)
        self._summaries = 0  # messages decoded by stock fitparse so far
        super().__init__(data, check_crc=False, data_processor=_RawValues())

    def position(self) -> int:
        """Bytes read so far (for quarantine reasons)."""
        return int(self._file.tell() if self._file else self._filesize)

    def _parse_definition_message(self, header: MessageHeader) -> DefinitionMessage:
        # fitparse 1.2's own code plus two tolerances real devices need: a field whose size is no
        # multiple of its base type (COROS) is read as bytes, and a developer field without a
        # field_description is read as bytes, where fitparse would abort the whole file.
        endian = ">" if self._read_struct("xB") else "<"
        global_mesg_num, num_fields = self._read_struct("HB", endian=endian)
        mesg_type = MESSAGE_TYPES.get(global_mesg_num)
        field_defs = []
        for _ in range(num_fields):
            def_num, size, base_type_num = self._read_struct("3B", endian=endian)
            fld = mesg_type.fields.get(def_num) if mesg_type else None
            base_type = BASE_TYPES.get(base_type_num, BASE_TYPE_BYTE)
            if size % base_type.size:
                base_type, fld = BASE_TYPE_BYTE, None
            for component in (fld.components or ()) if fld else ():
                if component.accumulate:
                    self._accumulators.setdefault(global_mesg_num, {})[component.def_num] = 0
            field_defs.append(FieldDefinition(field=fld, def_num=def_num, base_type=base_type, size=size))
        dev_field_defs = []
        if header.is_developer_data:
            for _ in range(self._read_struct("B", endian=endian)):
                def_num, size, dev_index = self._read_struct("3B", endian=endian)
                dev_field_defs.append(_dev_field_definition(dev_index, def_num, size))
        def_mesg = DefinitionMessage(
            header=header,
            endian=endian,
            mesg_type=mesg_type,
            mesg_num=global_mesg_num,
            field_defs=field_defs,
            dev_field_defs=dev_field_defs,
        )
        self._local_mesgs[header.local_mesg_num] = def_mesg
        self._layouts[header.local_mesg_num] = _Layout.compile(def_mesg)
        return def_mesg

    def _parse_data_message(self, header: MessageHeader) -> DataMessage | _Skipped:
        def_mesg = self._local_mesgs.get(header.local_mesg_num)
        if def_mesg is None:
            raise FitParseError(f"data message for undefined local message type {header.local_mesg_num}")
        name = def_mesg.name
        if name in _STOCK_MESSAGES:
            self._summaries += 1
            if self._summaries > MAX_SUMMARY_MESSAGES:
                raise QuarantineError(TOO_MANY_SUMMARIES)
            if name == "field_description":
                return self._field_description(header)
            message = super()._parse_data_message(header)
            self.summary[name].append(message)
            return message
        layout = self._layouts[header.local_mesg_num]
        values = layout.unpack(self._read(layout.size)) if layout.size else ()
        if name == "record":
            if len(self.records) >= MAX_RECORDS:  # count_messages() stopped such a file already
                raise QuarantineError(TOO_MANY_RECORDS)
            samples = self._decode_samples(def_mesg, layout, values)
            self.records.append(self._advance_clock(layout, values, header), samples)
        else:
            self._advance_clock(layout, values, header)  # skipped, but it may carry the time base
        return _SKIPPED

    def _field_description(self, header: MessageHeader) -> DataMessage:
        message = super()._parse_data_message(header)
        # a field_description before (or without) its developer_data_id: register the index so
        # fitparse records the field instead of aborting the file
        index = message.get_raw_value("developer_data_index")
        if index is not None and index not in DEV_TYPES:
            DEV_TYPES[index] = {"dev_data_index": index, "application_id": None, "fields": {}}
        return message

    def _advance_clock(self, layout: _Layout, values: tuple[Any, ...], header: MessageHeader) -> int | None:
        """The message's timestamp, keeping fitparse's compressed-timestamp state as its decoder does."""
        ts = None
        if layout.timestamp is not None:
            ts = _slot_raw(layout.timestamp, values)
            if ts is not None:
                self._compressed_ts_accumulator = ts
        if header.time_offset is not None:
            ts = self._compressed_ts_accumulator = self._apply_compressed_accumulation(
                header.time_offset, self._compressed_ts_accumulator, 5
            )
        return ts

    def _decode_samples(self, def_mesg: DefinitionMessage, layout: _Layout, values: tuple[Any, ...]) -> dict[str, Any]:
        """fitparse's profile logic (subfields, components, scale, offset), for the kept fields only."""
        raws = [_slot_raw(slot, values) for slot in layout.slots] if layout.needs_raws else []
        out: dict[str, Any] = {}
        for i in layout.sample_slots:
            slot = layout.slots[i]
            raw = raws[i] if raws else _slot_raw(slot, values)
            fld = slot.field_def.field
            if layout.needs_raws:
                fld, _ = self._resolve_subfield(fld, def_mesg, raws)
            for component in fld.components or ():
                self._decode_component(def_mesg, raws, component, raw, out)
            _put(out, fld.name, self._apply_scale_offset(fld, fld.render(raw)))
        return out

    def _decode_component(
        self, def_mesg: DefinitionMessage, raws: list[Any], component: ComponentField, raw: Any, out: dict[str, Any]
    ) -> None:
        try:
            value = component.render(raw)
        except ValueError:
            return
        if component.accumulate and value is not None:
            acc = self._accumulators[def_mesg.mesg_num]
            value = acc[component.def_num] = self._apply_compressed_accumulation(
                value, acc[component.def_num], component.bits
            )
        value = self._apply_scale_offset(component, value)
        target = def_mesg.mesg_type.fields[component.def_num]
        if raws:
            target, _ = self._resolve_subfield(target, def_mesg, raws)
        _put(out, target.name, target.render(value))


def _slot_raw(slot: _Slot, values: tuple[Any, ...]) -> Any:
    if slot.count == 0:
        return None
    if not slot.array:
        return slot.parse(values[slot.start])
    chunk = values[slot.start : slot.start + slot.count]
    if slot.field_def.base_type.name == "byte":
        return slot.parse(chunk)
    return tuple(slot.parse(v) for v in chunk)


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    """Like fitparse's get_values(), except that a missing value never hides a present one."""
    if isinstance(value, tuple):  # an array where one value is expected: the first valid element
        value = next((v for v in value if v is not None), None)
    if value is not None or name not in out:
        out[name] = value


def _dev_field_definition(dev_index: int, def_num: int, size: int) -> DevFieldDefinition:
    known = DEV_TYPES.get(dev_index, {}).get("fields", {}).get(def_num)
    if known is None or size % known.type.size:
        known = DevField(
            dev_data_index=dev_index, def_num=def_num, type=BASE_TYPE_BYTE, name=f"unknown_dev_{dev_index}_{def_num}"
        )
    return DevFieldDefinition(field=known, dev_data_index=dev_index, def_num=def_num, size=size)

def count_messages(data: bytes) -> None:
    """Walk the message framing of (possibly chained) FIT data without decoding any field, and
    refuse a file with more records or summary messages than any activity holds (see
    :data:`MAX_RECORDS`). Where the framing stops making sense the walk stops: the decoder then
    reports the damage in its own words. ~0.3 us a message."""
    records = summaries = 0
    pos, n = 0, len(data)
    while pos + 12 <= n and data[pos + 8 : pos + 12] == b".FIT":
        p = pos + data[pos]
        end = min(p + int.from_bytes(data[pos + 4 : pos + 8], "little"), n)
        sizes: dict[int, int] = {}
        kinds: dict[int, int] = {}  # local message type -> 1 record, 2 summary, 0 other
        while p < end:
            head = data[p]
            if head & 0x80:  # compressed timestamp header: a data message of local type 0-3
                local = (head >> 5) & 0x3
            elif head & 0x40:  # definition: reserved, architecture, global number, fields (3 B each)
                if p + 6 > end:
                    return
                number = int.from_bytes(data[p + 3 : p + 5], "big" if data[p + 2] == 1 else "little")
                q = p + 6 + 3 * data[p + 5]
                size = sum(data[p + 7 : q : 3])
                if head & 0x20:  # developer fields
                    if q >= end:
                        return
                    size += sum(data[q + 2 : q + 1 + 3 * data[q] : 3])
                    q += 1 + 3 * data[q]
                sizes[head & 0x0F] = size
                kinds[head & 0x0F] = 1 if number == _RECORD_NUM else 2 if number in _STOCK_NUMS else 0
                p = q
                continue
            else:
                local = head & 0x0F
            if local not in sizes:
                return
            size, kind = sizes[local], kinds[local]
            if kind == 1:
                records += 1
                if records > MAX_RECORDS:
                    raise QuarantineError(TOO_MANY_RECORDS)
            elif kind == 2:
                summaries += 1
                if summaries > MAX_SUMMARY_MESSAGES:
                    raise QuarantineError(TOO_MANY_SUMMARIES)
            p += 1 + size
        pos = end + 2


def decode(data: bytes) -> FitReader:
    count_messages(data)
    reader = None
    try:
        with FITPARSE_STATE:
            reader = FitReader(data)
            reader.parse()
    except FitEOFError as err:  # sizes were checked already, so a definition overran the data
        raise QuarantineError(f"corrupt FIT file: a message runs past the end of the data ({err})") from err
    except DECODE_ERRORS as err:
        where = f" at byte {reader.position():,} of {len(data):,}" if reader else ""
        # fitparse's own messages are structural (sizes, message numbers); any other error's text
        # may quote decoded file content (a string field), so only its kind is named
        detail = str(err)[:_MAX_DETAIL] if isinstance(err, FitParseError) else f"{type(err).__name__} while decoding"
        raise QuarantineError(f"unreadable FIT file{where}: {detail}") from err
    return reader


# -------------------------------------------------------------------------------- time
