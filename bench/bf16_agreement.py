#!/usr/bin/env python3
"""How far `--precision bf16` moves a model's outputs from FP32's, on real images.

Runs `abn-hitl explain --json` on every image of DATA/SPLIT (an ImageFolder split) once per precision
and prints: top-1 agreement of the perception branch (and the attention branch), the largest and the
mean absolute difference of the attention map (raw, at map resolution; sigmoid maps lie in [0, 1]),
the largest difference of the perception branch's probabilities, and each precision's wall time for
`abn-hitl eval` on the split (alternating, best of ROUNDS). Needs a CPU with AVX512_BF16.

  python3 bench/bf16_agreement.py MODEL DATA [--split test] [--rounds 3] [--bin PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))


def explain(binary, model, images, precision):
    results = []
    for start in range(0, len(images), 200):  # keep the command line short
        out = subprocess.run([binary, "explain", "--model", model, "--json", "--precision", precision] + images[start:start + 200],
                             check=True, capture_output=True, text=True).stdout
        results += json.loads(out)["results"]
    return results


def flat(rows):
    return [v for row in rows for v in row]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("--split", default="test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bin", default=None)
    args = parser.parse_args()
    binary = args.bin or os.path.join(subprocess.run(["swift", "build", "-c", "release", "-Xswiftc", "-enable-testing", "--show-bin-path"],
                                                     cwd=os.path.dirname(here), check=True, capture_output=True, text=True).stdout.strip(), "abn-hitl")
    root = os.path.join(args.data, args.split)
    images = sorted(os.path.join(root, c, f) for c in os.listdir(root) if os.path.isdir(os.path.join(root, c))
                    for f in os.listdir(os.path.join(root, c)) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if not images:
        sys.exit(f"{root}: no PNG or JPEG images")
    fp32, bf16 = explain(binary, args.model, images, "fp32"), explain(binary, args.model, images, "bf16")
    n = len(images)
    agree = sum(a["predicted"] == b["predicted"] for a, b in zip(fp32, bf16))
    att_agree = sum(max(range(len(a["attention_probabilities"])), key=a["attention_probabilities"].__getitem__) ==
                    max(range(len(b["attention_probabilities"])), key=b["attention_probabilities"].__getitem__) for a, b in zip(fp32, bf16))
    diffs = [abs(x - y) for a, b in zip(fp32, bf16) for x, y in zip(flat(a["attention_map"]), flat(b["attention_map"]))]
    map_max = max(max(flat(a["attention_map"])) for a in fp32)
    prob = max(abs(x - y) for a, b in zip(fp32, bf16) for x, y in zip(a["probabilities"], b["probabilities"]))
    times = {"fp32": [], "bf16": []}
    for _ in range(args.rounds):
        for precision in times:
            start = time.perf_counter()
            subprocess.run([binary, "eval", "--model", args.model, "--data", args.data, "--split", args.split, "--precision", precision],
                           check=True, capture_output=True)
            times[precision].append(time.perf_counter() - start)
    print(f"{args.model} on {root}: {n} images")
    print(f"top-1 agreement, perception branch: {agree}/{n} ({100 * agree / n:.2f}%); attention branch: {att_agree}/{n} ({100 * att_agree / n:.2f}%)")
    print(f"attention map: largest |bf16 - fp32| {max(diffs):.5f}, mean {sum(diffs) / len(diffs):.6f} (fp32 map's largest value {map_max:.3f})")
    print(f"perception probabilities: largest |bf16 - fp32| {prob:.5f}")
    print(f"eval wall time, best of {args.rounds} (decode included): fp32 {min(times['fp32']):.2f} s, bf16 {min(times['bf16']):.2f} s, "
          f"bf16 {min(times['fp32']) / min(times['bf16']):.2f}x fp32's speed")


if __name__ == "__main__":
    main()
