"""Batch norm (4-d, 3-d and 2-d inputs; training and eval; with and without affine parameters;
the running-statistics update) and dropout (p = 0 and eval mode, which PyTorch defines as the
identity)."""
import torch.nn.functional as F

from refcase import Case, rand, randn


def batch_norm(x, *params, training, momentum, eps, affine, running, clone_running=False):
    """Inputs as the Mox registry entry reads them: x [, weight, bias] [, running_mean, running_var]."""
    rest = list(params)
    w = b = rm = rv = None
    if affine:
        w, b, rest = rest[0], rest[1], rest[2:]
    if running:
        rm, rv = rest[0], rest[1]
    if clone_running:
        rm, rv = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
    return (y, rm, rv) if clone_running else y


def bn_args(training, affine, running, momentum=0.1, eps=1e-5, **extra):
    return dict(training=training, momentum=momentum, eps=eps, affine=affine, running=running,
                **extra)


def affine(c):
    return [rand(c, lo=0.5, hi=1.5), randn(c)]


def running(c):
    return [randn(c) * 0.5, rand(c, lo=0.5, hi=2.0)]


CASES = [
    Case("batch_norm", "batch_norm 4-d training affine", [randn(4, 3, 5, 6) * 2 + 1] + affine(3),
         batch_norm, args=bn_args(True, True, False), lowp=True),
    Case("batch_norm", "batch_norm 4-d training no affine", [randn(2, 4, 3, 3) * 0.5 - 2],
         batch_norm, args=bn_args(True, False, False)),
    Case("batch_norm", "batch_norm 3-d training affine eps 1e-3", [randn(4, 3, 7)] + affine(3),
         batch_norm, args=bn_args(True, True, False, eps=1e-3)),
    Case("batch_norm", "batch_norm 2-d training affine", [randn(8, 5) * 3 + 0.5] + affine(5),
         batch_norm, args=bn_args(True, True, False), lowp=True),
    Case("batch_norm", "batch_norm 2-d training no affine", [randn(6, 4)], batch_norm,
         args=bn_args(True, False, False)),
    Case("batch_norm", "batch_norm 4-d eval affine", [randn(3, 3, 4, 5)] + affine(3) + running(3),
         batch_norm, args=bn_args(False, True, True),
         requires_grad=[True, True, True, False, False], lowp=True),
    Case("batch_norm", "batch_norm 4-d eval no affine", [randn(2, 3, 4, 4)] + running(3),
         batch_norm, args=bn_args(False, False, True), requires_grad=[True, False, False]),
    Case("batch_norm", "batch_norm 2-d eval affine", [randn(7, 4)] + affine(4) + running(4),
         batch_norm, args=bn_args(False, True, True),
         requires_grad=[True, True, True, False, False]),
    Case("batch_norm", "batch_norm 4-d training updates running stats",
         [randn(4, 3, 2, 5) + 1] + affine(3) + running(3), batch_norm,
         args=bn_args(True, True, True, momentum=0.3, clone_running=True), grad=False),
    Case("batch_norm", "batch_norm 2-d training updates running stats",
         [randn(10, 6) * 2] + running(6), batch_norm,
         args=bn_args(True, False, True, clone_running=True), grad=False),
    Case("dropout", "dropout p=0 in training", [randn(3, 4)],
         lambda x, p, training, seed: F.dropout(x, p, training),
         args={"p": 0.0, "training": True, "seed": 7}, lowp=True),
    Case("dropout", "dropout in eval mode", [randn(2, 3, 4)],
         lambda x, p, training, seed: F.dropout(x, p, training),
         args={"p": 0.5, "training": False, "seed": 7}),
]
