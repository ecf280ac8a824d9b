"""Softmax, log_softmax and the losses (cross_entropy, nll_loss, mse_loss), plus one_hot and
in_top_k (TensorFlow semantics, computed here through torch.topk)."""
import torch
import torch.nn.functional as F

from refcase import Case, randint, randn


def probs(*shape):
    """Rows of random probabilities over dim 1 (the class dim)."""
    return torch.softmax(randn(*shape) * 2, dim=1)


CASES = []

for op, fn in [("softmax", torch.softmax), ("log_softmax", torch.log_softmax)]:
    CASES += [
        Case(op, f"{op} 2-d dim 1", [randn(4, 5)], lambda x, dim, fn=fn: fn(x, dim), args={"dim": 1},
             lowp=True),
        Case(op, f"{op} 2-d dim 0", [randn(4, 5)], lambda x, dim, fn=fn: fn(x, dim), args={"dim": 0}),
        Case(op, f"{op} 2-d dim -1", [randn(3, 6) * 4], lambda x, dim, fn=fn: fn(x, dim),
             args={"dim": -1}, lowp=True),
        Case(op, f"{op} 3-d dim 0", [randn(3, 2, 4)], lambda x, dim, fn=fn: fn(x, dim), args={"dim": 0}),
        Case(op, f"{op} 3-d dim 1", [randn(2, 3, 4)], lambda x, dim, fn=fn: fn(x, dim), args={"dim": 1}),
        Case(op, f"{op} 3-d dim -1", [randn(2, 3, 4)], lambda x, dim, fn=fn: fn(x, dim),
             args={"dim": -1}),
        Case(op, f"{op} 1-d", [randn(7)], lambda x, dim, fn=fn: fn(x, dim), args={"dim": 0}),
        Case(op, f"{op} large logits", [randn(3, 4) * 30 + 500], lambda x, dim, fn=fn: fn(x, dim),
             args={"dim": 1}, tol=1e-4),
    ]


def ce(reduction, label_smoothing=0.0):
    return lambda x, t, **_: F.cross_entropy(x, t, reduction=reduction,
                                             label_smoothing=label_smoothing)


for red in ["none", "mean", "sum"]:
    CASES += [
        Case("cross_entropy", f"cross_entropy indices {red}", [randn(5, 4), randint(0, 4, 5)],
             ce(red), args={"reduction": red}, lowp=(red == "mean")),
        Case("cross_entropy", f"cross_entropy probabilities {red}", [randn(5, 4), probs(5, 4)],
             ce(red), args={"reduction": red}),
        Case("cross_entropy", f"cross_entropy indices smoothing 0.1 {red}",
             [randn(5, 4), randint(0, 4, 5)], ce(red, 0.1),
             args={"reduction": red, "label_smoothing": 0.1}),
        Case("cross_entropy", f"cross_entropy probabilities smoothing 0.1 {red}",
             [randn(5, 4), probs(5, 4)], ce(red, 0.1),
             args={"reduction": red, "label_smoothing": 0.1}),
        Case("cross_entropy", f"cross_entropy 3-d indices {red}",
             [randn(2, 4, 3), randint(0, 4, 2, 3)], ce(red), args={"reduction": red}),
        Case("cross_entropy", f"cross_entropy 3-d probabilities smoothing 0.1 {red}",
             [randn(2, 4, 3), probs(2, 4, 3)], ce(red, 0.1),
             args={"reduction": red, "label_smoothing": 0.1}),
        Case("nll_loss", f"nll_loss {red}",
             [torch.log_softmax(randn(6, 5), 1), randint(0, 5, 6)],
             lambda x, t, reduction: F.nll_loss(x, t, reduction=reduction),
             args={"reduction": red}),
        Case("nll_loss", f"nll_loss 3-d {red}",
             [torch.log_softmax(randn(2, 3, 4), 1), randint(0, 3, 2, 4)],
             lambda x, t, reduction: F.nll_loss(x, t, reduction=reduction),
             args={"reduction": red}),
        Case("mse_loss", f"mse_loss {red}", [randn(3, 4), randn(3, 4)],
             lambda x, t, reduction: F.mse_loss(x, t, reduction=reduction),
             args={"reduction": red}, lowp=(red == "none")),
    ]

CASES += [
    Case("cross_entropy", "cross_entropy i32 indices smoothing 0.1",
         [randn(4, 6), randint(0, 6, 4)], ce("mean", 0.1),
         args={"reduction": "mean", "label_smoothing": 0.1, "target_dtype": "i32"}),
    Case("cross_entropy", "cross_entropy 1-d input, 0-d target", [randn(5), torch.tensor(3)],
         ce("mean"), args={"reduction": "mean"}),
    Case("cross_entropy", "cross_entropy large logits", [randn(4, 5) * 40, randint(0, 5, 4)],
         ce("mean"), args={"reduction": "mean"}, tol=1e-4),
    Case("mse_loss", "mse_loss 3-d", [randn(2, 3, 2), randn(2, 3, 2)],
         lambda x, t, reduction: F.mse_loss(x, t, reduction=reduction), args={"reduction": "mean"}),
]


def one_hot_ref(idx, num_classes, dtype):
    out = F.one_hot(idx.long(), num_classes)
    return out.float() if dtype == "f32" else out


CASES += [
    Case("one_hot", "one_hot 1-d", [randint(0, 5, 6)], one_hot_ref,
         args={"num_classes": 5, "dtype": "f32"}, grad=False),
    Case("one_hot", "one_hot 2-d i64", [randint(0, 3, 2, 4)], one_hot_ref,
         args={"num_classes": 4, "dtype": "i64"}, grad=False),
]


def in_top_k_ref(pred, target, k):
    """TensorFlow's in_top_k: the target's score is at least the k-th largest score."""
    kth = pred.topk(min(k, pred.shape[1]), dim=1).values[:, -1]
    return pred.gather(1, target[:, None]).squeeze(1) >= kth


# Integer-valued scores make ties; ties with the k-th score count as in.
tied = randint(0, 4, 8, 6).float()
CASES += [
    Case("in_top_k", f"in_top_k k={k}", [randn(10, 7), randint(0, 7, 10)], in_top_k_ref,
         args={"k": k}, grad=False) for k in [1, 3, 7]
] + [
    Case("in_top_k", f"in_top_k ties k={k}", [tied, randint(0, 6, 8)], in_top_k_ref,
         args={"k": k}, grad=False) for k in [1, 2, 4]
]
