#!/usr/bin/python3
"""Writes tests/data/optimizer_steps.json: three update steps of every MoXing optimizer on two
small f64 parameters with fixed gradients, the reference for tests/nn/test_optimizers.cpp.
Run from anywhere: /usr/bin/python3 tests/ref/make_optimizer_reference.py

Where PyTorch's optimizer computes TensorFlow 1's update rule (tf.train.*Optimizer, which Mox
follows), torch.optim is the reference, with arguments chosen to match TF's definition:
  sgd       torch.optim.SGD(lr)
  momentum  torch.optim.SGD(lr, momentum, dampening=0[, nesterov=True]): TF's accumulation
            a = m*a + g; w -= lr*a (nesterov: w -= lr*(g + m*a)) is torch's buffer update
  adadelta  torch.optim.Adadelta(lr, rho, eps) with TF's defaults rho=0.95, eps=1e-8 passed
            explicitly (torch's own defaults differ)
  adagrad   torch.optim.Adagrad(lr, initial_accumulator_value=0.1, eps=0): TF divides by
            sqrt(accumulator) with no epsilon and starts the accumulator at 0.1
  weight decay: torch's weight_decay adds wd*w to the gradient, as Mox does.

adam, rmsprop and ftrl are NOT taken from torch, because TF 1 defines them differently:
  adam      TF puts epsilon outside the bias correction ("epsilon hat"):
            lr_t = lr*sqrt(1-b2^t)/(1-b1^t); w -= lr_t*m/(sqrt(v) + eps)
            (torch: w -= lr*m_hat/(sqrt(v_hat) + eps))
  rmsprop   TF's mean-square slot starts at 1.0 (torch's at 0), epsilon sits inside the sqrt
            and momentum accumulates lr*g/sqrt(ms + eps)
  ftrl      torch has no FTRL-Proximal
so this script implements TensorFlow's documented formulas for those three in plain NumPy
(tf.raw_ops.ApplyAdam / ApplyRMSProp / ApplyFtrl, written out in the functions below).
"""
import json
import pathlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "data" / "optimizer_steps.json"

# Two parameters (so per-parameter slots are exercised) and three steps of fixed gradients.
# p1[0] has a tiny gradient so FTRL with l1 regularization zeroes it.
PARAMS = [([2, 2], [0.5, -1.0, 2.0, -0.25]), ([3], [0.0, 0.3, -0.7])]
GRADS = [
    [[0.1, -0.2, 0.3, 0.05], [0.001, -0.4, 0.25]],
    [[-0.05, 0.15, 0.2, -0.1], [0.002, 0.1, -0.3]],
    [[0.3, 0.0, -0.1, 0.2], [-0.001, 0.05, 0.5]],
]

# name, Mox optimizer, learning rate, Mox arguments, reference
TORCH_CASES = [
    ("sgd", "sgd", 0.1, {}, lambda p, lr: torch.optim.SGD(p, lr=lr)),
    ("sgd_weight_decay", "sgd", 0.1, {"weight_decay": 0.1},
     lambda p, lr: torch.optim.SGD(p, lr=lr, weight_decay=0.1)),
    ("momentum", "momentum", 0.1, {"momentum": 0.9},
     lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, dampening=0)),
    ("momentum_default", "momentum", 0.05, {},  # Mox's default momentum is 0.9
     lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, dampening=0)),
    ("nesterov", "momentum", 0.1, {"momentum": 0.8, "use_nesterov": 1},
     lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.8, dampening=0, nesterov=True)),
    ("momentum_weight_decay", "momentum", 0.1, {"momentum": 0.9, "weight_decay": 0.01},
     lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, dampening=0, weight_decay=0.01)),
    ("adadelta", "adadelta", 1.0, {"rho": 0.9, "epsilon": 1e-6},
     lambda p, lr: torch.optim.Adadelta(p, lr=lr, rho=0.9, eps=1e-6)),
    ("adadelta_default", "adadelta", 0.001, {},  # TF defaults rho=0.95, epsilon=1e-8
     lambda p, lr: torch.optim.Adadelta(p, lr=lr, rho=0.95, eps=1e-8)),
    ("adagrad", "adagrad", 0.1, {},  # TF default initial_accumulator_value=0.1
     lambda p, lr: torch.optim.Adagrad(p, lr=lr, initial_accumulator_value=0.1, eps=0)),
    ("adagrad_init", "adagrad", 0.5, {"initial_accumulator_value": 0.5},
     lambda p, lr: torch.optim.Adagrad(p, lr=lr, initial_accumulator_value=0.5, eps=0)),
]


def run_torch(make, lr):
    params = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_() for s, v in PARAMS]
    opt = make(params, lr)
    steps = []
    for grads in GRADS:
        for p, (s, _), g in zip(params, PARAMS, grads):
            p.grad = torch.tensor(g, dtype=torch.float64).reshape(s)
        opt.step()
        steps.append([p.detach().reshape(-1).tolist() for p in params])
    return steps


# ---- TensorFlow 1 formulas in NumPy (the three optimizers torch does not define TF's way)

def tf_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    def init(w):
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def update(w, g, s, t):  # t counts from 1
        lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        s["m"] = beta1 * s["m"] + (1 - beta1) * g
        s["v"] = beta2 * s["v"] + (1 - beta2) * g * g
        return w - lr_t * s["m"] / (np.sqrt(s["v"]) + epsilon)
    return init, update


def tf_rmsprop(lr, decay=0.9, momentum=0.0, epsilon=1e-10):
    def init(w):
        return {"ms": np.ones_like(w), "mom": np.zeros_like(w)}  # TF: rms slot starts at 1

    def update(w, g, s, t):
        s["ms"] = decay * s["ms"] + (1 - decay) * g * g
        s["mom"] = momentum * s["mom"] + lr * g / np.sqrt(s["ms"] + epsilon)
        return w - s["mom"]
    return init, update


def tf_ftrl(lr, learning_rate_power=-0.5, initial_accumulator_value=0.1,
            l1_regularization_strength=0.0, l2_regularization_strength=0.0):
    p, l1, l2 = learning_rate_power, l1_regularization_strength, l2_regularization_strength

    def init(w):
        return {"accum": np.full_like(w, initial_accumulator_value), "linear": np.zeros_like(w)}

    def update(w, g, s, t):
        accum_new = s["accum"] + g * g
        s["linear"] = s["linear"] + g - (accum_new ** -p - s["accum"] ** -p) / lr * w
        quadratic = 1.0 / (accum_new ** p * lr) + 2 * l2
        z = s["linear"]
        s["accum"] = accum_new
        return np.where(np.abs(z) > l1, (np.sign(z) * l1 - z) / quadratic, 0.0)
    return init, update


NUMPY_CASES = [
    ("adam", "adam", 0.01, {}, tf_adam(0.01)),
    ("adam_args", "adam", 0.05, {"beta1": 0.8, "beta2": 0.99, "epsilon": 0.01},
     tf_adam(0.05, beta1=0.8, beta2=0.99, epsilon=0.01)),
    ("rmsprop", "rmsprop", 0.01, {}, tf_rmsprop(0.01)),
    ("rmsprop_args", "rmsprop", 0.02, {"decay": 0.8, "momentum": 0.5, "epsilon": 1e-6},
     tf_rmsprop(0.02, decay=0.8, momentum=0.5, epsilon=1e-6)),
    ("ftrl", "ftrl", 0.1, {}, tf_ftrl(0.1)),
    ("ftrl_args", "ftrl", 0.2,
     {"learning_rate_power": -0.6, "initial_accumulator_value": 0.2,
      "l1_regularization_strength": 0.05, "l2_regularization_strength": 0.1},
     tf_ftrl(0.2, learning_rate_power=-0.6, initial_accumulator_value=0.2,
             l1_regularization_strength=0.05, l2_regularization_strength=0.1)),
]


def run_numpy(rule):
    init, update = rule
    params = [np.array(v, dtype=np.float64).reshape(s) for s, v in PARAMS]
    slots = [init(w) for w in params]
    steps = []
    for t, grads in enumerate(GRADS, start=1):
        for i, ((s, _), g) in enumerate(zip(PARAMS, grads)):
            params[i] = update(params[i], np.array(g, dtype=np.float64).reshape(s), slots[i], t)
        steps.append([w.reshape(-1).tolist() for w in params])
    return steps


def main():
    cases = []
    for name, opt, lr, args, make in TORCH_CASES:
        cases.append({"name": name, "optimizer": opt, "lr": lr, "args": args, "source": "torch",
                      "steps": run_torch(make, lr)})
    for name, opt, lr, args, rule in NUMPY_CASES:
        cases.append({"name": name, "optimizer": opt, "lr": lr, "args": args,
                      "source": "tf-formula", "steps": run_numpy(rule)})
    doc = {"params": [{"shape": s, "data": v} for s, v in PARAMS], "grads": GRADS, "cases": cases}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{OUT.relative_to(HERE.parent.parent)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
