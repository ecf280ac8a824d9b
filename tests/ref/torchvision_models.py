"""torchvision models as the zoo's reference (run with Debian's /usr/bin/python3).

  torchvision_models.py count NAME [NAME ...]   prints "NAME PARAMS" per model
  torchvision_models.py export NAME OUT_DIR     writes OUT_DIR/weights.safetensors (the model's
      state_dict under Mox's parameter names), OUT_DIR/io.safetensors ("input": a fixed random
      batch, "logits": the model's output on it in eval mode)

No pretrained weights exist offline: the model is built with a fixed seed, its batch-norm affine
parameters are randomized, and its running statistics are those of a separate random calibration
batch, so eval-mode batch norm is exercised on statistics that are not the input's own while the
activations keep a realistic scale (untrained deep nets otherwise give logits of 1e12).
Nothing this writes is committed; tests export into a temporary directory.
"""
import json
import re
import sys

import torch
import torchvision

# torchvision state_dict name -> Mox parameter name: (regex, replacement) pairs applied in turn
# with re.sub; a replacement may be a function of the match. Names matching DROP are not written
# (Mox's batch norm keeps no num_batches_tracked).
DROP = re.compile(r"num_batches_tracked$")


def _stage_unit(m):
    # torchvision's layer2.0. is TF-slim's block2/unit_1 (units count from 1).
    return f"block{m[1]}.unit_{int(m[2]) + 1}."


# zoo/resnet.cpp: ConvBn modules conv1/conv2/conv3 (each conv.* + bn.*) and shortcut, in
# blockS.unit_U; the stem is the ConvBn conv1; the classifier is logits.
RESNET = [
    (r"^layer(\d+)\.(\d+)\.", _stage_unit),
    (r"(^|\.)conv(\d)\.weight$", r"\1conv\2.conv.weight"),
    (r"(^|\.)bn(\d)\.", r"\1conv\2.bn."),
    (r"\.downsample\.0\.", ".shortcut.conv."),
    (r"\.downsample\.1\.", ".shortcut.bn."),
    (r"^fc\.", "logits."),
]

# zoo/mobilenet.cpp: torchvision's features.0 is Conv, features.1 expanded_conv, features.I
# expanded_conv_<I-1> (each with expand (absent in the first), depthwise, project: ConvBn's
# conv.* + bn.*), features.18 Conv_1; the classifier is logits. Inside features.I, torchvision's
# module path -> Mox's:
_MNV2_CONV_BN = {"0.": "conv.", "1.": "bn."}  # Conv2dNormActivation (Conv, Conv_1)
_MNV2_FIRST = {"conv.0.0.": "depthwise.conv.", "conv.0.1.": "depthwise.bn.",
               "conv.1.": "project.conv.", "conv.2.": "project.bn."}
_MNV2_EXPANDED = {"conv.0.0.": "expand.conv.", "conv.0.1.": "expand.bn.",
                  "conv.1.0.": "depthwise.conv.", "conv.1.1.": "depthwise.bn.",
                  "conv.2.": "project.conv.", "conv.3.": "project.bn."}


def _mobilenet_v2_layer(m):
    i, path = int(m[1]), m[2]
    if i in (0, 18):  # every width has 17 inverted residuals between the two plain convs
        return ("Conv." if i == 0 else "Conv_1.") + _MNV2_CONV_BN[path]
    if i == 1:
        return "expanded_conv." + _MNV2_FIRST[path]
    return f"expanded_conv_{i - 1}." + _MNV2_EXPANDED[path]


MOBILENET_V2 = [
    (r"^features\.(\d+)\.((?:conv\.)?\d+\.(?:\d+\.)?)", _mobilenet_v2_layer),
    (r"^classifier\.1\.", "logits."),
]

# zoo/vgg.cpp: torchvision's features.K (conv, [batch norm,] ReLU per layer, a max pool closing
# each stage) are conv<stage>_<i>.conv / .bn; classifier.0, .3 and .6 are fc6, fc7 and logits.
def _vgg(cfg, batch_norm):
    rules, k, stage, i = [], 0, 1, 1
    for v in torchvision.models.vgg.cfgs[cfg]:
        if v == "M":
            k, stage, i = k + 1, stage + 1, 1
            continue
        rules.append((rf"^features\.{k}\.", f"conv{stage}_{i}.conv."))
        if batch_norm:
            rules.append((rf"^features\.{k + 1}\.", f"conv{stage}_{i}.bn."))
        k, i = k + (3 if batch_norm else 2), i + 1
    return rules + [(r"^classifier\.0\.", "fc6."), (r"^classifier\.3\.", "fc7."),
                    (r"^classifier\.6\.", "logits.")]


# zoo/inception_v1.cpp: the stages carry TF-slim's names (torchvision's inception3a is TF-slim's
# Mixed_3b: the block letters start one later); inside a block torchvision's branch names stay.
_GOOGLENET_STAGES = {"conv1": "Conv2d_1a_7x7", "conv2": "Conv2d_2b_1x1",
                     "conv3": "Conv2d_2c_3x3", "fc": "logits"}
GOOGLENET = [
    (r"^(conv\d|fc)\.", lambda m: _GOOGLENET_STAGES[m[1]] + "."),
    (r"^inception(\d)([a-e])\.", lambda m: f"Mixed_{m[1]}{chr(ord(m[2]) + 1)}."),
]

# zoo/inception_v3.cpp keeps torchvision's names but for the classifier.
INCEPTION_V3 = [(r"^fc\.", "logits.")]

RENAMES = {
    "resnet18": RESNET,
    "resnet34": RESNET,
    "resnet50": RESNET,
    "resnet101": RESNET,
    "resnet152": RESNET,
    "resnext50_32x4d": RESNET,
    "resnext101_32x8d": RESNET,
    "mobilenet_v2": MOBILENET_V2,
    "mobilenet_v2_140": MOBILENET_V2,
    "mobilenet_v2_035": MOBILENET_V2,
    "vgg11": _vgg("A", False),
    "vgg16": _vgg("D", False),
    "vgg19": _vgg("E", False),
    "vgg11_bn": _vgg("A", True),
    "vgg16_bn": _vgg("D", True),
    "vgg19_bn": _vgg("E", True),
    "googlenet": GOOGLENET,
    "inception_v3": INCEPTION_V3,
}

# Constructor arguments beyond weights=None (e.g. inception_v3: aux_logits=False).
KWARGS = {
    # Mox's inception_v1 / inception_v3 have no auxiliary heads and take images as given.
    "googlenet": {"aux_logits": False, "transform_input": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "transform_input": False, "init_weights": True},
}

# The export's input: [2, 3, size, size]; 224 unless listed.
INPUT_SIZE = {"inception_v3": 299}


# Names for torchvision models built with other constructor arguments: name -> (torchvision
# model, arguments), as Mox's mobilenet_v2_140 and _035 are mobilenet_v2(width_mult=...).
VARIANTS = {
    "mobilenet_v2_140": ("mobilenet_v2", {"width_mult": 1.4}),
    "mobilenet_v2_035": ("mobilenet_v2", {"width_mult": 0.35}),
}


def build(name):
    base, variant_kwargs = VARIANTS.get(name, (name, {}))
    if not hasattr(torchvision.models, base):
        sys.exit(f"torchvision_models.py: torchvision has no model '{base}'")
    return getattr(torchvision.models, base)(weights=None, **KWARGS.get(name, {}), **variant_kwargs)


def mox_name(tv_name, rules):
    out = tv_name
    for pattern, repl in rules:
        out = re.sub(pattern, repl, out)
    return out


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout nn/checkpoint.h reads: u64 header length, JSON header, raw bytes."""
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[key] = {"dtype": dtype, "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def randomize_batch_norm(model, gen, calibration):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        c = m.num_features
        m.weight.data = torch.rand(c, generator=gen) * 0.5 + 0.75
        m.bias.data = torch.randn(c, generator=gen) * 0.1
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: the statistics of the calibration batch
    model.train()
    with torch.no_grad():
        model(calibration)
    model.eval()


def export(name, out_dir):
    if name not in RENAMES:
        sys.exit(f"torchvision_models.py: no rename table for '{name}' (have: {', '.join(RENAMES)})")
    torch.manual_seed(0)
    model = build(name).eval()
    gen = torch.Generator().manual_seed(1)
    size = INPUT_SIZE.get(name, 224)
    randomize_batch_norm(model, gen, torch.randn(4, 3, size, size, generator=gen))
    x = torch.randn(2, 3, size, size, generator=gen)
    with torch.no_grad():
        logits = model(x)
    weights = {}
    for key, t in model.state_dict().items():
        if DROP.search(key):
            continue
        new = mox_name(key, RENAMES[name])
        if new in weights:
            sys.exit(f"torchvision_models.py: {name}: two parameters map onto '{new}'")
        weights[new] = t
    meta = {"torchvision_model": name, "torchvision_version": torchvision.__version__}
    write_safetensors(f"{out_dir}/weights.safetensors", weights, meta)
    write_safetensors(f"{out_dir}/io.safetensors", {"input": x, "logits": logits}, meta)


def main(argv):
    if len(argv) >= 2 and argv[0] == "count":
        for name in argv[1:]:
            print(name, sum(p.numel() for p in build(name).parameters()))
    elif len(argv) == 3 and argv[0] == "export":
        export(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
