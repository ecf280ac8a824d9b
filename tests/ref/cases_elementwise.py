"""Elementwise arithmetic, comparisons and activations, with broadcasting."""
import torch
import torch.nn.functional as F

from refcase import Case, rand, randn

CASES = []
for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul),
               ("maximum", torch.maximum), ("minimum", torch.minimum)]:
    CASES += [Case(op, f"{op} same shape", [randn(3, 4), randn(3, 4)], fn, lowp=True),
              Case(op, f"{op} broadcast row", [randn(2, 3, 4), randn(4)], fn),
              Case(op, f"{op} broadcast both", [randn(3, 1), randn(1, 5)], fn),
              Case(op, f"{op} scalar tensor", [randn(2, 3), randn(())], fn)]
CASES += [Case("div", "div same shape", [randn(3, 4), rand(3, 4, lo=0.5, hi=2)], torch.div, lowp=True),
          Case("div", "div broadcast", [randn(2, 3), rand(2, 1, lo=0.5, hi=2)], torch.div),
          Case("pow", "pow", [rand(3, 4, lo=0.5, hi=2), randn(3, 4)], torch.pow),
          Case("pow", "pow broadcast", [rand(2, 3, lo=0.5, hi=2), randn(3)], torch.pow)]
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    a = randn(3, 4)
    b = a.clone()
    b[0] = randn(4)
    CASES.append(Case(op, f"{op} with ties", [a, b], getattr(torch, op), grad=False))
    CASES.append(Case(op, f"{op} broadcast", [randn(2, 3), randn(3)], getattr(torch, op), grad=False))

for op, fn, x in [("neg", torch.neg, randn(3, 4)), ("exp", torch.exp, randn(3, 4)),
                  ("log", torch.log, rand(3, 4, lo=0.2, hi=3)),
                  ("sqrt", torch.sqrt, rand(3, 4, lo=0.2, hi=3)),
                  ("rsqrt", torch.rsqrt, rand(3, 4, lo=0.2, hi=3)),
                  ("abs", torch.abs, randn(3, 4)), ("relu", torch.relu, randn(2, 3, 4)),
                  ("relu6", F.relu6, randn(4, 5) * 4), ("sigmoid", torch.sigmoid, randn(3, 4)),
                  ("tanh", torch.tanh, randn(3, 4)), ("gelu", F.gelu, randn(3, 4)),
                  ("softplus", F.softplus, randn(3, 4) * 3)]:
    CASES.append(Case(op, op, [x], fn, lowp=True))
CASES += [
    Case("leaky_relu", "leaky_relu", [randn(3, 4)], lambda x, slope: F.leaky_relu(x, slope),
         args={"slope": 0.1}, lowp=True),
    Case("elu", "elu", [randn(3, 4)], lambda x, alpha: F.elu(x, alpha), args={"alpha": 0.7}, lowp=True),
    Case("clamp", "clamp", [randn(3, 4)], lambda x, lo, hi: torch.clamp(x, lo, hi),
         args={"lo": -0.5, "hi": 0.6}, lowp=True),
    Case("add_scalar", "add_scalar", [randn(3, 4)], lambda x, value: x + value, args={"value": 2.5}),
    Case("mul_scalar", "mul_scalar", [randn(3, 4)], lambda x, value: x * value, args={"value": -1.5}),
    Case("pow_scalar", "pow_scalar", [rand(3, 4, lo=0.5, hi=2)], lambda x, exponent: x ** exponent,
         args={"exponent": 2.5}),
    Case("pow_scalar", "pow_scalar integer exponent", [randn(3, 4)], lambda x, exponent: x ** exponent,
         args={"exponent": 3.0}),
    Case("where", "where broadcast", [randn(3, 4) > 0, randn(3, 4), randn(4)], torch.where),
    Case("cast", "cast round trip", [randn(3, 4)], lambda x, via: x.double().float(), args={"via": "f64"}),
]
