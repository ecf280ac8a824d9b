"""Helpers for writing reference cases: each Case names a Mox op (the C++ registry name in
tests/core/ops_*.cpp), its inputs, its arguments and the PyTorch function that defines the
expected result. make_reference.py evaluates them and writes tests/data/ref_<family>.json."""
import torch

GEN = torch.Generator().manual_seed(1234)


def randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=GEN, dtype=torch.float64).to(dtype)


def rand(*shape, lo=0.0, hi=1.0):
    return (torch.rand(*shape, generator=GEN, dtype=torch.float64) * (hi - lo) + lo).float()


def randint(lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=GEN)


class Case:
    """op: registry name; fn(*inputs, **args) -> tensor or tuple of tensors.
    grad: whether to record PyTorch's input gradients (and run Mox's gradcheck);
    requires_grad: per input, default every floating input;
    lowp: also run the op in f16 and bf16 against the f32 reference."""

    def __init__(self, op, name, inputs, fn, args=None, grad=True, requires_grad=None,
                 lowp=False, tol=None):
        self.op, self.name, self.inputs, self.fn = op, name, inputs, fn
        self.args = args or {}
        self.grad = grad
        self.requires_grad = requires_grad
        self.lowp = lowp
        self.tol = tol
