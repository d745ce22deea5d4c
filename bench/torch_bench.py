"""The PyTorch side of bench/compare.sh: the official ResNet-ABN architecture (tools/abn_torch.py),
random data, the same measurement as `abn-hitl bench` (training steps: forward, both losses,
backward, SGD update; inference: eval-mode forward under no_grad), after warm-up. Prints one JSON object."""
import argparse, json, os, resource, sys, time
import torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from abn_torch import ABN

p = argparse.ArgumentParser()
p.add_argument("--arch", default="cifar-resnet20")
p.add_argument("--batch-size", type=int, default=64)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
family, depth = a.arch.split("-resnet")
size, classes = (32, 10) if family == "cifar" else (224, 1000)
model = ABN(family, int(depth), classes)
x = torch.randn(a.batch_size, 3, size, size)
y = torch.randint(0, classes, (a.batch_size,))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

def train_step():
    opt.zero_grad()
    att, per, _ = model(x)
    (torch.nn.functional.cross_entropy(att, y) + torch.nn.functional.cross_entropy(per, y)).backward()
    opt.step()

def infer():
    with torch.no_grad():
        model(x)

def measure(body):
    for _ in range(2):
        body()
    start = time.perf_counter()
    for _ in range(a.steps):
        body()
    return a.steps * a.batch_size / (time.perf_counter() - start)

model.train()
train = measure(train_step)
model.eval()
inference = measure(infer)
print(json.dumps({"arch": a.arch, "batch_size": a.batch_size, "threads": a.threads, "torch": torch.__version__,
                  "train_images_per_second": train, "inference_images_per_second": inference,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
