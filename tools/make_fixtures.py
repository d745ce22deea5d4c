"""Golden fixtures for the Swift engine's parity tests, from the PyTorch reference (tools/abn_torch.py).
Weights and inputs come from a counter-based hash that the Swift tests compute identically
(hash_values below), so only outputs are stored. Run:
  $(bash tools/torch-env.sh) tools/make_fixtures.py [residual|multiply|all] [--out DIR]
residual (the default, as before): Tests/ABNTests/Fixtures/parity-cifar-resnet20.safetensors and
parity-imagenet-resnet18.safetensors, the original ABN's g·(1+M). multiply:
parity-cifar-resnet20-multiply.safetensors, g·M and fine-tuning with L_map (build_multiply below).
zoo: parity-<arch>.safetensors for small members of the other official backbones (ZOO below; --arch
for one of them alone).
--out writes to another folder (to check that a change leaves the files byte-identical)."""
import os
import sys
import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from abn_torch import ABN, build as build_model, classifier_of

MASK = (1 << 64) - 1
# Learning rate of the three-step check: 0.1 on one tiny batch repeated is chaotic enough that
# float32 rounding differences grow past any useful tolerance; 0.01 keeps the check sharp.
LR = 0.01


def fnv1a(name):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def hash_values(name, count):
    """Uniform in [-1, 1): splitmix64 finaliser of fnv1a(name) + (i+1)·golden, top 24 bits."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(fnv1a(name)) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / float(1 << 24) * 2 - 1).astype(np.float32)


# The final Linear layer's names: fc, or classifier in the official ResNeXt.
CLASSIFIERS = ("fc.", "classifier.")


def hashed_state(model, float32_scale=False):
    """Every state_dict entry from the hash, scaled like a trained network's. float32_scale: conv
    weights as u·s in float32 with s rounded once, as HashValues.state computes them, so Swift's and
    PyTorch's starting weights are bit-identical (the default float64 product, which the residual
    fixtures were made with, can differ from it by an ulp)."""
    state = {}
    for name, t in model.state_dict().items():
        n = t.numel()
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0, dtype=torch.int64)
            continue
        u = hash_values(name, n).reshape(t.shape)
        if name.endswith("running_var"):
            v = 1 + 0.25 * (u + 1) / 2
        elif name.endswith("running_mean") or (name.endswith(".bias") and not name.startswith(CLASSIFIERS)):
            v = 0.1 * u
        elif t.dim() == 1 and not name.startswith(CLASSIFIERS):  # BN weight
            v = 1 + 0.1 * u
        elif name.startswith(CLASSIFIERS):
            v = u / np.sqrt(classifier_of(model).in_features)
        elif t.dim() == 2:  # another Linear's weight (SE-ResNet's fc1, fc2): as the classifier's
            v = u / np.sqrt(t.shape[1])
        else:  # conv weight: uniform with the variance of the official normal init
            k = t.shape[0] * t.shape[2] * t.shape[3]  # k·k·C_out, as the official init
            v = u * np.float32(np.sqrt(3.0) * np.sqrt(2.0 / k)) if float32_scale else u * np.sqrt(3.0) * np.sqrt(2.0 / k)
        state[name] = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
    return state


def checks(name, t):
    """Per-tensor summary for models too large to store whole: norm, sum, dot with a hash vector, first 32."""
    flat = t.detach().double().flatten()
    probe = torch.from_numpy(hash_values("probe:" + name, flat.numel()).astype(np.float64))
    return torch.cat([torch.stack([flat.norm(), flat.sum(), (flat * probe).sum()]),
                      torch.nn.functional.pad(flat[:32], (0, max(0, 32 - flat.numel())))]).float()


def three_sgd_steps(model, x, y):
    """SGD (lr LR, momentum 0.9, weight decay 1e-4) on L_att + L_per, three steps on the same batch."""
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=1e-4)
    for _ in range(3):
        opt.zero_grad()
        a, p, _ = model(x)
        (torch.nn.functional.cross_entropy(a, y) + torch.nn.functional.cross_entropy(p, y)).backward()
        opt.step()


def outputs_and_gradients(model, x, y, full, out):
    """Eval and train outputs, the training loss L_att + L_per and every parameter's gradient, into `out`."""
    model.eval()
    with torch.no_grad():
        a, p, m = model(x)
    out.update({"eval.attention_logits": a, "eval.perception_logits": p, "eval.map": m})
    model.train()
    a, p, m = model(x)
    out.update({"train.attention_logits": a.detach(), "train.perception_logits": p.detach(), "train.map": m.detach()})
    loss = torch.nn.functional.cross_entropy(a, y) + torch.nn.functional.cross_entropy(p, y)
    out["train.loss"] = loss.detach().reshape(1)
    loss.backward()
    for name, prm in model.named_parameters():
        # A parameter outside the computation (ResNeXt's bn_att) has no gradient: zero, as the engine keeps it.
        grad = prm.grad if prm.grad is not None else torch.zeros_like(prm)
        out["grad." + name] = grad.detach().clone() if full else checks(name, grad)


def min_relu_margin(model, x, y):
    """The smallest |input| of any ReLU over the forward passes of three SGD steps: float32
    implementations that sum in different orders can disagree on which side of a kink a value near
    0 falls, which flips whole gradient entries, so fixtures avoid inputs with values near a kink."""
    import copy
    model = copy.deepcopy(model)
    margin = [float("inf")]
    for m in model.modules():
        if isinstance(m, torch.nn.ReLU):
            m.register_forward_pre_hook(lambda mod, inp: margin.__setitem__(0, min(margin[0], float(inp[0].detach().abs().min()))))
    model.train()
    three_sgd_steps(model, x, y)
    return margin[0]


def build(arch, classes, shape, batch, labels, full):
    torch.manual_seed(0)
    model = build_model(arch, classes)
    model.load_state_dict(hashed_state(model), strict=True)
    y = torch.tensor(labels)
    best = (-1.0, None)
    for attempt in range(60):
        x = torch.from_numpy(hash_values(f"input{attempt}", batch * int(np.prod(shape))).reshape(batch, *shape))
        margin = min_relu_margin(model, x, y)
        best = max(best, (margin, attempt), key=lambda t: t[0])
        if margin > 2e-5:
            break
    attempt = best[1]
    x = torch.from_numpy(hash_values(f"input{attempt}", batch * int(np.prod(shape))).reshape(batch, *shape))
    print(f"{arch}: input{attempt}, ReLU margin {best[0]:.2e} over three SGD steps")
    out = {"input_labels": y.to(torch.int64), "input": x}
    outputs_and_gradients(model, x, y, full, out)
    for name, buf in model.state_dict().items():
        if "running" in name:
            out["after1." + name] = buf.clone() if full else checks(name, buf)
    # Three SGD steps from the hashed weights on the same batch, in training mode.
    model.load_state_dict(hashed_state(model), strict=True)
    three_sgd_steps(model, x, y)
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            out["step3." + name] = t.clone()
        else:
            out["step3." + name] = t.clone() if full else checks(name, t)
    return {k: v.contiguous() for k, v in out.items()}


def forward_only(arch, classes, shape, batch):
    """Outputs at the full input size, where no input avoids every ReLU kink but forward outputs are robust."""
    torch.manual_seed(0)
    model = build_model(arch, classes)
    model.load_state_dict(hashed_state(model), strict=True)
    x = torch.from_numpy(hash_values("full-input", batch * int(np.prod(shape))).reshape(batch, *shape))
    out = {"full.input": x}
    model.eval()
    with torch.no_grad():
        a, p, m = model(x)
    out.update({"full.eval.attention_logits": a, "full.eval.perception_logits": p, "full.eval.map": m})
    model.train()
    with torch.no_grad():
        a, p, m = model(x)
    out.update({"full.train.attention_logits": a, "full.train.perception_logits": p, "full.train.map": m})
    return out


# ---- g·M and fine-tuning with L_map (parity-cifar-resnet20-multiply.safetensors) ----------------
# Fine-tuning as the engine does it (ABNModel.trainStep with trainable: .attentionAndPerception or
# .attention and MapTargets): L = L_att + L_per + L_map with L_map = γ · mean over the samples that
# have a target map of ‖M′ − M‖₂ (each sample's L2 norm over its h×w map, not squared; samples
# without a map add nothing and do not count in the mean). A frozen part gets no gradient and no
# update (the optimizer sees only the trainable parameters, so no weight decay either), and its
# BatchNorms run on their running statistics in training steps and leave them (and
# num_batches_tracked) unchanged: the engine runs a frozen part as in evaluation mode, so the
# reference puts the frozen modules in eval() (model.train() alone, which a PyTorch user freezing by
# requires_grad=False might do, would normalise with batch statistics and move the running ones).
# With .attention the perception branch is frozen that way too, and the gradient still passes
# through it (in eval mode) to M.
GAMMA = 0.5
FEATURES = ("conv1", "bn1", "layer1", "layer2")  # g(x) of the CIFAR family
PERCEPTION = ("layer3", "fc")
FROZEN = {"attention+perception": FEATURES, "attention": FEATURES + PERCEPTION}


def map_targets(batch, side, without):
    """Target maps M′ [batch, 1, side, side] from the hash, uniform in [0, 1]; sample `without` has none."""
    t = (hash_values("map-target", batch * side * side).reshape(batch, 1, side, side) + 1) / 2
    has = np.ones(batch, dtype=np.int64)
    t[without] = 0
    has[without] = 0
    return torch.from_numpy(np.ascontiguousarray(t, dtype=np.float32)), torch.from_numpy(has)


def map_loss(m, targets, has, gamma):
    """γ · mean over the samples with a target of the L2 norm of M − M′ over the map."""
    norms = (m - targets).flatten(1).norm(dim=1)
    return gamma * norms[has.bool()].mean()


def fine_tune_steps(model, x, y, targets, has, trainable, steps=3):
    """SGD (lr LR, momentum 0.9, weight decay 1e-4) on L_att + L_per + L_map over the trainable set's
    parameters, the frozen modules in eval mode; returns the (L_att, L_per, L_map) of each step."""
    frozen = FROZEN[trainable]
    model.train()
    params = []
    for name, prm in model.named_parameters():
        prm.requires_grad_(not name.startswith(tuple(f + "." for f in frozen)))
        if prm.requires_grad:
            params.append(prm)
    for f in frozen:
        getattr(model, f).eval()
    opt = torch.optim.SGD(params, lr=LR, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        a, p, m = model(x)
        la = torch.nn.functional.cross_entropy(a, y)
        lp = torch.nn.functional.cross_entropy(p, y)
        lm = map_loss(m, targets, has, GAMMA)
        (la + lp + lm).backward()
        opt.step()
        losses.append([la.item(), lp.item(), lm.item()])
    for prm in model.parameters():
        prm.requires_grad_(True)
    model.train()
    return losses


def min_relu_margin_fine_tuning(model, x, y, targets, has, trainable):
    """min_relu_margin over the fine-tuning run's forward passes, leaving out the ReLUs inside the
    frozen feature stages: no gradient goes back through them and their forward is continuous."""
    import copy
    model = copy.deepcopy(model)
    margin = [float("inf")]
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.ReLU) and not name.startswith(FEATURES):
            m.register_forward_pre_hook(lambda mod, inp: margin.__setitem__(0, min(margin[0], float(inp[0].detach().abs().min()))))
    fine_tune_steps(model, x, y, targets, has, trainable)
    return margin[0]


def choose_input(what, shape, batch, margin_of):
    """The first hashed input whose ReLU margin (margin_of(x)) exceeds 2e-5, else the best of 60."""
    best = (-1.0, None)
    for attempt in range(60):
        x = torch.from_numpy(hash_values(f"input{attempt}", batch * int(np.prod(shape))).reshape(batch, *shape))
        best = max(best, (margin_of(x), attempt), key=lambda t: t[0])
        if best[0] > 2e-5:
            break
    print(f"cifar-20 g·M {what}: input{best[1]}, ReLU margin {best[0]:.2e}")
    return torch.from_numpy(hash_values(f"input{best[1]}", batch * int(np.prod(shape))).reshape(batch, *shape))


def build_multiply(shape=(3, 16, 16), batch=4, labels=(3, 1, 4, 1), without=2):
    """cifar-resnet20 with g·M: what build() stores for g·(1+M), and for each trainable set of
    fine-tuning ("ft.attention+perception.", "ft.attention.") the whole state after three steps
    from the hashed weights and the losses of each step. Each of the three runs has its own input
    (".input"), the hashed input that keeps that run's ReLUs farthest from their kinks: over three
    runs of three steps no single input clears every kink by 2e-5 at 16×16 under g·M. The weights are
    hashed_state's with float32_scale, so frozen tensors can be compared bit for bit."""
    torch.manual_seed(0)
    model = ABN("cifar", 20, 10, attention="multiply")
    model.load_state_dict(hashed_state(model, float32_scale=True), strict=True)
    y = torch.tensor(list(labels))
    side = shape[1] // 2  # the CIFAR feature extractor halves the input once
    targets, has = map_targets(batch, side, without)
    x = choose_input("gradients and three SGD steps", shape, batch, lambda x: min_relu_margin(model, x, y))
    out = {"input_labels": y.to(torch.int64), "input": x}
    outputs_and_gradients(model, x, y, True, out)
    for name, buf in model.state_dict().items():
        if "running" in name:
            out["after1." + name] = buf.clone()
    model.load_state_dict(hashed_state(model, float32_scale=True), strict=True)
    three_sgd_steps(model, x, y)
    for name, t in model.state_dict().items():
        out["step3." + name] = t.clone()
    out["ft.map_targets"] = targets
    out["ft.has_map"] = has
    out["ft.gamma"] = torch.tensor([GAMMA], dtype=torch.float32)
    for trainable in FROZEN:
        model = ABN("cifar", 20, 10, attention="multiply")
        model.load_state_dict(hashed_state(model, float32_scale=True), strict=True)
        x = choose_input(f"fine-tuning {trainable}", shape, batch,
                         lambda x: min_relu_margin_fine_tuning(model, x, y, targets, has, trainable))
        losses = fine_tune_steps(model, x, y, targets, has, trainable)
        out[f"ft.{trainable}.input"] = x
        out[f"ft.{trainable}.losses"] = torch.tensor(losses, dtype=torch.float32)
        print(f"  (L_att, L_per, L_map) per step {[[round(v, 4) for v in l] for l in losses]}")
        for name, t in model.state_dict().items():
            out[f"ft.{trainable}.{name}"] = t.clone()
    return {k: v.detach().contiguous() for k, v in out.items()}


def write_residual(here):
    # Gradients at 16×16 (the CIFAR architecture pools globally, so any size works): few enough
    # activations that an input keeping every ReLU input clear of 0 exists. Forward outputs at 32×32.
    cifar = build("cifar-resnet20", 10, (3, 16, 16), 4, [3, 1, 4, 1], True)
    cifar.update(forward_only("cifar-resnet20", 10, (3, 32, 32), 4))
    save_file(cifar, os.path.join(here, "parity-cifar-resnet20.safetensors"),
              metadata={"arch": "cifar-resnet20", "classes": "10", "input": "3x16x16 (gradients), 3x32x32 (full.*)", "torch": torch.__version__})
    save_file(build("imagenet-resnet18", 5, (3, 64, 64), 2, [2, 4], False), os.path.join(here, "parity-imagenet-resnet18.safetensors"),
              metadata={"arch": "imagenet-resnet18", "classes": "5", "input": "3x64x64", "torch": torch.__version__})


def write_multiply(here):
    save_file(build_multiply(), os.path.join(here, "parity-cifar-resnet20-multiply.safetensors"),
              metadata={"arch": "cifar-resnet20", "classes": "10", "attention": "multiply", "input": "3x16x16",
                        "finetune": f"3 SGD steps, lr {LR}, gamma {GAMMA}, sample 2 without a target map",
                        "torch": torch.__version__})


# Small members of each official backbone family: two blocks a stage for Wide ResNet (a projection and
# an identity block), one for ResNeXt (stage_1 keeps 64 channels, so it has the identity shortcut) with
# four groups; two layers a dense block for DenseNet-BC, with the official growth rate 12 (no multiple
# of 8 or 16, so concatenations change layout) and compression 3 (⌊40 / 3⌋ = 13 floors). Gradients at
# 16×16 (as summaries, like ImageNet ResNet-18), forward outputs at 32×32.
ZOO = ["cifar-wrn16-2", "cifar-resnext11-4x4d-w1", "cifar-densenet-bc16-12-c3"]
# ImageNet members, as parity-imagenet-resnet18: 5 classes, a batch of 2 at 64×64, summaries. Basic
# and Bottleneck SE-ResNets (squeeze-excitation, the log-sum map).
ZOO_IMAGENET = ["imagenet-se-resnet18", "imagenet-se-resnet50"]


def write_zoo(here, only=None):
    for arch in ZOO if only is None else [a for a in [only] if a in ZOO]:
        out = build(arch, 10, (3, 16, 16), 4, [3, 1, 4, 1], False)
        out.update(forward_only(arch, 10, (3, 32, 32), 4))
        save_file(out, os.path.join(here, f"parity-{arch}.safetensors"),
                  metadata={"arch": arch, "classes": "10", "input": "3x16x16 (gradients), 3x32x32 (full.*)", "torch": torch.__version__})
    for arch in ZOO_IMAGENET if only is None else [a for a in [only] if a in ZOO_IMAGENET]:
        save_file(build(arch, 5, (3, 64, 64), 2, [2, 4], False), os.path.join(here, f"parity-{arch}.safetensors"),
                  metadata={"arch": arch, "classes": "5", "input": "3x64x64", "torch": torch.__version__})


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="?", choices=["residual", "multiply", "zoo", "all"], default="residual")
    parser.add_argument("--arch", choices=ZOO + ZOO_IMAGENET, help="zoo: write this member's fixture alone")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "ABNTests", "Fixtures"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.which in ("residual", "all"):
        write_residual(args.out)
    if args.which in ("multiply", "all"):
        write_multiply(args.out)
    if args.which in ("zoo", "all"):
        write_zoo(args.out, args.arch)
    print("fixtures written")
