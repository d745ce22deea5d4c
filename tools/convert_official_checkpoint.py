"""Convert an official ABN PyTorch checkpoint into an abn-hitl model file.

The input is what the official code saves (a dict whose 'state_dict' keys carry the DataParallel
'module.' prefix, and which from torch 0.4 on may lack num_batches_tracked) or a bare state_dict.
The output is safetensors with the official tensor names and the abn.* metadata abn-hitl needs:

  python tools/convert_official_checkpoint.py checkpoint.pth.tar --out model.safetensors \\
      --classes airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck

The architecture is inferred from the keys (or given with --arch, e.g. to name a Wide ResNet's dropout,
which a checkpoint does not record): att_layer3 means a CIFAR ResNet (depth 6n+2 from the blocks per
stage), att_layer4 an ImageNet ResNet (depth from the blocks per stage and whether blocks have conv3;
SE-ResNet when blocks have fc1), att_block3 a Wide ResNet (depth 6n+4, widen factor from block1's
width), stage_att a ResNeXt (depth 9n+2, cardinality and base width from stage_1's grouped conv,
widen factor from its output), att_dense3 a DenseNet-BC (depth 6n+4, growth rate from dense1's
layers, compression from trans1). Missing num_batches_tracked entries are added as int64 0; float
tensors are stored as float32. Where tools/abn_torch.py is importable the result is loaded into the
reference architecture with strict=True before it is written.
Normalisation defaults: CIFAR mean (0.4914, 0.4822, 0.4465) std (0.2023, 0.1994, 0.2010);
ImageNet mean (0.485, 0.456, 0.406) std (0.229, 0.224, 0.225)."""
import argparse
import json
import os
import re
import sys
import tempfile

CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
IMAGENET_DEPTHS = {(2, 2, 2, 2, False): 18, (3, 4, 6, 3, False): 34, (3, 4, 6, 3, True): 50,
                   (3, 4, 23, 3, True): 101, (3, 8, 36, 3, True): 152}


class ConversionError(Exception):
    pass


def block_counts(state, stage, separator="."):
    """Number of blocks in a stage: the distinct i in '<stage><separator><i>.*', which must be 0..n-1."""
    indices = {int(m.group(1)) for k in state for m in [re.match(rf"{re.escape(stage + separator)}(\d+)\.", k)] if m}
    if indices != set(range(len(indices))):
        raise ConversionError(f"{stage} has blocks {sorted(indices)}, expected 0..n-1")
    return len(indices)


def equal_counts(state, stages, what):
    """n, when each (stage, separator) in `stages` has the same n ≥ 1 blocks."""
    counts = [block_counts(state, s, sep) for s, sep in stages]
    if len(set(counts)) != 1 or counts[0] == 0:
        raise ConversionError(f"{what} stages have {counts} blocks; expected the same n in each")
    return counts[0]


def shape(state, key):
    if key not in state:
        raise ConversionError(f"missing {key}")
    return tuple(state[key].shape)


def infer_resnet(state):
    if any(k.startswith("att_layer3.") for k in state):
        family, stages, att = "cifar", ["layer1", "layer2", "layer3"], "att_layer3"
    else:
        family, stages, att = "imagenet", ["layer1", "layer2", "layer3", "layer4"], "att_layer4"
    bottleneck = "layer1.0.conv3.weight" in state
    counts = [block_counts(state, s) for s in stages]
    att_count = block_counts(state, att)
    if family == "cifar":
        n = counts[0]
        if counts != [n, n, n] or att_count != n or n == 0:
            raise ConversionError(f"CIFAR ResNet stages have {counts} blocks and {att} {att_count}; expected n in each")
        depth = 6 * n + 2
        if bottleneck != (depth >= 44):
            raise ConversionError(f"depth {depth} from {n} blocks per stage, but blocks are "
                                  f"{'Bottleneck' if bottleneck else 'Basic'} (the official code uses Bottleneck from depth 44)")
        return f"cifar-resnet{depth}"
    depth = IMAGENET_DEPTHS.get(tuple(counts) + (bottleneck,))
    if depth is None or att_count != counts[3]:
        raise ConversionError(f"unknown ImageNet ResNet with blocks {counts}, {att} {att_count}, "
                              f"{'Bottleneck' if bottleneck else 'Basic'}")
    squeeze = "layer1.0.fc1.weight" in state
    return f"imagenet-{'se-' if squeeze else ''}resnet{depth}"


def infer_wide_resnet(state):
    n = equal_counts(state, [("block1", ".layer."), ("block2", ".layer."), ("block3", ".layer."), ("att_block3", ".layer.")],
                     "Wide ResNet")
    width = shape(state, "block1.layer.0.conv1.weight")[0]
    if width % 16:
        raise ConversionError(f"block1 is {width} channels wide, not a multiple of 16")
    return f"cifar-wrn{6 * n + 4}-{width // 16}"


def infer_resnext(state):
    n = equal_counts(state, [(s, f".{s}_bottleneck_") for s in ("stage_1", "stage_2", "stage_3", "stage_att")], "ResNeXt")
    width, per_group = shape(state, "stage_1.stage_1_bottleneck_0.conv_conv.weight")[:2]
    out = shape(state, "stage_1.stage_1_bottleneck_0.conv_expand.weight")[0]
    if width % per_group or out % 64:
        raise ConversionError(f"stage_1's grouped conv ({width} channels, {per_group} per group) or output ({out}) is not a ResNeXt's")
    cardinality = width // per_group
    widen = out // 64
    return f"cifar-resnext{9 * n + 2}-{cardinality}x{per_group}d" + ("" if widen == 4 else f"-w{widen}")


def infer_densenet(state):
    n = equal_counts(state, [("dense1", "."), ("dense2", "."), ("dense3", "."), ("att_dense3", ".")], "DenseNet")
    growth = shape(state, "dense1.0.conv2.weight")[0]
    channels_in, channels_out = shape(state, "trans1.conv1.weight")[1], shape(state, "trans1.conv1.weight")[0]
    compression = next((c for c in range(1, 65) if channels_in // c == channels_out), None)
    if compression is None:
        raise ConversionError(f"trans1 maps {channels_in} to {channels_out} channels: no integer compression gives that")
    return f"cifar-densenet-bc{6 * n + 4}-{growth}" + ("" if compression == 2 else f"-c{compression}")


def infer_arch(state):
    """The abn-hitl architecture name from the state_dict's keys."""
    for marker, infer in (("att_layer3.", infer_resnet), ("att_layer4.", infer_resnet), ("att_block3.", infer_wide_resnet),
                          ("stage_att.", infer_resnext), ("att_dense3.", infer_densenet)):
        if any(k.startswith(marker) for k in state):
            return infer(state)
    raise ConversionError("no att_layer3/att_layer4 (ResNet), att_block3 (Wide ResNet), stage_att (ResNeXt) or "
                          "att_dense3 (DenseNet) tensors: not an official ABN checkpoint")


def family_of(arch):
    return "imagenet" if arch.startswith("imagenet-") else "cifar"


def parse_numbers(text, what):
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ConversionError(f"{what} must be comma-separated numbers, got {text!r}")


def convert(obj, classes_arg, input_arg=None, mean_arg=None, std_arg=None, attention="residual", arch=None):
    """Returns (tensors, metadata) ready for safetensors.torch.save_file."""
    import torch

    state = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not state:
        raise ConversionError("no state_dict inside (expected a dict with 'state_dict', or a state_dict)")
    not_tensors = [k for k, v in state.items() if not torch.is_tensor(v)]
    if not_tensors:
        raise ConversionError(f"not a state_dict: {', '.join(map(str, not_tensors[:3]))} are not tensors")
    stripped = {}
    for k, v in state.items():
        name = k[len("module."):] if k.startswith("module.") else k
        if name in stripped:
            raise ConversionError(f"{name} appears with and without the module. prefix")
        stripped[name] = v
    state = stripped
    inferred = infer_arch(state)
    if arch and arch.lower() != inferred and not arch.lower().startswith(inferred + "-dropout"):
        # --arch may add what keys cannot say (dropout) but not contradict them; the strict load decides the rest.
        print(f"convert_official_checkpoint: note: the keys look like {inferred}; using --arch {arch}", file=sys.stderr)
    arch = arch.lower() if arch else inferred
    family = family_of(arch)
    stem = "conv_1_3x3.weight" if "conv_1_3x3.weight" in state else "conv1.weight"
    classifier = "classifier" if "classifier.weight" in state else "fc"
    for required in (stem, classifier + ".weight", classifier + ".bias"):
        if required not in state:
            raise ConversionError(f"missing {required}")

    tensors = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            tensors[k] = v.detach().to(torch.int64).reshape(()).clone()
        elif v.is_floating_point():
            tensors[k] = v.detach().to(torch.float32).contiguous().clone()
        else:
            raise ConversionError(f"{k} has dtype {v.dtype}, expected a float tensor")
    for k in list(tensors):
        if k.endswith(".running_var"):
            tensors.setdefault(k[: -len("running_var")] + "num_batches_tracked", torch.tensor(0, dtype=torch.int64))

    k_classes = tensors[classifier + ".weight"].shape[0]
    if re.fullmatch(r"\d+", classes_arg):
        classes = [str(i) for i in range(int(classes_arg))]
    else:
        classes = [c.strip() for c in classes_arg.split(",")]
    if len(classes) != k_classes:
        raise ConversionError(f"--classes names {len(classes)} classes but {classifier}.weight has {k_classes} rows")
    if any(not c for c in classes) or len(set(classes)) != len(classes):
        raise ConversionError("--classes names must be non-empty and distinct")

    channels = tensors[stem].shape[1]
    input_text = input_arg or f"{channels}x{32 if family == 'cifar' else 224}x{32 if family == 'cifar' else 224}"
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)", input_text)
    if not m:
        raise ConversionError(f"--input must be CxHxW (e.g. 3x32x32), got {input_text!r}")
    if int(m.group(1)) != channels:
        raise ConversionError(f"--input has {m.group(1)} channels but {stem} takes {channels}")
    mean = parse_numbers(mean_arg, "--mean") if mean_arg else (CIFAR_MEAN if family == "cifar" else IMAGENET_MEAN)[:channels]
    std = parse_numbers(std_arg, "--std") if std_arg else (CIFAR_STD if family == "cifar" else IMAGENET_STD)[:channels]
    if len(mean) != channels or len(std) != channels:
        raise ConversionError(f"--mean and --std need {channels} values each")
    if not all(s > 0 for s in std):
        raise ConversionError("--std values must be positive")
    if attention not in ("residual", "multiply"):
        raise ConversionError(f"--attention must be residual or multiply, got {attention!r}")

    metadata = {"abn.arch": arch, "abn.classes": json.dumps(classes), "abn.input": input_text,
                "abn.mean": json.dumps(mean), "abn.std": json.dumps(std), "abn.attention": attention}
    return tensors, metadata


def verify_strict(tensors, metadata):
    """Loads the tensors into tools/abn_torch.py's reference with strict=True, where it exists."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        from abn_torch import build
    except ImportError:
        return False
    try:
        model = build(metadata["abn.arch"], len(json.loads(metadata["abn.classes"])),
                      in_channels=int(metadata["abn.input"].split("x")[0]), attention=metadata["abn.attention"])
    except ValueError as e:
        raise ConversionError(f"--arch: {e}")
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise ConversionError("does not load into the reference architecture: " + " ".join(str(e).split()))
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="official .pth.tar (or a saved state_dict)")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    p.add_argument("--classes", required=True,
                   help="comma-separated class names in label order, or a count K (names '0'..'K-1')")
    p.add_argument("--input", help="CxHxW (default: conv1's channels x 32x32 for CIFAR, x 224x224 for ImageNet)")
    p.add_argument("--mean", help="comma-separated per-channel mean (default: the official CIFAR/ImageNet normalisation)")
    p.add_argument("--std", help="comma-separated per-channel std (default: the official CIFAR/ImageNet normalisation)")
    p.add_argument("--arch", help="the abn-hitl architecture name (default: inferred from the keys); e.g. "
                                   "cifar-wrn28-10-dropout0.3 to record the dropout a Wide ResNet was trained with")
    p.add_argument("--attention", default="residual", choices=["residual", "multiply"],
                   help="attention mechanism the model was trained with (official: residual)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="unpickle arbitrary objects (only for checkpoints from a source you trust; "
                        "by default torch.load(weights_only=True) reads tensors and plain types only)")
    a = p.parse_args(argv)

    import torch
    from safetensors.torch import save_file

    def fail(message):
        print(f"convert_official_checkpoint: {message}", file=sys.stderr)
        return 1

    try:
        obj = torch.load(a.checkpoint, map_location="cpu", weights_only=not a.trust_pickle)
    except FileNotFoundError:
        return fail(f"{a.checkpoint}: no such file")
    except Exception as e:  # noqa: BLE001 - any unreadable file gets one line
        hint = "" if a.trust_pickle else " (if it holds more than tensors and plain types and you trust it: --trust-pickle)"
        return fail(f"{a.checkpoint}: cannot read: {' '.join(str(e).split())[:300]}{hint}")
    try:
        tensors, metadata = convert(obj, a.classes, a.input, a.mean, a.std, a.attention, a.arch)
        verified = verify_strict(tensors, metadata)
    except ConversionError as e:
        return fail(f"{a.checkpoint}: {e}")

    # Write next to the destination and rename, so a failed run never leaves half a file there.
    out_dir = os.path.dirname(os.path.abspath(a.out))
    fd, temp = tempfile.mkstemp(dir=out_dir, prefix=".convert-", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(temp, 0o666 & ~umask)
        save_file(tensors, temp, metadata=metadata)
        os.replace(temp, a.out)
    except Exception as e:  # noqa: BLE001
        os.unlink(temp)
        return fail(f"{a.out}: cannot write: {e}")
    classes = json.loads(metadata["abn.classes"])
    print(f"wrote {a.out}: {metadata['abn.arch']}, {len(classes)} classes, input {metadata['abn.input']}, "
          f"{len(tensors)} tensors" + (", strict load into tools/abn_torch.py OK" if verified else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
