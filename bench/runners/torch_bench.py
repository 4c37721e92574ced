"""PyTorch side of `npm run bench` (run with /usr/bin/python3 and Debian's python3-torch).

One thread (torch.set_num_threads(1), and OPENBLAS_NUM_THREADS=1 from the orchestrator). The
sampling plan mirrors `measure` in bench/common.ts. Prints one `@@RESULT {json}` line.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


def arg(name, default=None):
    if f"--{name}" in sys.argv:
        i = sys.argv.index(f"--{name}")
        if i + 1 < len(sys.argv) and not sys.argv[i + 1].startswith("--"):
            return sys.argv[i + 1]
        return True
    return default


PLAN = dict(warmMs=400, warmCalls=3, budgetMs=1200, minSamples=3, maxSamples=40, sampleMs=4)
if arg("quick"):
    PLAN.update(warmMs=50, warmCalls=1, budgetMs=100, minSamples=2)
if arg("budget"):
    PLAN["budgetMs"] = float(arg("budget"))


def now():
    return time.perf_counter() * 1000.0


def measure(fn):
    t0, calls, last = now(), 0, 0.0
    while calls < PLAN["warmCalls"] or now() - t0 < PLAN["warmMs"]:
        s = now()
        fn()
        last = now() - s
        calls += 1
        if last > PLAN["warmMs"]:
            break
    reps = max(1, math.ceil(PLAN["sampleMs"] / max(last, 1e-3)))
    samples, t0 = [], now()
    while len(samples) < PLAN["maxSamples"] and (len(samples) < PLAN["minSamples"] or now() - t0 < PLAN["budgetMs"]):
        s = now()
        for _ in range(reps):
            fn()
        samples.append((now() - s) / reps)
    return samples


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(320, 100)
        self.fc2 = nn.Linear(100, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = self.dropout(torch.flatten(x, 1))
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def matmul(n, layout):
    a, b = torch.randn(n, n), torch.randn(n, n)
    if layout == "ab":
        return lambda: a @ b
    if layout == "atb":
        return lambda: a.t() @ b  # a view: BLAS runs with its transpose flag
    return lambda: a @ b.t()


def train_step(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def inference(batch):
    model = CNN().eval()
    x = torch.randn(batch, 1, 28, 28)

    def run():
        with torch.no_grad():
            model(x)

    return run


MAKE = {
    "mm512_ab": lambda: matmul(512, "ab"),
    "mm256_atb": lambda: matmul(256, "atb"),
    "mm256_abt": lambda: matmul(256, "abt"),
    "mm1024_atb": lambda: matmul(1024, "atb"),
    "mm1024_abt": lambda: matmul(1024, "abt"),
    "mlp_train": lambda: train_step(
        nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)),
        torch.randn(64, 784),
        torch.randint(0, 10, (64,)),
    ),
    "cnn_train": lambda: train_step(CNN(), torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))),
    "cnn_infer64": lambda: inference(64),
    "cnn_infer1": lambda: inference(1),
}


def blas_library():
    """The BLAS shared object actually mapped into this process (OpenBLAS vs reference)."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and line.split()[-1].startswith("/")}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


wanted = arg("workloads")
wanted = wanted.split(",") if isinstance(wanted, str) else list(MAKE)
results = {}
for wid in wanted:
    if wid in MAKE:
        results[wid] = measure(MAKE[wid]())
notes = [f"torch {torch.__version__}, threads {torch.get_num_threads()}, BLAS {blas_library()}"]
print("\n@@RESULT " + json.dumps({"lib": "pytorch", "notes": notes, "results": results}), flush=True)
