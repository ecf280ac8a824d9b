"""Views, joins and cuts."""
import torch
import torch.nn.functional as F

from refcase import Case, randn

CASES = [
    Case("concat", "concat dim 0", [randn(2, 3), randn(4, 3)], lambda a, b, dim: torch.cat([a, b], dim), args={"dim": 0}),
    Case("concat", "concat dim -1 three", [randn(2, 1), randn(2, 3), randn(2, 2)],
         lambda a, b, c, dim: torch.cat([a, b, c], dim), args={"dim": -1}),
    Case("stack", "stack dim 1", [randn(2, 3), randn(2, 3)], lambda a, b, dim: torch.stack([a, b], dim), args={"dim": 1}),
    Case("split", "split even", [randn(6, 2)], lambda x, size, dim: torch.split(x, size, dim), args={"size": 2, "dim": 0}),
    Case("split", "split uneven", [randn(2, 5)], lambda x, size, dim: torch.split(x, size, dim), args={"size": 2, "dim": 1}),
    Case("split", "split sizes", [randn(2, 6)], lambda x, sizes, dim: torch.split(x, sizes, dim),
         args={"sizes": [1, 3, 2], "dim": 1}),
    Case("pad", "pad last two dims", [randn(2, 3, 4)], lambda x, pads, value: F.pad(x, pads, value=value),
         args={"pads": [1, 2, 0, 1], "value": 0.5}),
    Case("reshape", "reshape with -1", [randn(2, 3, 4)], lambda x, shape: x.reshape(shape), args={"shape": [4, -1]}),
    Case("transpose", "transpose", [randn(2, 3, 4)], lambda x, d0, d1: x.transpose(d0, d1), args={"d0": 0, "d1": 2}),
    Case("permute", "permute", [randn(2, 3, 4)], lambda x, dims: x.permute(dims), args={"dims": [2, 0, 1]}),
    Case("slice", "slice with step", [randn(7, 3)], lambda x, dim, start, end, step: x[start:end:step],
         args={"dim": 0, "start": 1, "end": 6, "step": 2}),
    Case("slice", "slice negative", [randn(3, 5)], lambda x, dim, start, end: x[:, start:end],
         args={"dim": 1, "start": -4, "end": -1}),
    Case("select", "select", [randn(3, 4)], lambda x, dim, index: x.select(dim, index), args={"dim": 1, "index": -1}),
    Case("expand", "expand", [randn(3, 1)], lambda x, shape: x.expand(shape), args={"shape": [2, 3, 4]}),
    Case("squeeze", "squeeze all", [randn(1, 3, 1, 2)], lambda x: x.squeeze()),
    Case("squeeze", "squeeze dim", [randn(1, 3, 1, 2)], lambda x, dim: x.squeeze(dim), args={"dim": 2}),
    Case("unsqueeze", "unsqueeze", [randn(3, 2)], lambda x, dim: x.unsqueeze(dim), args={"dim": 1}),
    Case("flatten", "flatten middle", [randn(2, 3, 2, 2)], lambda x, start, end: x.flatten(start, end),
         args={"start": 1, "end": 2}),
    Case("contiguous", "contiguous of a transpose", [randn(3, 4)], lambda x: x.t().contiguous()),
    Case("sum_to", "sum_to broadcast source", [randn(2, 3, 4)], lambda x, shape: x.sum(0).sum(1, keepdim=True),
         args={"shape": [3, 1]}),
]
