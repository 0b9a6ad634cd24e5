"""Read the segments of shm-runtime (format 4) from Python: standard library only.

A segment of shm-runtime starts with a 256-byte header and stores, after its
payload, the layout description of its type (field names, offsets, types).
This module opens a segment through its file, checks the header, decodes the
description (as untrusted bytes: every length, count, reference and offset is
checked, the whole bounded as the Rust decoder bounds it) and reads fields by
name::

    import shm_runtime_reader as shm

    with shm.open_posix("/stats") as seg:         # /dev/shm/stats
        print(seg["errors"], seg["inner"]["flags"][2])
        print(seg.read("inner.flags[2]"))
        print(seg.value())                           # the whole payload as dicts and lists

    with shm.open_file("/var/lib/app/table") as seg:  # a file segment
        ...

Opening
    A POSIX segment ``/NAME`` is the file ``/dev/shm/NAME`` on Linux; a file
    segment is its path. Both are opened read-only with ``os.open`` and
    mapped with ``mmap`` (``PROT_READ``, ``MAP_SHARED``). This module never
    uses ``multiprocessing.shared_memory``, whose resource tracker may unlink
    a segment that a process only opened. Nothing is ever written.

Checks
    The magic (``SHMRTSEG``), format version 4, the byte order (the
    creator's must be this machine's), the pointer width (4 or 8: sizes come
    from the description, so a 32-bit program's segment reads the same), the
    state (``ready``: its values are published), the payload's bounds, and
    the description block: its offset, its length (at most 1 MiB), that the
    object holds it, and its FNV-1a 64 checksum, before it is decoded.
    Failures raise :class:`SegmentError` (or :class:`DescriptionError`, a
    subclass) with a message that says what is wrong.

Values
    Integers as ``int``, floats as ``float``, ``bool``, ``char`` as a
    one-character ``str``, enums as their variant's name, ``FixedString`` as
    ``str`` (the valid UTF-8 prefix of its length, clamped, as Rust's
    ``as_str``), ``FixedVec`` as its ``len`` elements, structs and arrays as
    :class:`Node` objects that are indexed by field name or position (and
    ``.value()`` turns into dicts and lists). ``ShmMutex`` values are read
    without the lock (a snapshot that may be torn): its node's ``holder_pid``
    says who holds it. Opaque parts (``PodField``, hand-written types) are
    ``bytes``. Fields written under a protocol this module does not know (a
    queue's items) raise :class:`SegmentError` when read.

Atomics
    An atomic is read with one plain load of its width: ``memoryview``'s
    ``cast`` to ``B``/``H``/``I``/``Q`` (signed ``b``/``h``/``i``/``q``) and
    an element read, which CPython performs as a fixed-size copy of the
    aligned element, compiled to one load of that width by the C compilers
    CPython is built with. That is what CPython gives: the load is neither
    ordered nor fenced (Python has no memory orderings), and single-load
    atomicity is the compiled code's, not a language guarantee. On x86-64 and
    AArch64 an aligned load of at most 8 bytes is not torn; wider atomics
    (16 bytes) are refused.

SeqLock
    A ``SeqLock``'s value is read with its sequence protocol: the sequence
    word is loaded; if odd (a write in progress) the read retries; the
    value's data bytes are copied with the same split into aligned 8-byte
    words and single bytes as its writers use (padding is skipped); the
    sequence is loaded again and the copy kept only if it did not change.
    Retries are bounded by a timeout (:class:`SegmentError` after it).
    Python has no fences: on x86-64, whose loads are not reordered with
    each other, the protocol holds; on weaker machines (AArch64) the copy's
    loads could in principle be reordered around the sequence loads.

Truncation
    Another process may shrink the object while it is mapped. A Python
    process that touches a page past the new end gets ``SIGBUS``, which
    CPython does not handle: the interpreter dies. So before every read this
    module checks the object's size with ``os.fstat`` and raises
    :class:`TruncatedError` if it no longer holds the payload. The remaining
    race: a truncation between that check and the read still raises
    ``SIGBUS``. Programs that must survive a hostile truncation should read
    with the Rust library (which repairs the mapping) or ``shm-tool dump``.
"""

import mmap
import os
import re
import struct
import sys
import time

__all__ = [
    "SegmentError",
    "DescriptionError",
    "TruncatedError",
    "Description",
    "Segment",
    "Node",
    "open_posix",
    "open_file",
    "decode_description",
]

HEADER_SIZE = 256
FORMAT_VERSION = 4
MAGIC = b"SHMRTSEG"
STATE_READY = 2
STATES = {0: "uninitialized", 1: "initializing", 2: "ready", 3: "abandoned", 4: "retired", 5: "claimed"}

# The description format, version 1 (shm-runtime's layout::describe).
DESC_MAGIC = b"SHMT"
DESC_VERSION = 1
MAX_LEN = 1 << 20
MAX_TYPES = 1 << 16
MAX_ITEMS = 1 << 16
MAX_STR = 1024
MAX_DEPTH = 64
MAX_ALIGN = 1 << 29
MAX_SIZE = (1 << 63) - 1
MIN_RECORD = 1 + 2 + 8 + 8 + 1
MIN_FIELD = 2 + 8 + 4 + 1
MIN_VARIANT = 2 + 16
MIN_PARAM = 2 + 8

SCALARS = {
    0: "unit", 1: "unsigned", 2: "signed", 3: "float", 4: "bool", 5: "char",
    6: "nonzero_unsigned", 7: "nonzero_signed", 8: "atomic_unsigned",
    9: "atomic_signed", 10: "atomic_bool",
}
SCALAR_SIZES = {
    "unit": (0,), "bool": (1,), "atomic_bool": (1,), "char": (4,),
    "float": (2, 4, 8, 16),
}
ATOMICS = ("atomic_unsigned", "atomic_signed", "atomic_bool")
VALIDITIES = {0: "fields", 1: "any_bits", 2: "unknown", 3: "custom"}


class SegmentError(Exception):
    """A segment that cannot be opened or read, and why."""


class DescriptionError(SegmentError):
    """Bytes that are not a valid layout description: where, and what is wrong."""

    def __init__(self, offset, problem):
        self.offset = offset
        self.problem = problem
        super().__init__("invalid layout description at byte %d: %s" % (offset, problem))


class TruncatedError(SegmentError):
    """The object is now shorter than its header says."""


# ---------------------------------------------------------------------------
# The description


class TypeDesc:
    """One type record: ``name``, ``size``, ``align``, ``kind`` and its parts."""

    __slots__ = ("name", "size", "align", "kind", "scalar", "element", "len", "repr",
                 "fields", "variants", "protocol", "params", "validity", "_height")

    def __init__(self, name, size, align, kind):
        self.name, self.size, self.align, self.kind = name, size, align, kind
        self.scalar = self.element = self.len = self.repr = None
        self.fields = []
        self.variants = []
        self.protocol = None
        self.params = {}
        self.validity = None

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def __repr__(self):
        return "TypeDesc(%r, %s, size=%d, align=%d)" % (self.name, self.kind, self.size, self.align)


class FieldDesc:
    """A field: ``name``, ``offset``, ``ty`` (a :class:`TypeDesc`), ``protocol`` (written under one)."""

    __slots__ = ("name", "offset", "ty", "protocol")

    def __init__(self, name, offset, ty, protocol):
        self.name, self.offset, self.ty, self.protocol = name, offset, ty, protocol


class _Bytes:
    """A bounded cursor over the description's bytes."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    def left(self):
        return len(self.data) - self.at

    def take(self, n, what):
        if n > self.left():
            raise DescriptionError(self.at, "%s needs %d bytes but only %d are left" % (what, n, self.left()))
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def uint(self, n, what):
        return int.from_bytes(self.take(n, what), "little")

    def str(self, what):
        start = self.at
        n = self.uint(2, what)
        if n > MAX_STR:
            raise DescriptionError(start, "a string of %d bytes, more than the limit of %d" % (n, MAX_STR))
        raw = self.take(n, what)
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise DescriptionError(start + 2, "a string that is not UTF-8") from None

    def count(self, what, min_size, limit):
        start = self.at
        n = self.uint(4, what)
        if n > limit:
            raise DescriptionError(start, "%d %s, more than %d" % (n, what, limit))
        room = self.left() // min_size
        if n > room:
            raise DescriptionError(start, "%d %s, more than %d" % (n, what, room))
        return n

    def reference(self, record, types):
        start = self.at
        index = self.uint(4, "a type reference")
        if index >= record:
            raise DescriptionError(start, "type %d refers to type %d, which is not before it" % (record, index))
        return types[index]


def _is_pow2(n):
    return n > 0 and n & (n - 1) == 0


def _fields(r, record, types):
    fields = []
    for _ in range(r.count("fields", MIN_FIELD, MAX_ITEMS)):
        name = r.str("a field name")
        offset = r.uint(8, "a field offset")
        ty = r.reference(record, types)
        at = r.at
        access = r.uint(1, "a field access")
        if access not in (0, 1):
            raise DescriptionError(at, "unknown access code %d" % access)
        fields.append(FieldDesc(name, offset, ty, access == 1))
    return fields


def _check(ty, start):
    def bad(what):
        raise DescriptionError(start, what)

    if not _is_pow2(ty.align) or ty.align > MAX_ALIGN:
        bad("`%s` has alignment %d, not a power of two up to 2^29" % (ty.name, ty.align))
    if ty.size > MAX_SIZE or ty.size % ty.align:
        bad("`%s` has size %d, not a multiple of its alignment %d below 2^63" % (ty.name, ty.size, ty.align))
    if ty.kind == "scalar":
        sizes = SCALAR_SIZES.get(ty.scalar, (1, 2, 4, 8, 16))
        if ty.size not in sizes or ty.align > max(ty.size, 1):
            bad("the scalar `%s` has size %d and alignment %d" % (ty.name, ty.size, ty.align))
    elif ty.kind == "array":
        if ty.element.size * ty.len != ty.size or ty.element.align != ty.align:
            bad("an array of %d `%s` claims size %d and alignment %d" % (ty.len, ty.element.name, ty.size, ty.align))
    elif ty.kind == "enum":
        if ty.size == 0:
            bad("the enum `%s` has size 0" % ty.name)
        names = [v[0] for v in ty.variants]
        values = [v[1] for v in ty.variants]
        if len(set(names)) != len(names):
            bad("two variants of `%s` with the same name" % ty.name)
        if len(set(values)) != len(values):
            bad("two variants of `%s` with the same discriminant" % ty.name)
    if ty.kind in ("struct", "library"):
        names = set()
        end = 0
        for f in ty.fields:
            if f.name in names:
                bad("two fields named `%s`" % f.name)
            names.add(f.name)
            if f.offset < end:
                bad("field `%s` of `%s` overlaps the field before it" % (f.name, ty.name))
            if f.offset + f.ty.size > ty.size:
                bad("field `%s` of `%s` ends beyond its type" % (f.name, ty.name))
            if f.offset % f.ty.align or f.ty.align > ty.align:
                bad("field `%s` of `%s` is not aligned for its type" % (f.name, ty.name))
            end = f.offset + f.ty.size


def _children(ty):
    if ty.kind == "array":
        return [ty.element]
    return [f.ty for f in ty.fields]


class Description:
    """A decoded layout description: ``types`` (the table), ``root`` (the described type)."""

    def __init__(self, types):
        self.types = types
        self.root = types[-1]


def decode_description(data):
    """Decodes description bytes (untrusted): a :class:`Description`, or :class:`DescriptionError`."""
    data = bytes(data)
    if len(data) > MAX_LEN:
        raise DescriptionError(0, "%d bytes is more than the limit of %d" % (len(data), MAX_LEN))
    r = _Bytes(data)
    if r.take(4, "the magic") != DESC_MAGIC:
        raise DescriptionError(0, "it does not start with `SHMT`")
    version = r.uint(2, "the version")
    if version != DESC_VERSION:
        raise DescriptionError(4, "format version %d, but this reader reads version %d" % (version, DESC_VERSION))
    flags = r.uint(2, "the flags")
    if flags:
        raise DescriptionError(6, "unknown flags %#06x" % flags)
    claimed = r.uint(4, "the length")
    if claimed != len(data):
        raise DescriptionError(8, "the header claims %d bytes but there are %d" % (claimed, len(data)))
    count = r.count("types", MIN_RECORD, MAX_TYPES)
    if count == 0:
        raise DescriptionError(12, "no type records")
    types = []
    for record in range(count):
        start = r.at
        kind = r.uint(1, "a record kind")
        name = r.str("a type name")
        size = r.uint(8, "a type size")
        align = r.uint(8, "a type alignment")
        if kind == 0:
            ty = TypeDesc(name, size, align, "scalar")
            at = r.at
            code = r.uint(1, "a scalar code")
            if code not in SCALARS:
                raise DescriptionError(at, "unknown scalar code %d" % code)
            ty.scalar = SCALARS[code]
        elif kind == 1:
            ty = TypeDesc(name, size, align, "array")
            ty.element = r.reference(record, types)
            ty.len = r.uint(8, "an array length")
        elif kind == 2:
            ty = TypeDesc(name, size, align, "struct")
            ty.repr = r.str("a repr")
            ty.fields = _fields(r, record, types)
        elif kind == 3:
            ty = TypeDesc(name, size, align, "enum")
            at = r.at
            code = r.uint(1, "an enum repr")
            if code not in (1, 2):
                raise DescriptionError(at, "unknown enum repr code %d" % code)
            ty.repr = SCALARS[code]
            for _ in range(r.count("variants", MIN_VARIANT, MAX_ITEMS)):
                vname = r.str("a variant name")
                ty.variants.append((vname, r.uint(16, "a discriminant")))
        elif kind == 4:
            ty = TypeDesc(name, size, align, "library")
            ty.protocol = r.str("a protocol")
            at = r.at
            code = r.uint(1, "a validity")
            if code not in VALIDITIES:
                raise DescriptionError(at, "unknown validity code %d" % code)
            ty.validity = VALIDITIES[code]
            for _ in range(r.count("parameters", MIN_PARAM, MAX_ITEMS)):
                pname = r.str("a parameter name")
                if pname in ty.params:
                    raise DescriptionError(start, "two parameters named `%s`" % pname)
                ty.params[pname] = r.uint(8, "a parameter")
            ty.fields = _fields(r, record, types)
        else:
            raise DescriptionError(start, "unknown kind code %d" % kind)
        _check(ty, start)
        height = 1 + max((c._height for c in _children(ty)), default=0)
        if height > MAX_DEPTH:
            raise DescriptionError(start, "types nested more than %d levels deep" % MAX_DEPTH)
        ty._height = height
        types.append(ty)
    if r.left():
        raise DescriptionError(r.at, "%d bytes after the last type record" % r.left())
    return Description(types)


def _has_padding(ty):
    if ty.kind == "array":
        return _has_padding(ty.element)
    if ty.kind not in ("struct", "library") or (ty.kind == "library" and not ty.fields):
        return False
    covered = 0
    for f in ty.fields:
        if f.ty.size == 0:
            continue
        if f.offset != covered or _has_padding(f.ty):
            return True
        covered = f.offset + f.ty.size
    return covered != ty.size


def _data_runs(ty, at, runs, budget):
    """The ranges of ``ty``'s data bytes (not padding), touching ones merged, as the Rust layout computes them."""
    if ty.size == 0:
        return
    budget[0] -= 1
    if budget[0] < 0:
        raise SegmentError("a SeqLock value with too many data ranges")
    if not _has_padding(ty):
        if runs and runs[-1][1] == at:
            runs[-1][1] = at + ty.size
        else:
            runs.append([at, at + ty.size])
        return
    if ty.kind == "array":
        for i in range(ty.len):
            _data_runs(ty.element, at + i * ty.element.size, runs, budget)
    else:
        for f in ty.fields:
            _data_runs(f.ty, at + f.offset, runs, budget)


# ---------------------------------------------------------------------------
# Reading values

_FORMATS = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
            (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}


def _fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


class _Mem:
    """Bytes to read values from: the live mapping (``live``), or a private copy."""

    def __init__(self, seg, view, base, length, live):
        self.seg, self.view, self.base, self.length, self.live = seg, view, base, length, live

    def check(self, at, n):
        if at < 0 or at + n > self.length:
            raise SegmentError("%d bytes at %d lie outside the %d-byte value" % (n, at, self.length))
        if self.live:
            self.seg._check_size()

    def bytes(self, at, n):
        self.check(at, n)
        return bytes(self.view[self.base + at:self.base + at + n])

    def load(self, at, n, signed):
        """One load of ``n`` bytes (atomics), aligned."""
        self.check(at, n)
        fmt = _FORMATS.get((n, signed))
        if fmt is None:
            raise SegmentError("a %d-byte atomic cannot be loaded in one access here" % n)
        start = self.base + at
        if start % n:
            raise SegmentError("a misaligned %d-byte atomic at %d" % (n, at))
        return self.view[start:start + n].cast(fmt)[0]


class Node:
    """A struct, array or library value in a segment, read field by field on access.

    ``node["name"]`` (a struct's or library type's field), ``node[i]`` (an
    element), ``len(node)``, ``node.value()`` (everything as dicts and lists),
    ``node.type`` (its :class:`TypeDesc`). An ``ShmMutex`` node also has
    ``holder_pid`` (0: unlocked).
    """

    def __init__(self, reader, mem, at, ty):
        self._reader, self._mem, self._at, self.type = reader, mem, at, ty

    def __getitem__(self, key):
        ty = self.type
        if ty.kind == "array":
            if not isinstance(key, int):
                raise TypeError("an array is indexed by position, not %r" % (key,))
            if key < 0:
                key += ty.len
            if not 0 <= key < ty.len:
                raise IndexError("index %d of an array of %d" % (key, ty.len))
            return self._reader.get(self._mem, self._at + key * ty.element.size, ty.element)
        f = ty.field(key) if isinstance(key, str) else None
        if f is None:
            raise KeyError("`%s` has no field %r" % (ty.name, key))
        if f.protocol and ty.protocol not in _READABLE_PROTOCOLS:
            raise SegmentError("field `%s` of `%s` is written under the `%s` protocol: not read" % (key, ty.name, ty.protocol))
        return self._reader.get(self._mem, self._at + f.offset, f.ty)

    def __len__(self):
        return self.type.len if self.type.kind == "array" else len(self.type.fields)

    def keys(self):
        return [f.name for f in self.type.fields]

    @property
    def holder_pid(self):
        if self.type.protocol != MUTEX:
            raise AttributeError("not an ShmMutex")
        word = self._mem.load(self._at + self.type.field("lock").offset, 8, False)
        return 0 if word & 0xFFFFF == 0 else word >> 32

    def value(self):
        """The whole value as Python data: dicts for structs, lists for arrays."""
        ty = self.type
        if ty.kind == "array":
            return [_plain(self[i]) for i in range(ty.len)]
        out = {}
        for f in ty.fields:
            if f.protocol and ty.protocol not in _READABLE_PROTOCOLS:
                out[f.name] = None
            else:
                out[f.name] = _plain(self[f.name])
        return out

    def __repr__(self):
        return "Node(%s at %d)" % (self.type.name, self._at)


def _plain(v):
    return v.value() if isinstance(v, Node) else v


MUTEX = "ShmMutex futex v5"
SEQLOCK = "SeqLock atomic-words v2"
FIXED_STRING = "FixedString utf8-prefix v1"
FIXED_VEC = "FixedVec clamped-len v1"
RELPTR = "RelPtr repr(transparent) target-self-1 0=null"
# Library types whose protocol fields this module reads: a mutex's value
# (unlocked, may be torn) and a SeqLock's (by its protocol).
_READABLE_PROTOCOLS = (MUTEX, SEQLOCK)


class _Reader:
    def __init__(self, seg, timeout):
        self.seg = seg
        self.timeout = timeout

    def get(self, mem, at, ty):
        if ty.kind == "scalar":
            return self.scalar(mem, at, ty)
        if ty.kind == "enum":
            raw = int.from_bytes(mem.bytes(at, ty.size), sys.byteorder, signed=ty.repr == "signed")
            if raw < 0:
                raw &= (1 << 128) - 1  # discriminants are stored sign-extended
            for name, value in ty.variants:
                if value == raw:
                    return name
            raise SegmentError("`%s` holds %d, which is none of its variants" % (ty.name, raw))
        if ty.kind == "library":
            if ty.protocol == FIXED_STRING:
                n = min(self.get(mem, at + ty.field("len").offset, ty.field("len").ty), ty.params["capacity"])
                raw = mem.bytes(at + ty.field("bytes").offset, n)
                try:
                    return raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    return raw[:e.start].decode("utf-8")
            if ty.protocol == FIXED_VEC:
                n = min(self.get(mem, at + ty.field("len").offset, ty.field("len").ty), ty.params["capacity"])
                items = ty.field("items")
                node = Node(self, mem, at + items.offset, items.ty)
                return [_plain(node[i]) for i in range(n)]
            if ty.protocol == SEQLOCK:
                return self.seqlock(mem, at, ty)
            if ty.protocol == RELPTR:
                n = self.get(mem, at, ty.field("offset").ty)
                return None if n == 0 else n + 1
            if not ty.fields:
                return mem.bytes(at, ty.size)
        return Node(self, mem, at, ty)

    def scalar(self, mem, at, ty):
        s, n = ty.scalar, ty.size
        if s == "unit":
            return None
        if s in ATOMICS:
            v = mem.load(at, n, s == "atomic_signed")
            return v != 0 if s == "atomic_bool" else v
        raw = mem.bytes(at, n)
        if s in ("unsigned", "nonzero_unsigned"):
            return int.from_bytes(raw, sys.byteorder)
        if s in ("signed", "nonzero_signed"):
            return int.from_bytes(raw, sys.byteorder, signed=True)
        if s == "float":
            fmt = {2: "e", 4: "f", 8: "d"}.get(n)
            if fmt is None:
                raise SegmentError("a %d-byte float cannot be read here" % n)
            return struct.unpack("=" + fmt, raw)[0]
        if s == "bool":
            if raw[0] > 1:
                raise SegmentError("a bool holds %d" % raw[0])
            return raw[0] == 1
        if s == "char":
            code = int.from_bytes(raw, sys.byteorder)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise SegmentError("a char holds %#x, which is not a Unicode scalar value" % code)
            return chr(code)
        raise SegmentError("unknown scalar kind %s" % s)

    def seqlock(self, mem, at, ty):
        value = ty.field("value")
        seq_at = at + ty.field("seq").offset
        size = value.ty.size
        if not mem.live:
            return self.get(mem, at + value.offset, value.ty)
        runs = []
        _data_runs(value.ty, 0, runs, [1 << 20])
        mem.check(at, value.offset + size)
        base = mem.base + at + value.offset
        if base % 8 or (mem.base + seq_at) % 8:
            raise SegmentError("a misaligned SeqLock")
        deadline = time.monotonic() + self.timeout
        while True:
            before = mem.load(seq_at, 8, False)
            if before & 1 == 0:
                copy = bytearray(size)
                view = mem.view
                for start, end in runs:
                    i = start
                    # The writers' split: bytes to an 8-aligned offset, words, then bytes.
                    while i < end and i % 8:
                        copy[i] = view[base + i]
                        i += 1
                    while end - i >= 8:
                        copy[i:i + 8] = view[base + i:base + i + 8].cast("Q")[0].to_bytes(8, sys.byteorder)
                        i += 8
                    while i < end:
                        copy[i] = view[base + i]
                        i += 1
                if mem.load(seq_at, 8, False) == before:
                    private = _Mem(self.seg, memoryview(bytes(copy)), 0, size, False)
                    return _plain(self.get(private, 0, value.ty))
            if time.monotonic() >= deadline:
                raise SegmentError("reading a SeqLock: process %d was still writing after %ss" % (before >> 42, self.timeout))
            time.sleep(0.0001)


class Segment:
    """An open segment: header fields as attributes, values by field name.

    Attributes: ``type_name``, ``fingerprint``, ``type_size``, ``type_align``,
    ``slice`` and ``len`` (a slice segment's element count), ``creator_pid``,
    ``pointer_width``, ``payload_offset``, ``payload_bytes``, ``description``.
    """

    def __init__(self, path, what, timeout=1.0):
        self.what = what
        self.timeout = timeout
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._map = None
        self._view = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self):
        size = os.fstat(self._fd).st_size
        if size < HEADER_SIZE:
            raise SegmentError("%s is %d bytes long, shorter than a header" % (self.what, size))
        self._map = mmap.mmap(self._fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        self._view = memoryview(self._map)
        v = self._view
        magic = bytes(v[0:8])
        native = MAGIC if sys.byteorder == "little" else MAGIC[::-1]
        if magic != native:
            if magic == native[::-1]:
                raise SegmentError("%s was made on a machine of the other byte order" % self.what)
            raise SegmentError("%s is not a segment of shm-runtime (no header magic)" % self.what)
        u32 = lambda at: v[at:at + 4].cast("I")[0]
        u64 = lambda at: v[at:at + 8].cast("Q")[0]
        version = u32(8)
        if version != FORMAT_VERSION:
            raise SegmentError("%s has header format %d; this reader reads format %d" % (self.what, version, FORMAT_VERSION))
        word = u64(16)
        state = word >> 32
        if state != STATE_READY:
            raise SegmentError("%s is not ready (%s)" % (self.what, STATES.get(state, "state %d" % state)))
        self.creator_pid = word & 0xFFFFFFFF
        order = v[77]
        if order != (1 if sys.byteorder == "little" else 2):
            raise SegmentError("%s has byte order code %d, not this machine's" % (self.what, order))
        self.pointer_width = v[76]
        if self.pointer_width not in (4, 8):
            raise SegmentError("%s has pointer width %d" % (self.what, self.pointer_width))
        self.fingerprint = u64(24)
        self.type_size = u64(32)
        self.type_align = u64(40)
        self.payload_offset = u64(48)
        self.len = u64(56)
        self.payload_bytes = u64(64)
        kind = u32(72)
        if kind not in (1, 2):
            raise SegmentError("%s has payload kind %d" % (self.what, kind))
        self.slice = kind == 2
        name_len = min(v[78] | v[79] << 8, 112) if sys.byteorder == "little" else min(v[78] << 8 | v[79], 112)
        self.type_name = bytes(v[80:80 + name_len]).decode("utf-8", "replace")
        if self.payload_offset < HEADER_SIZE or self.type_size * self.len != self.payload_bytes:
            raise SegmentError("%s has an inconsistent payload (offset %d, %d x %d bytes, %d)" % (
                self.what, self.payload_offset, self.len, self.type_size, self.payload_bytes))
        self.end = self.payload_offset + self.payload_bytes
        desc_len = u32(220)
        desc_off = u64(224)
        desc_sum = u64(232)
        if desc_len == 0:
            raise SegmentError("%s stores no layout description (its type is beyond the format's limits)" % self.what)
        if desc_len > MAX_LEN or desc_off != (self.end + 7) // 8 * 8:
            raise SegmentError("%s has a description block of %d bytes at %d, not after its payload" % (self.what, desc_len, desc_off))
        if desc_off + desc_len > size:
            raise TruncatedError("%s is %d bytes long, shorter than its description block's end %d" % (self.what, size, desc_off + desc_len))
        block = bytes(v[desc_off:desc_off + desc_len])
        if _fnv1a(block) != desc_sum:
            raise SegmentError("%s has a corrupt layout description (its checksum does not match)" % self.what)
        self.description = decode_description(block)
        root = self.description.root
        if root.size != self.type_size or root.align != self.type_align:
            raise SegmentError("%s: its description says %d bytes aligned to %d, its header %d aligned to %d" % (
                self.what, root.size, root.align, self.type_size, self.type_align))
        self._need = desc_off + desc_len
        self._reader = _Reader(self, self.timeout)
        self._mem = _Mem(self, self._view, self.payload_offset, self.payload_bytes, True)

    def _check_size(self):
        size = os.fstat(self._fd).st_size
        if size < self._need:
            raise TruncatedError("%s is now %d bytes long, shorter than the %d bytes its header describes: truncated" % (
                self.what, size, self._need))

    @property
    def root(self):
        """The payload: a :class:`Node` (or a plain value for a scalar type); a slice's elements as an array."""
        root = self.description.root
        if self.slice:
            array = TypeDesc("[%s]" % root.name, self.payload_bytes, root.align, "array")
            array.element, array.len = root, self.len
            return Node(self._reader, self._mem, 0, array)
        return self._reader.get(self._mem, 0, root)

    def __getitem__(self, key):
        return self.root[key]

    def read(self, path):
        """A value by path: ``"inner.flags[2]"``, ``"stats.errors"``, ``"[3]"`` (a slice's element)."""
        node = self.root
        for part in _parse_path(path):
            node = node[part]
        return node

    def value(self):
        """The whole payload as Python data."""
        return _plain(self.root)

    def close(self):
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # a memoryview of a value is still alive; unmapped when it is freed
            self._map = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_PATH_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(-?[0-9]+)\]")


def _parse_path(path):
    """``"inner.flags[2]"`` as ``["inner", "flags", 2]``."""
    parts = []
    at = 0
    while at < len(path):
        m = _PATH_PART.match(path, at)
        if m is None or (m.group(0).startswith(".") and at == 0):
            raise KeyError("bad path %r at character %d" % (path, at))
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        at = m.end()
    return parts


def open_posix(name, timeout=1.0):
    """Opens the POSIX segment ``/name`` (Linux: ``/dev/shm/name``) read-only."""
    bare = name[1:] if name.startswith("/") else name
    if not bare or "/" in bare:
        raise SegmentError("`%s` is not a POSIX segment name (/name)" % name)
    return Segment(os.path.join("/dev/shm", bare), "segment `/%s`" % bare, timeout)


def open_file(path, timeout=1.0):
    """Opens the file segment at ``path`` read-only."""
    return Segment(path, "file `%s`" % path, timeout)
