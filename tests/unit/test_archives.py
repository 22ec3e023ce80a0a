"""Archive manifests (chalicelib/archives.py) on real archives, built here with tarfile and
zipfile, and on hostile ones: each gives its exact manifest or its refusal code."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chalicelib.archives import (
    BLOCK_SIZE,
    PREFETCH_CHUNKS,
    ArchiveRefused,
    Entry,
    Format,
    Limits,
    SourceError,
    archive_format,
    clean_path,
    entries,
    prefetched,
)
from chalicelib.config import GiB, MiB
from tests.support.archives import (
    NESTED,
    BytesSource,
    Member,
    gzip_bomb_tar,
    link,
    manifest_of,
    overlapping_zip_bomb,
    quoted_overlap_zip_bomb,
    sha256,
    special,
    tar_bytes,
    tar_with,
    zip_bomb,
    zip_bytes,
    zip_encrypted,
    zip_symlink,
)

LIMITS = Limits(max_entries=100_000, max_bytes=64 * GiB, max_ratio=200)


def listed(data: bytes, archive: Format, limits: Limits = LIMITS) -> list[Entry]:
    return list(entries(BytesSource(data), archive, limits))


def refusal(data: bytes, archive: Format, limits: Limits = LIMITS) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as raised:
        listed(data, archive, limits)
    return raised.value


def build(members: list[Member], archive: Format) -> bytes:
    if archive == "zip":
        return zip_bytes(members)
    return tar_bytes(members, gzip=archive == "tar.gz")


ALL: list[Format] = ["tar", "tar.gz", "zip"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bundle.tar", "tar"),
        ("bundle.tar.gz", "tar.gz"),
        ("BUNDLE.TGZ", "tar.gz"),
        ("site é 🎉.zip", "zip"),
        ("notes.txt", None),
        ("archive.tar.bz2", None),
        ("tar", None),
    ],
)
def test_the_format_goes_by_the_name(name: str, expected: str | None) -> None:
    assert archive_format(name) == expected


@pytest.mark.parametrize("archive", ALL)
def test_nested_folders_empty_dirs_and_unicode_names(archive: Format) -> None:
    assert listed(build(NESTED, archive), archive) == manifest_of(NESTED)


def test_stored_zip_entries() -> None:
    data = zip_bytes(NESTED, compression=zipfile.ZIP_STORED)
    assert listed(data, "zip") == manifest_of(NESTED)


@pytest.mark.parametrize("archive", ALL)
def test_an_empty_archive_has_no_entries(archive: Format) -> None:
    assert listed(build([], archive), archive) == []


def test_dot_slash_prefixes_and_the_root_entry_are_dropped() -> None:
    """`tar -C dir .` names everything `./...` and lists `./` itself."""
    members: list[Member] = [("./", None), ("./conf/", None), ("./conf/a.conf", b"a=1\n")]
    assert listed(tar_bytes(members, gzip=True), "tar.gz") == [
        Entry("conf", "dir", 0, None),
        Entry("conf/a.conf", "file", 4, manifest_of(members)[2].sha256),
    ]


def test_long_names_in_every_tar_format() -> None:
    deep = "/".join(["directory"] * 40) + "/file.conf"  # over the 100 bytes of a ustar name
    members: list[Member] = [(deep, b"x")]
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        assert listed(tar_bytes(members, fmt=fmt), "tar") == manifest_of(members)


@pytest.mark.parametrize("archive", ALL)
def test_ten_thousand_entries(archive: Format) -> None:
    members: list[Member] = [
        (f"d{i // 100}/f{i}.conf", f"value={i}\n".encode()) for i in range(10_000)
    ]
    assert listed(build(members, archive), archive) == manifest_of(members)


def test_a_compressible_small_archive_is_not_a_bomb() -> None:
    """Under the ratio's floor (4 MiB unpacked), any ratio is fine."""
    members: list[Member] = [("zeros.bin", bytes(3 * MiB))]
    assert listed(build(members, "zip"), "zip") == manifest_of(members)
    assert listed(build(members, "tar.gz"), "tar.gz") == manifest_of(members)


# --- hostile names ------------------------------------------------------------------------------


@pytest.mark.parametrize("archive", ALL)
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../etc/passwd", "path_traversal"),
        ("conf/../../escape", "path_traversal"),
        ("conf\\..\\..\\escape", "path_traversal"),
        ("/etc/passwd", "absolute_path"),
        ("\\windows\\system.ini", "absolute_path"),
        ("C:\\boot.ini", "absolute_path"),
        ("c:relative", "absolute_path"),
        ("bell\x07.conf", "unsafe_name"),
        ("line\nbreak", "unsafe_name"),
        ("c1\x85control", "unsafe_name"),
    ],
)
def test_names_that_leave_the_archive_or_cannot_be_stored(
    archive: Format, name: str, code: str
) -> None:
    data = build([("fine.conf", b"ok"), (name, b"bad")], archive)
    refused = refusal(data, archive)
    assert refused.code == code
    assert repr(name) in refused.message
    assert "\x00" not in refused.message


def test_a_name_that_is_not_utf8() -> None:
    info = tarfile.TarInfo("caf\udce9.conf")  # the byte 0xE9: Latin-1, not UTF-8
    data = tar_with(info)
    assert refusal(data, "tar").code == "unsafe_name"


def test_a_nul_in_a_pax_path() -> None:
    members: list[Member] = [("nul\x00é.conf", b"x")]  # not ASCII: written as a pax record
    assert refusal(tar_bytes(members, fmt=tarfile.PAX_FORMAT), "tar").code == "unsafe_name"


def test_a_nul_in_a_zip_name_is_judged_before_zipfile_cuts_it() -> None:
    # zipfile would not write a NUL: put it in both headers afterwards.
    data = zip_bytes([("visible@.conf", b"x")]).replace(b"visible@", b"visible\x00")
    assert refusal(data, "zip").code == "unsafe_name"


def test_clean_path_keeps_what_is_harmless() -> None:
    assert clean_path("a//b/./c d é 🎉/") == "a/b/c d é 🎉"
    assert clean_path("..data/x..y") == "..data/x..y"


# --- links, devices, encryption -----------------------------------------------------------------


@pytest.mark.parametrize("gzip", [False, True])
@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (link("etc/passwd", "/etc/passwd"), "link_entry"),
        (link("escape", "../../x"), "link_entry"),
        (link("hard", "fine.conf", tarfile.LNKTYPE), "link_entry"),
        (special("dev/sda", tarfile.BLKTYPE), "special_entry"),
        (special("dev/tty", tarfile.CHRTYPE), "special_entry"),
        (special("pipe", tarfile.FIFOTYPE), "special_entry"),
    ],
)
def test_links_and_special_files_in_a_tar(gzip: bool, entry: tarfile.TarInfo, code: str) -> None:
    refused = refusal(tar_with(entry, gzip=gzip), "tar.gz" if gzip else "tar")
    assert refused.code == code
    assert repr(entry.name) in refused.message


def test_a_symlink_in_a_zip() -> None:
    assert refusal(zip_symlink("etc/passwd", "/etc/passwd"), "zip").code == "link_entry"


def test_an_encrypted_zip_entry() -> None:
    assert refusal(zip_encrypted(), "zip").code == "encrypted_entry"


def test_zip_compression_other_than_deflate() -> None:
    data = zip_bytes([("a.conf", b"x" * 1000)], compression=zipfile.ZIP_BZIP2)
    assert refusal(data, "zip").code == "unsupported_compression"


# --- bombs and limits ---------------------------------------------------------------------------


@dataclass
class CountingSource(BytesSource):
    """Counts the archive's bytes handed out: a refusal must come before the end."""

    handed: int = 0

    def stream(self) -> Iterator[bytes]:
        for chunk in super().stream():
            self.handed += len(chunk)
            yield chunk

    def read(self, start: int, end: int) -> Iterator[bytes]:
        for chunk in super().read(start, end):
            self.handed += len(chunk)
            yield chunk


class ReadCounting(BytesSource):
    """Counts the GETs (ranged reads) an archive costs; serves each in chunks, as a GET does."""

    reads: int = 0

    def read(self, start: int, end: int) -> Iterator[bytes]:
        self.reads += 1
        for at in range(start, end + 1, self.chunk):
            yield self.data[at : min(at + self.chunk, end + 1)]


def test_a_zip_read_in_order_costs_a_get_for_its_directory_and_one_for_its_entries() -> None:
    members: list[Member] = [(f"conf/{n:03}.conf", os.urandom(50_000)) for n in range(200)]
    source = ReadCounting(zip_bytes(members, compression=zipfile.ZIP_STORED))
    assert source.size > 4 * BLOCK_SIZE
    found = list(entries(source, "zip", LIMITS))
    assert [(e.path, e.sha256) for e in found] == [(p, sha256(d)) for p, d in members if d]
    assert source.reads <= 3, "a block after the one before continues the same GET"


def test_prefetched_hands_on_errors_and_stops_its_reader_when_closed() -> None:
    def failing() -> Iterator[bytes]:
        yield b"first"
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        list(prefetched(failing()))

    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.set()  # the GET's connection would be released here

    chunks = prefetched(endless())
    assert next(chunks) == b"x"
    chunks.close()
    assert closed.is_set()


def test_a_gzip_bomb_is_stopped_early() -> None:
    data = gzip_bomb_tar(128 * MiB)
    source = CountingSource(data, chunk=16 * 1024)
    with pytest.raises(ArchiveRefused) as raised:
        list(entries(source, "tar.gz", LIMITS))
    assert raised.value.code == "compression_ratio"
    assert "'zeros.bin'" in raised.value.message
    # Stopped a few MiB in (200 times what was read, past the 4 MiB floor), not at 128 MiB; the
    # bucket is read at most PREFETCH_CHUNKS chunks (and the one in hand) ahead of the unpacking.
    assert source.handed <= len(data) / 4 + (PREFETCH_CHUNKS + 1) * source.chunk
    assert source.handed < len(data)


def test_a_zip_bomb_by_ratio() -> None:
    refused = refusal(zip_bomb(256 * MiB), "zip")
    assert refused.code == "compression_ratio"
    assert "'zeros.bin'" in refused.message


def test_a_higher_ratio_limit_lets_it_through() -> None:
    data = zip_bomb(16 * MiB)
    (entry,) = listed(data, "zip", Limits(100, GiB, max_ratio=10_000))
    assert entry.size == 16 * MiB


@pytest.mark.parametrize(
    "data", [overlapping_zip_bomb(), quoted_overlap_zip_bomb()], ids=["full", "quoted"]
)
def test_overlapping_zip_bombs(data: bytes) -> None:
    # They are valid zips: zipfile unpacks every entry (each the whole kernel or more).
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.infolist()) > 10
    assert refusal(data, "zip").code == "overlapping_entries"


def test_overlapping_entries_unpack_no_more_than_the_limit_allows() -> None:
    """Even past the layout check (a ratio this loose), the real bytes are counted."""
    data = overlapping_zip_bomb(copies=20, kernel_size=MiB)
    limits = Limits(100, 4 * MiB, max_ratio=10**9)
    with pytest.raises(ArchiveRefused):
        listed(data, "zip", limits)


@pytest.mark.parametrize("archive", ALL)
def test_too_many_entries(archive: Format) -> None:
    members: list[Member] = [(f"f{i}", b"") for i in range(11)]
    limits = Limits(max_entries=10, max_bytes=GiB, max_ratio=200)
    assert listed(build(members[:10], archive), archive, limits) == manifest_of(members[:10])
    assert refusal(build(members, archive), archive, limits).code == "too_many_entries"


@pytest.mark.parametrize("archive", ALL)
def test_too_many_unpacked_bytes(archive: Format) -> None:
    members: list[Member] = [("a.bin", bytes(600)), ("b.bin", bytes(600))]
    limits = Limits(max_entries=10, max_bytes=1000, max_ratio=200)
    refused = refusal(build(members, archive), archive, limits)
    assert refused.code == "too_large"
    assert "'b.bin'" in refused.message


def test_a_huge_tar_header_is_refused_before_it_is_read() -> None:
    """A GNU long name of 64 MiB: tarfile would read it whole into memory."""
    info = tarfile.TarInfo("././@LongLink")
    info.type, info.size = tarfile.GNUTYPE_LONGNAME, 64 * MiB
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    data = squeeze.compress(header) + squeeze.compress(b"a" * info.size) + squeeze.flush()
    limits = Limits(100, GiB, max_ratio=10**6)
    assert refusal(data, "tar.gz", limits).code == "too_large"


# --- damage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("archive", ALL)
def test_truncated_archives(archive: Format) -> None:
    data = build(NESTED, archive)
    # (A plain tar's last bytes are padding after its end marker: cutting them loses nothing.)
    cuts = [len(data) // 3, len(data) // 2] + ([] if archive == "tar" else [len(data) - 10])
    for cut in cuts:
        assert refusal(data[:cut], archive).code == "corrupt_archive", cut


def test_a_tar_cut_at_a_member_boundary_has_no_end_marker() -> None:
    whole = tar_bytes([("a", b"x" * 512)])
    assert refusal(whole[:1024], "tar").code == "corrupt_archive"


def test_a_damaged_tar_header() -> None:
    """A plain tar has no checksum of its data, only of each header."""
    data = bytearray(tar_bytes([("a.conf", b"a" * 600), ("b.conf", b"b")]))
    second = 512 + 1024  # after the first header and its two blocks of data
    assert data[second : second + 6] == b"b.conf"
    data[second + 100 : second + 108] = b"\xff" * 8  # its mode field
    assert refusal(bytes(data), "tar").code == "corrupt_archive"


@pytest.mark.parametrize("archive", ["tar.gz", "zip"])
def test_damaged_bytes(archive: Format) -> None:
    data = bytearray(build([("data.bin", bytes(range(256)) * 400)], archive))
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    assert refusal(bytes(data), archive).code == "corrupt_archive"


@pytest.mark.parametrize("archive", ALL)
def test_not_an_archive_at_all(archive: Format) -> None:
    assert refusal(b"just some text, not an archive\n" * 40, archive).code == "corrupt_archive"
    assert refusal(b"", archive).code == "corrupt_archive"


def test_a_zip_whose_crc_does_not_match() -> None:
    data = bytearray(zip_bytes([("a.conf", b"abc")], compression=zipfile.ZIP_STORED))
    at = data.find(b"abc")
    data[at : at + 3] = b"abd"
    assert refusal(bytes(data), "zip").code == "corrupt_archive"


# --- the source failing -----------------------------------------------------------------------


class BrokenSource(BytesSource):
    def stream(self) -> Iterator[bytes]:
        yield self.data[:1000]
        raise ConnectionResetError("peer went away")

    def read(self, start: int, end: int) -> Iterator[bytes]:
        raise ConnectionResetError("peer went away")


@pytest.mark.parametrize("archive", ALL)
def test_a_failing_source_is_not_the_archive_s_fault(archive: Format) -> None:
    source = BrokenSource(build(NESTED, archive))
    with pytest.raises(SourceError) as raised:
        list(entries(source, archive, LIMITS))
    assert isinstance(raised.value.__cause__, ConnectionResetError)
