"""Linear algebra: matmul (1-d, 2-d, batched with broadcast batch dims), linear, addmm."""
import torch
import torch.nn.functional as F

from refcase import Case, randn

CASES = [
    Case("matmul", "matmul 1-d . 1-d", [randn(5), randn(5)], torch.matmul),
    Case("matmul", "matmul 2-d . 1-d", [randn(3, 4), randn(4)], torch.matmul),
    Case("matmul", "matmul 1-d . 2-d", [randn(4), randn(4, 3)], torch.matmul),
    Case("matmul", "matmul 2-d . 2-d", [randn(3, 4), randn(4, 5)], torch.matmul, lowp=True),
    Case("matmul", "matmul batched with broadcast batch dims", [randn(2, 1, 3, 4), randn(3, 4, 2)],
         torch.matmul),
    Case("matmul", "matmul batched . 2-d", [randn(2, 3, 4), randn(4, 5)], torch.matmul),
    Case("matmul", "matmul 2-d . batched", [randn(3, 4), randn(2, 4, 5)], torch.matmul),
    Case("matmul", "matmul 1-d . batched", [randn(4), randn(2, 4, 3)], torch.matmul),
    Case("matmul", "matmul batched . 1-d", [randn(2, 3, 4), randn(4)], torch.matmul),
    Case("matmul", "matmul batched . batched", [randn(3, 2, 5), randn(3, 5, 4)], torch.matmul),
    Case("linear", "linear with bias, 3-d input", [randn(2, 3, 4), randn(5, 4), randn(5)], F.linear,
         lowp=True),
    Case("linear", "linear without bias", [randn(3, 4), randn(2, 4)], F.linear),
    Case("linear", "linear 1-d input", [randn(4), randn(3, 4), randn(3)], F.linear),
    Case("addmm", "addmm beta alpha", [randn(3, 5), randn(3, 4), randn(4, 5)],
         lambda i, a, b, beta, alpha: torch.addmm(i, a, b, beta=beta, alpha=alpha),
         args={"beta": 0.5, "alpha": 2.0}),
    Case("addmm", "addmm broadcast input", [randn(5), randn(3, 4), randn(4, 5)],
         lambda i, a, b, beta, alpha: torch.addmm(i, a, b, beta=beta, alpha=alpha),
         args={"beta": 1.0, "alpha": 1.0}, lowp=True),
    Case("addmm", "addmm beta 0", [randn(3, 5), randn(3, 4), randn(4, 5)],
         lambda i, a, b, beta, alpha: torch.addmm(i, a, b, beta=beta, alpha=alpha),
         args={"beta": 0.0, "alpha": -1.5}),
]
