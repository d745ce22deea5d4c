#!/usr/bin/env python3
"""The Pillow + numpy side of the decode benchmark: the same work as ABNData's
measureDecodeThroughput, on one thread. For each image: open and decode with Pillow, to RGB (or L),
to float32 in [0, 1], CHW, zero-pad 4 px, random 32x32 crop, random horizontal flip, normalise;
whole batches of 64 stacked into one array. Prints one JSON line.

Usage: pillow_decode.py DATA_DIR [--split train] [--seconds 5]
"""
import argparse, json, os, time
import numpy as np
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument("root")
ap.add_argument("--split", default="train")
ap.add_argument("--seconds", type=float, default=5)
args = ap.parse_args()

split = os.path.join(args.root, args.split)
files = [os.path.join(split, c, f) for c in sorted(os.listdir(split)) if os.path.isdir(os.path.join(split, c))
         for f in sorted(os.listdir(os.path.join(split, c))) if f.lower().endswith((".png", ".jpg", ".jpeg"))]
first = Image.open(files[0])
mode = "L" if first.mode in ("L", "LA", "I;16") else "RGB"
channels = 1 if mode == "L" else 3
mean = np.full((channels, 1, 1), 0.5, np.float32)
std = np.full((channels, 1, 1), 0.25, np.float32)
rng = np.random.default_rng(1)
pad = 4

start = time.perf_counter()
images = 0
while True:
    order = rng.permutation(len(files))
    for b in range(0, len(order), 64):
        batch = []
        for i in order[b:b + 64]:
            with Image.open(files[i]) as im:
                x = np.asarray(im.convert(mode), dtype=np.float32) / 255.0
            x = x.reshape(x.shape[0], x.shape[1], channels).transpose(2, 0, 1)
            h, w = x.shape[1:]
            padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
            top, left = rng.integers(0, 2 * pad + 1, size=2)
            x = padded[:, top:top + h, left:left + w]
            if rng.random() < 0.5:
                x = x[:, :, ::-1]
            batch.append((x - mean) / std)
        np.stack(batch)
        images += len(batch)
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    if elapsed >= args.seconds:
        break
print(json.dumps({"pillow_images_per_second": images / elapsed, "images": images, "seconds": elapsed}))
