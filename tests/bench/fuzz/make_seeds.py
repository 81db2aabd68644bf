#!/usr/bin/env python3
"""Writes small valid inputs for each fuzz target into OUT/<reader>/ (seed corpora)."""
import gzip
import os
import struct
import sys
import zlib

out = sys.argv[1]


def put(reader, name, data):
    d = os.path.join(out, reader)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def nifti(dims=(4, 3, 2), datatype=4, bitpix=16, qform=1, sform=1):
    h = bytearray(348)
    struct.pack_into("<i", h, 0, 348)
    struct.pack_into("<8h", h, 40, 3, dims[0], dims[1], dims[2], 1, 1, 1, 1)
    struct.pack_into("<hh", h, 70, datatype, bitpix)
    struct.pack_into("<8f", h, 76, 1.0, 0.8, 0.8, 2.5, 1, 1, 1, 1)
    struct.pack_into("<f", h, 108, 352.0)
    struct.pack_into("<ff", h, 112, 1.0, 0.0)
    struct.pack_into("<hh", h, 252, qform, sform)
    struct.pack_into("<6f", h, 256, 0, 0, 0, -10, 20, -30)
    struct.pack_into("<12f", h, 280, 0.8, 0, 0, -10, 0, 0.8, 0, 20, 0, 0, 2.5, -30)
    h[344:348] = b"n+1\0"
    n = dims[0] * dims[1] * dims[2]
    voxels = struct.pack("<%dh" % n, *[(i * 37) % 500 - 100 for i in range(n)])
    return bytes(h) + b"\0" * 4 + voxels


put("nifti", "plain.nii", nifti())
put("nifti", "gz.nii", gzip.compress(nifti(), 1))
put("nifti", "u8.nii", nifti((5, 4, 3), 2, 8, 0, 1)[:352] + bytes(60))

raw = struct.pack("<24h", *range(24))
put("nrrd", "raw.nrrd", b"NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nspacings: 0.8 0.8 2.5\n"
    b"encoding: raw\nendian: little\n\n" + raw)
put("nrrd", "gzip.nrrd", b"NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nspace: left-posterior-superior\n"
    b"space directions: (0.8,0,0) (0,0.8,0) (0,0,2.5)\nspace origin: (1,2,3)\nencoding: gzip\nendian: little\n\n"
    + gzip.compress(raw))
put("nrrd", "detached.nhdr", b"NRRD0004\ntype: uchar\ndimension: 3\nsizes: 4 4 4\nspacings: 1 1 1\n"
    b"encoding: raw\ndata file: data.raw\n\n")

put("mha", "local.mha", b"ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementSpacing = 0.8 0.8 2.5\n"
    b"ElementType = MET_SHORT\nElementDataFile = LOCAL\n" + raw)
comp = zlib.compress(raw)
put("mha", "zlib.mha", b"ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nCompressedData = True\n"
    b"CompressedDataSize = %d\nElementType = MET_SHORT\nElementDataFile = LOCAL\n" % len(comp) + comp)
put("mha", "detached.mhd", b"ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_UCHAR\n"
    b"ElementDataFile = data.raw\n")


def element(group, elem, vr, value):
    if len(value) % 2:
        value += b" " if vr not in (b"UI", b"OB") else b"\0"
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


meta_body = element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1")
meta = element(2, 0, b"UL", struct.pack("<I", len(meta_body))) + meta_body
ds = b"".join([
    element(8, 0x16, b"UI", b"1.2.840.10008.5.1.4.1.1.2"),
    element(8, 0x103E, b"LO", b"seed"),
    element(0x20, 0x0E, b"UI", b"1.2.3.4"),
    element(0x20, 0x32, b"DS", b"-10\\20\\-30"),
    element(0x20, 0x37, b"DS", b"1\\0\\0\\0\\1\\0"),
    element(0x28, 0x02, b"US", struct.pack("<H", 1)),
    element(0x28, 0x10, b"US", struct.pack("<H", 3)),
    element(0x28, 0x11, b"US", struct.pack("<H", 4)),
    element(0x28, 0x30, b"DS", b"0.8\\0.8"),
    element(0x28, 0x100, b"US", struct.pack("<H", 16)),
    element(0x28, 0x101, b"US", struct.pack("<H", 16)),
    element(0x28, 0x102, b"US", struct.pack("<H", 15)),
    element(0x28, 0x103, b"US", struct.pack("<H", 1)),
    element(0x7FE0, 0x10, b"OW", raw[:24]),
])
put("dicom", "slice.dcm", b"\0" * 128 + b"DICM" + meta + ds)

put("labels", "pairs.txt", b"1=artery,2=vein,3=kidney_left")
put("labels", "table.json", b'{"labels": [{"value": 1, "name": "artery", "color": [216, 101, 79]}]}')
put("labels", "dataset.json", b'{"labels": {"background": 0, "kidney": [1, 2], "tumor": 2}, "regions_class_order": [1, 2]}')
put("labels", "slicer.ctbl", b"# colour table\n0 Background 0 0 0 0\n1 artery 216 101 79 255\n")
put("labels", "snap.txt", b'    1   255    0    0        1  1  1    "Right kidney"\n')
