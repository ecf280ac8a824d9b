#!/usr/bin/python3
"""Writes tests/data/ref_<family>.json from the cases in tests/ref/cases_<family>.py, using
PyTorch as the reference. Run from anywhere: /usr/bin/python3 tests/ref/make_reference.py
[family ...] (no names: every family)."""
import importlib
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import torch

import refcase

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
DTYPES = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.int32: "i32",
          torch.bool: "bool", torch.uint8: "u8"}


def encode(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype],
            "data": [float(v) for v in t.reshape(-1).double().tolist()]}


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def evaluate(case):
    inputs = [t.clone() for t in case.inputs]
    wants = case.requires_grad or [t.is_floating_point() for t in inputs]
    if case.grad:
        for t, w in zip(inputs, wants):
            if w:
                t.requires_grad_(True)
    outs = as_tuple(case.fn(*inputs, **case.args))
    entry = {"op": case.op, "name": case.name, "args": case.args,
             "inputs": [encode(t) for t in case.inputs],
             "requires_grad": [bool(w) for w in wants] if case.grad else [False] * len(inputs),
             "outputs": [encode(o) for o in outs], "lowp": case.lowp}
    if case.tol:
        entry["tol"] = case.tol
    if case.grad:
        gen = torch.Generator().manual_seed(99)
        gouts = [torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.dtype)
                 for o in outs if o.is_floating_point()]
        diff = [o for o in outs if o.is_floating_point()]
        torch.autograd.backward(diff, gouts)
        entry["grad_outputs"] = [encode(g) for g in gouts]
        entry["grads"] = [encode(t.grad) if (w and t.grad is not None) else None
                          for t, w in zip(inputs, wants)]
    return entry


def main(only):
    families = sorted(p.stem for p in HERE.glob("cases_*.py"))
    for fam in families:
        if only and fam[len("cases_"):] not in only:
            continue
        # Each family draws its inputs from its own seed, so adding one changes no other.
        refcase.GEN.manual_seed(sum(map(ord, fam)))
        module = importlib.import_module(fam)
        cases = [evaluate(c) for c in module.CASES]
        out = DATA / ("ref_" + fam[len("cases_"):] + ".json")
        out.write_text(json.dumps({"cases": cases}, separators=(",", ":")) + "\n")
        print(f"{out.relative_to(HERE.parent.parent)}: {len(cases)} cases")


if __name__ == "__main__":
    torch.manual_seed(0)
    main(sys.argv[1:])
