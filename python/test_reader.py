"""Tests of shm_runtime_reader against live segments made by the Rust side.

Run by tests/python_reader.rs:

    python3 python/test_reader.py --telemetry /NAME --slice PATH --busy /NAME

``--telemetry``: a POSIX segment of the test's ``Telemetry`` with the values
it sets; ``--slice``: a file segment of ``[u16]`` holding ``i * 3``;
``--busy``: a POSIX ``SeqLock<Limits>`` that a writer thread rewrites with
``{max_jobs: i, max_bytes: 2 * i}`` while these tests run.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shm_runtime_reader as shm  # noqa: E402

ARGS = None


class Telemetry(unittest.TestCase):
    """Every kind of field of a live segment, by name and by path."""

    def setUp(self):
        self.seg = shm.open_posix(ARGS.telemetry)

    def tearDown(self):
        self.seg.close()

    def test_header_fields(self):
        self.assertTrue(self.seg.type_name.endswith("Telemetry"), self.seg.type_name)
        self.assertFalse(self.seg.slice)
        self.assertEqual(self.seg.len, 1)
        self.assertEqual(self.seg.payload_offset, 256)
        self.assertEqual(self.seg.description.root.name, "Telemetry")

    def test_plain_scalars_enums_and_nested_structs(self):
        s = self.seg
        self.assertEqual(s["version"], 3)
        self.assertEqual(s["ratio"], 0.25)
        self.assertEqual(s["neg"], -300)
        self.assertEqual(s["stats"]["hits"], 1 << 40)
        self.assertEqual(s["stats"]["errors"], 2)
        self.assertEqual(s.read("stats.errors"), 2)
        self.assertEqual(s.read("inner.flags[2]"), 30)
        self.assertEqual(s["inner"]["flags"].value(), [10, 20, 30, 40])
        self.assertEqual(s["inner"]["mode"], "Busy")
        self.assertIs(s["inner"]["on"], True)
        self.assertEqual(s["inner"]["letter"], "é")

    def test_atomics_are_loaded(self):
        s = self.seg
        self.assertEqual([s["requests"][i] for i in range(4)], [0, 0, 5, 0])
        self.assertEqual(s.read("requests[-2]"), 5)
        self.assertEqual(s["total"], 123456789012)
        self.assertIs(s["healthy"], True)

    def test_library_types(self):
        s = self.seg
        self.assertEqual(s["limits"], {"max_jobs": 8, "max_bytes": 4096})
        self.assertEqual(s["title"], "hello, py")
        self.assertEqual(s["items"], [7, 8, 9])
        self.assertEqual(s["pod"], b"\x01\x02\x03")
        self.assertIsNone(s["next"])
        guarded = s["guarded"]
        self.assertEqual(guarded.holder_pid, 0)
        self.assertEqual(guarded["value"], 11)

    def test_whole_value_and_errors(self):
        v = self.seg.value()
        self.assertEqual(v["stats"], {"hits": 1 << 40, "errors": 2})
        self.assertEqual(v["guarded"]["value"], 11)
        with self.assertRaises(KeyError):
            self.seg["nope"]
        with self.assertRaises(IndexError):
            self.seg["inner"]["flags"][4]
        with self.assertRaises(KeyError):
            self.seg.read("inner..flags")


class Slice(unittest.TestCase):
    """A file segment of a slice: its elements by position."""

    def test_elements(self):
        with shm.open_file(ARGS.slice) as seg:
            self.assertTrue(seg.slice)
            self.assertEqual(seg.len, 5)
            self.assertEqual(seg.value(), [0, 3, 6, 9, 12])
            self.assertEqual(seg.read("[3]"), 9)


class SeqLockUnderWrites(unittest.TestCase):
    """Reads of a SeqLock that another process rewrites are never torn."""

    def test_consistent_copies(self):
        with shm.open_posix(ARGS.busy, timeout=5.0) as seg:
            seen = set()
            for _ in range(3000):
                v = seg.value()
                self.assertEqual(v["max_bytes"], 2 * v["max_jobs"], v)
                seen.add(v["max_jobs"])
            # The writer wrote meanwhile: several values were seen.
            self.assertGreater(len(seen), 1)


class Damaged(unittest.TestCase):
    """Bad bytes are a clear error (SegmentError), never another exception."""

    def setUp(self):
        fd, self.path = tempfile.mkstemp(prefix="shm-reader-test-")
        os.close(fd)
        shutil.copyfile(ARGS.slice, self.path)
        with shm.open_file(self.path) as seg:
            self.end = seg.payload_offset + seg.payload_bytes
        with open(self.path, "rb") as f:
            data = f.read()
        self.data = data
        self.desc_off = int.from_bytes(data[224:232], sys.byteorder)
        self.desc_len = int.from_bytes(data[220:224], sys.byteorder)
        self.block = data[self.desc_off:self.desc_off + self.desc_len]

    def tearDown(self):
        os.unlink(self.path)

    def write(self, at, raw):
        with open(self.path, "r+b") as f:
            f.seek(at)
            f.write(raw)

    def test_every_truncated_description_is_refused(self):
        for n in range(len(self.block)):
            with self.assertRaises(shm.DescriptionError):
                shm.decode_description(self.block[:n])

    def test_random_corruption_is_refused_or_decoded_never_crashes(self):
        rng = random.Random(17)
        for _ in range(3000):
            b = bytearray(self.block)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            try:
                shm.decode_description(bytes(b))
            except shm.DescriptionError:
                pass

    def test_a_changed_block_fails_its_checksum(self):
        self.write(self.desc_off + 20, b"\xff")
        with self.assertRaisesRegex(shm.SegmentError, "checksum"):
            shm.open_file(self.path)

    def test_other_versions_and_states_are_refused(self):
        self.write(8, (3).to_bytes(4, sys.byteorder))
        with self.assertRaisesRegex(shm.SegmentError, "header format 3"):
            shm.open_file(self.path)
        self.write(8, (4).to_bytes(4, sys.byteorder))
        self.write(20, (1).to_bytes(4, sys.byteorder))  # state: initializing
        with self.assertRaisesRegex(shm.SegmentError, "not ready"):
            shm.open_file(self.path)

    def test_a_file_that_is_not_a_segment_is_refused(self):
        self.write(0, b"NOTASEGM")
        with self.assertRaisesRegex(shm.SegmentError, "not a segment"):
            shm.open_file(self.path)

    def test_truncation_after_opening_is_an_error_not_sigbus(self):
        with shm.open_file(self.path) as seg:
            self.assertEqual(seg.read("[0]"), 0)
            os.truncate(self.path, 260)
            with self.assertRaises(shm.TruncatedError):
                seg.read("[4]")

    def test_a_cut_description_block_is_refused(self):
        os.truncate(self.path, self.desc_off + 3)
        with self.assertRaises(shm.TruncatedError):
            shm.open_file(self.path)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--telemetry", required=True)
    parser.add_argument("--slice", required=True)
    parser.add_argument("--busy", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
