#!/usr/bin/env python3
"""Writes Tests/ABNDataTests/Fixtures.swift: small image files and the values other tools decode
from them, so the Swift tests check against independent implementations.

- PNGs of every colour type and bit depth, written by a hand-rolled encoder (zlib + struct) whose
  pixels follow formulas the tests recompute;
- JPEGs (baseline, progressive, grayscale, Adobe CMYK) written by Pillow, with Pillow's decoding;
- Pillow's RGB->L conversion of random pixels;
- torch.nn.functional.interpolate(bilinear, align_corners=False) outputs;
- numpy pad/crop/flip/normalise outputs for fixed crop offsets.

Run with the reference environment: $(bash tools/torch-env.sh) tools/make_abndata_fixtures.py
"""
import base64, io, struct, sys, zlib
import numpy as np
from PIL import Image

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/ABNDataTests/Fixtures.swift"
W, H = 5, 3


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, bit_depth, colour_type, rows, palette=None, trns=None):
    """rows: list of bytes objects (already packed samples, without the filter byte)."""
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def v8(x, y, c):
    return (x * 40 + y * 70 + c * 25 + 3) % 256


def v16(x, y, c):
    return (x * 9000 + y * 17000 + c * 5000 + 1234) % 65536


def formula_png(channels, colour_type, depth):
    rows = []
    for y in range(H):
        r = b""
        for x in range(W):
            for c in range(channels):
                r += bytes([v8(x, y, c)]) if depth == 8 else struct.pack(">H", v16(x, y, c))
        rows.append(r)
    return png(W, H, depth, colour_type, rows)


pngs = {}
for name, ch, ct in [("gray", 1, 0), ("grayAlpha", 2, 4), ("rgb", 3, 2), ("rgba", 4, 6)]:
    pngs[name + "8"] = formula_png(ch, ct, 8)
    pngs[name + "16"] = formula_png(ch, ct, 16)
# 2-bit gray: value (x + y) % 4, packed 4 per byte, MSB first.
rows = []
for y in range(H):
    vals = [(x + y) % 4 for x in range(W)] + [0] * 3
    rows.append(bytes((vals[i] << 6) | (vals[i + 1] << 4) | (vals[i + 2] << 2) | vals[i + 3] for i in range(0, W, 4)))
pngs["gray2"] = png(W, H, 2, 0, rows)
# Palette: index (x + 2y) % 4; entries below; tRNS gives the first three entries alpha.
PALETTE = [(10, 20, 30), (200, 100, 0), (0, 255, 128), (77, 88, 99)]
rows = [bytes((x + 2 * y) % 4 for x in range(W)) for y in range(H)]
pngs["palette"] = png(W, H, 8, 3, rows, palette=PALETTE)
pngs["paletteAlpha"] = png(W, H, 8, 3, rows, palette=PALETTE, trns=bytes([0, 128, 255]))


def pillow_jpeg(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    data = buf.getvalue()
    dec = Image.open(io.BytesIO(data))
    dec.load()
    if dec.mode == "CMYK":
        dec = dec.convert("RGB")
    arr = np.asarray(dec, dtype=np.uint8)
    return data, arr


yy, xx = np.mgrid[0:16, 0:24]
rgb = np.stack([(xx * 10) % 256, (yy * 15) % 256, ((xx + yy) * 7) % 256], axis=-1).astype(np.uint8)
jpegs = {}
jpegs["baseline"] = pillow_jpeg(Image.fromarray(rgb, "RGB"), quality=90)
jpegs["progressive"] = pillow_jpeg(Image.fromarray(rgb, "RGB"), quality=80, progressive=True)
jpegs["grayscale"] = pillow_jpeg(Image.fromarray(rgb[:, :, 0], "L"), quality=90)
cmyk = np.stack([rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2], (xx * 3).astype(np.uint8)], axis=-1).astype(np.uint8)
jpegs["cmyk"] = pillow_jpeg(Image.fromarray(cmyk, "CMYK"), quality=95)

rng = np.random.default_rng(7)
luma_rgb = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
luma_rgb[0, :3] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
luma_l = np.asarray(Image.fromarray(luma_rgb, "RGB").convert("L"), dtype=np.uint8)

import torch
import torch.nn.functional as F
bil_in = (torch.from_numpy(rng.integers(0, 64, size=(1, 2, 5, 7)).astype(np.float32)) / 64.0)
bil = {}
for (oh, ow) in [(3, 4), (11, 9), (5, 7), (10, 14)]:
    bil[(oh, ow)] = F.interpolate(bil_in, size=(oh, ow), mode="bilinear", align_corners=False)[0].numpy()

aug_in = (rng.integers(0, 256, size=(3, 6, 5)).astype(np.float32) / 255.0)
mean = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
std = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)
augs = []
for top, left, flip in [(0, 0, False), (4, 4, False), (8, 8, True), (1, 6, True), (7, 2, False)]:
    padded = np.pad(aug_in, ((0, 0), (4, 4), (4, 4)))          # zeros in [0, 1] space
    crop = padded[:, top:top + 6, left:left + 5]
    if flip:
        crop = crop[:, :, ::-1]
    norm = (crop - mean[:, None, None]) / std[:, None, None]
    augs.append((top, left, flip, norm.astype(np.float32)))


def b64(data):
    return '"' + base64.b64encode(bytes(data)).decode() + '"'


def floats(arr):
    return "[" + ", ".join(repr(float(np.float32(v))) for v in np.asarray(arr, dtype=np.float32).ravel()) + "]"


lines = ["// Generated by tools/make_abndata_fixtures.py — do not edit by hand.",
         "// Expected values come from other tools: a hand-rolled PNG encoder (formula pixels), Pillow,",
         "// torch.nn.functional.interpolate and numpy.", "import Foundation", "", "enum Fixtures {",
         f"    static let pngSize = (width: {W}, height: {H})",
         "    static let png: [String: String] = ["]
for k, v in pngs.items():
    lines.append(f"        \"{k}\": {b64(v)},")
lines.append("    ]")
lines.append(f"    static let palette: [[UInt8]] = {[list(p) for p in PALETTE]}")
lines.append("    /// name: (file, width, height, channels, Pillow's decoded pixels)")
lines.append("    static let jpeg: [String: (file: String, width: Int, height: Int, channels: Int, pixels: String)] = [")
for k, (data, arr) in jpegs.items():
    ch = 1 if arr.ndim == 2 else arr.shape[2]
    lines.append(f"        \"{k}\": ({b64(data)}, {arr.shape[1]}, {arr.shape[0]}, {ch}, {b64(arr.tobytes())}),")
lines.append("    ]")
lines.append(f"    static let lumaRGB = {b64(luma_rgb.tobytes())}")
lines.append(f"    static let lumaPillowL = {b64(luma_l.tobytes())}")
lines.append(f"    static let bilinearInput: [Float] = {floats(bil_in[0].numpy())}  // 2x5x7")
lines.append("    static let bilinearTorch: [(height: Int, width: Int, values: [Float])] = [")
for (oh, ow), arr in bil.items():
    lines.append(f"        ({oh}, {ow}, {floats(arr)}),")
lines.append("    ]")
lines.append(f"    static let augmentInput: [Float] = {floats(aug_in)}  // 3x6x5 in [0, 1]")
lines.append("    static let augmentNumpy: [(top: Int, left: Int, flip: Bool, values: [Float])] = [")
for top, left, flip, arr in augs:
    lines.append(f"        ({top}, {left}, {'true' if flip else 'false'}, {floats(arr)}),")
lines.append("    ]")
lines.append("}")
open(OUT, "w").write("\n".join(lines) + "\n")
print("wrote", OUT)
