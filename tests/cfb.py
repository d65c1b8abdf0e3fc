"""A minimal OLE2 compound file (the container of .doc, .wps and .et files), written for the tests:
no such file can be made from Python's own libraries, and none is shipped."""

import struct

END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _entry(name, kind, child=NOSTREAM, right=NOSTREAM, start=END, size=0):
    raw = name.encode("utf-16-le") + b"\x00\x00"
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBB", len(raw), kind, 1)
        + struct.pack("<III", NOSTREAM, right, child)
        + b"\x00" * 16
        + b"\x00" * 4
        + b"\x00" * 16
        + struct.pack("<IQ", start, size)
    )


def compound_file(streams=(), storages=()):
    """Return a minimal OLE2 compound file holding ``streams`` (name, 4096-byte-padded data) and empty storages."""
    names = [(n, d.ljust(4096, b"\x00")[: max(4096, len(d))]) for n, d in streams]
    sectors, fat = [], [FATSECT, END]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for _, data in names:
        count = -(-len(data) // 512)
        first = len(fat)
        starts.append(first)
        fat.extend(range(first + 1, first + count))
        fat.append(END)
        sectors.append(data.ljust(count * 512, b"\x00"))
    fat += [FREE] * (128 - len(fat))
    children = [(n, 2, s, len(d)) for (n, d), s in zip(names, starts, strict=True)] + [(n, 1, END, 0) for n in storages]
    entries = [_entry("Root Entry", 5, child=1 if children else NOSTREAM)]
    for i, (name, kind, start, size) in enumerate(children):
        right = i + 2 if i + 1 < len(children) else NOSTREAM
        entries.append(_entry(name, kind, right=right, start=start, size=size))
    directory = b"".join(entries).ljust(512, b"\x00")
    assert len(entries) <= 4
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREE) * 108
    )
    return header + struct.pack("<128I", *fat) + directory + b"".join(sectors)
