"""Reductions over any dims, with keepdim."""
import torch

from refcase import Case, randn

x = randn(3, 4, 5)
CASES = [
    Case("sum", "sum all", [randn(3, 4)], lambda x: x.sum(), lowp=True),
    Case("sum", "sum dims 0,2 keepdim", [x], lambda x, dims, keepdim: x.sum(dims, keepdim), args={"dims": [0, 2], "keepdim": True}),
    Case("sum", "sum middle", [randn(3, 4, 5)], lambda x, dims: x.sum(dims), args={"dims": [1]}),
    Case("mean", "mean last", [randn(3, 4)], lambda x, dims: x.mean(dims), args={"dims": [-1]}, lowp=True),
    Case("mean", "mean all", [randn(2, 3)], lambda x: x.mean()),
    Case("var", "var unbiased", [randn(3, 5)], lambda x, dims, unbiased: x.var(dims, unbiased=unbiased),
         args={"dims": [1], "unbiased": True}),
    Case("var", "var biased keepdim", [randn(3, 4, 2)], lambda x, dims, unbiased, keepdim: x.var(dims, unbiased=unbiased, keepdim=keepdim),
         args={"dims": [0, 2], "unbiased": False, "keepdim": True}),
    Case("std", "std", [randn(4, 5)], lambda x, dims, unbiased: x.std(dims, unbiased=unbiased),
         args={"dims": [0], "unbiased": True}),
    Case("amax", "amax dims", [randn(3, 4, 2)], lambda x, dims: torch.amax(x, dims), args={"dims": [1, 2]}),
    Case("amin", "amin keepdim", [randn(3, 4)], lambda x, dims, keepdim: torch.amin(x, dims, keepdim),
         args={"dims": [0], "keepdim": True}),
    Case("max", "max dim", [randn(3, 4)], lambda x, dim: torch.max(x, dim), args={"dim": 1}),
    Case("max", "max dim 0 keepdim", [randn(3, 4, 2)], lambda x, dim, keepdim: torch.max(x, dim, keepdim),
         args={"dim": 0, "keepdim": True}),
    Case("min", "min dim", [randn(3, 4)], lambda x, dim: torch.min(x, dim), args={"dim": -1}),
    Case("argmax", "argmax", [randn(4, 5)], lambda x, dim: torch.argmax(x, dim), args={"dim": 1}, grad=False),
    Case("argmin", "argmin keepdim", [randn(4, 5)], lambda x, dim, keepdim: torch.argmin(x, dim, keepdim),
         args={"dim": 0, "keepdim": True}, grad=False),
    Case("logsumexp", "logsumexp", [randn(3, 4) * 10], lambda x, dims: torch.logsumexp(x, dims), args={"dims": [1]}),
    Case("logsumexp", "logsumexp two dims keepdim", [randn(2, 3, 4)], lambda x, dims, keepdim: torch.logsumexp(x, dims, keepdim),
         args={"dims": [0, 2], "keepdim": True}),
]
