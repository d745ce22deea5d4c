"""The PyTorch side of bench/compare.sh: the official ABN architecture (tools/abn_torch.py),
random data, the same measurement as `abn-hitl bench` (training steps: forward, both losses,
backward, SGD update; inference: eval-mode forward under no_grad), after warm-up. Prints one JSON object.

--peer says who runs the model:
  eager        PyTorch as written (the default)
  compile      torch.compile (inductor, default mode) for both the training step's forward and inference
  onnxruntime  inference only: the model exported to ONNX and run by onnxruntime with every graph
               optimisation, `threads` intra-op threads, sequential execution, no spinning
               (training is not a peer's job there: it reports no training figure)"""
import argparse, json, os, resource, sys, tempfile, time, warnings
import torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from abn_torch import build

p = argparse.ArgumentParser()
p.add_argument("--arch", default="cifar-resnet20")
p.add_argument("--batch-size", type=int, default=64)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--peer", choices=["eager", "compile", "onnxruntime"], default="eager")
# bf16: inference under CPU autocast to bfloat16 (convolutions and matmuls in bf16), as abn-hitl's
# --precision bf16; training stays fp32 on both sides, and onnxruntime reports no bf16 figure.
p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
a = p.parse_args()
torch.set_num_threads(a.threads)
imagenet = a.arch.startswith("imagenet-") or a.arch in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
size, classes = (224, 1000) if imagenet else (32, 10)
torch.manual_seed(0)
model = build(a.arch, classes)
x = torch.randn(a.batch_size, 3, size, size)
y = torch.randint(0, classes, (a.batch_size,))


def measure(body):
    # Warm-up includes compilation (torch.compile) and the first allocations, as in `abn-hitl bench`.
    for _ in range(2):
        body()
    start = time.perf_counter()
    for _ in range(a.steps):
        body()
    return a.steps * a.batch_size / (time.perf_counter() - start)


def torch_rates(run):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def train_step():
        opt.zero_grad()
        att, per, _ = run(x)
        (torch.nn.functional.cross_entropy(att, y) + torch.nn.functional.cross_entropy(per, y)).backward()
        opt.step()

    def infer():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            run(x)

    model.train()
    train = measure(train_step)
    model.eval()
    return train, measure(infer)


def onnxruntime_rate():
    import onnxruntime as ort
    model.eval()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "abn.onnx")
        # The TorchScript exporter: the graph is static (fixed batch), which is onnxruntime's best case.
        warnings.simplefilter("ignore")   # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["attention", "perception", "map"],
                          opset_version=17, dynamo=False)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = a.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Spinning threads help only on an otherwise idle machine; abn-hitl does not spin either.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    # The peer must compute the same model, or its speed means nothing.
    with torch.no_grad():
        expected = model(x)
    for name, got, want in zip(["attention", "perception", "map"], session.run(None, feed), expected):
        if abs(torch.from_numpy(got) - want).max().item() > 1e-3:
            sys.exit(f"torch_bench: onnxruntime's {name} output differs from PyTorch's")
    return None, measure(lambda: session.run(None, feed)), ort.__version__


versions = {"torch": torch.__version__}
if a.peer == "eager":
    train, inference = torch_rates(model)
elif a.peer == "compile":
    train, inference = torch_rates(torch.compile(model))
elif a.precision == "fp32":
    train, inference, versions["onnxruntime"] = onnxruntime_rate()
else:
    train, inference = None, None
print(json.dumps({"arch": a.arch, "batch_size": a.batch_size, "threads": a.threads, "peer": a.peer, "precision": a.precision, **versions,
                  "train_images_per_second": train, "inference_images_per_second": inference,
                  # a peer that measured nothing (onnxruntime in bf16) has no memory figure to compare either
                  "peak_rss_bytes": None if train is None and inference is None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
