// The PyTorch side of bench_resnet50: torchvision's resnet50 (ResNet v1.5, the architecture of
// Mox's resnet_v1_50, 25,557,032 parameters at 1000 classes), f32, NCHW (no channels_last, no
// autocast), timed on the same batch, image size and threads as Mox. Training runs first, so
// the peak-memory measurement of the training step sees nothing of inference; peak memory is
// measured as Mox measures it (see bench_resnet50.cpp): the peak resident size is reset through
// /proc/self/clear_refs, then its growth over the resident size just before the first step.
#pragma once

namespace mox::bench {

inline const char* kResNet50TorchBody = R"PY(
import torch.nn.functional as F
import torchvision

def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1

def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

def progress(name, fn):
    total = ARGS["warmup"] + ARGS["reps"]
    count = [0]
    def run():
        t0 = time.perf_counter()
        fn()
        count[0] += 1
        print(f"torch {name} step {count[0]}/{total}: {time.perf_counter() - t0:.2f} s", file=sys.stderr, flush=True)
    return run

B, S, C = ARGS["batch"], ARGS["image_size"], ARGS["num_classes"]
dev = torch.device(ARGS["device"])
model = torchvision.models.resnet50(weights=None, num_classes=C).to(dev)
RESULT["parameters"] = sum(p.numel() for p in model.parameters())
x = torch.randn(B, 3, S, S, device=dev)
y = torch.randint(0, C, (B,), device=dev)

if "train" in ARGS["modes"]:
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=ARGS["lr"], momentum=ARGS["momentum"])
    losses = []
    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())  # also waits for the device, as Mox's item() does
    peak_reset = reset_peak_rss()
    rss0 = status_kib("VmRSS")
    t = median_seconds(progress("train", step))
    hwm = status_kib("VmHWM")
    RESULT["train"] = {"median_s": t, "img_per_s": B / t, "loss_first": losses[0], "loss_last": losses[-1],
                       "rss_before_mib": rss0 / 1024, "peak_rss_growth_mib": (hwm - rss0) / 1024,
                       "peak_reset": peak_reset}
    del opt
    model.zero_grad(set_to_none=True)

if "infer" in ARGS["modes"]:
    model.eval()
    def infer():
        with torch.no_grad():
            model(x).sum().item()
    t = median_seconds(progress("infer", infer))
    RESULT["infer"] = {"median_s": t, "img_per_s": B / t}
)PY";

}  // namespace mox::bench
