"""Convolution and pooling, NCHW: conv2d (stride, padding, dilation, groups, depthwise, bias),
max/avg pooling (padding, stride != kernel, ceil mode, count_include_pad), adaptive and global
average pooling."""
import torch.nn.functional as F

from refcase import Case, randn


def conv(x, w, *b, stride, padding, dilation, groups):
    return F.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups)


def conv_case(name, shapes, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, lowp=False):
    args = {"stride": list(stride), "padding": list(padding), "dilation": list(dilation),
            "groups": groups}
    return Case("conv2d", name, [randn(*s) for s in shapes], conv, args=args, lowp=lowp)


def pool_args(kernel, stride=None, padding=(0, 0), ceil_mode=False, count_include_pad=True):
    return {"kernel": list(kernel), "stride": list(stride or kernel), "padding": list(padding),
            "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}


def max_pool(x, kernel, stride, padding, ceil_mode, count_include_pad):
    return F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode)


def avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad):
    return F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode,
                        count_include_pad=count_include_pad)


def adaptive(x, output):
    return F.adaptive_avg_pool2d(x, output)


CASES = [
    conv_case("conv2d 3x3 padding 1", [(2, 3, 5, 5), (4, 3, 3, 3), (4,)], padding=(1, 1)),
    conv_case("conv2d stride 2 padding 1", [(1, 2, 7, 7), (3, 2, 3, 3), (3,)], stride=(2, 2),
              padding=(1, 1)),
    conv_case("conv2d dilation 2", [(1, 2, 7, 6), (2, 2, 3, 3), (2,)], padding=(2, 1),
              dilation=(2, 2)),
    conv_case("conv2d groups 2", [(1, 4, 5, 5), (6, 2, 3, 3), (6,)], padding=(1, 1), groups=2),
    conv_case("conv2d depthwise", [(2, 3, 5, 5), (3, 1, 3, 3), (3,)], padding=(1, 1), groups=3),
    conv_case("conv2d depthwise multiplier 2 stride 2", [(1, 3, 6, 6), (6, 1, 3, 3), (6,)],
              stride=(2, 2), padding=(1, 1), groups=3),
    conv_case("conv2d no bias, stride (2, 1)", [(1, 2, 6, 6), (3, 2, 2, 2)], stride=(2, 1)),
    conv_case("conv2d 1x1", [(2, 4, 3, 3), (5, 4, 1, 1), (5,)]),
    conv_case("conv2d 1x1 stride 2", [(1, 3, 5, 5), (2, 3, 1, 1), (2,)], stride=(2, 2)),
    conv_case("conv2d non-square kernel", [(1, 2, 5, 6), (2, 2, 2, 3), (2,)], stride=(1, 2),
              padding=(1, 0)),
    conv_case("conv2d low precision", [(1, 2, 4, 4), (2, 2, 1, 1), (2,)], lowp=True),
    Case("max_pool2d", "max_pool2d 2x2", [randn(2, 3, 4, 4)], max_pool, args=pool_args((2, 2)),
         lowp=True),
    Case("max_pool2d", "max_pool2d 3x3 stride 2 padding 1", [randn(1, 2, 7, 7)], max_pool,
         args=pool_args((3, 3), (2, 2), (1, 1))),
    Case("max_pool2d", "max_pool2d ceil mode", [randn(1, 2, 5, 5)], max_pool,
         args=pool_args((2, 2), (2, 2), ceil_mode=True)),
    Case("max_pool2d", "max_pool2d overlapping non-square", [randn(1, 2, 5, 6)], max_pool,
         args=pool_args((2, 3), (1, 2))),
    Case("max_pool2d", "max_pool2d unbatched", [randn(2, 5, 5)], max_pool,
         args=pool_args((3, 3), (2, 2), (1, 1), ceil_mode=True)),
    Case("avg_pool2d", "avg_pool2d 2x2", [randn(2, 3, 4, 4)], avg_pool, args=pool_args((2, 2)),
         lowp=True),
    Case("avg_pool2d", "avg_pool2d padding, count_include_pad", [randn(1, 2, 7, 7)], avg_pool,
         args=pool_args((3, 3), (2, 2), (1, 1))),
    Case("avg_pool2d", "avg_pool2d padding, count_include_pad false", [randn(1, 2, 7, 7)], avg_pool,
         args=pool_args((3, 3), (2, 2), (1, 1), count_include_pad=False)),
    Case("avg_pool2d", "avg_pool2d ceil mode with padding", [randn(1, 2, 6, 6)], avg_pool,
         args=pool_args((3, 3), (2, 2), (1, 1), ceil_mode=True)),
    Case("avg_pool2d", "avg_pool2d ceil mode, count_include_pad false", [randn(1, 2, 6, 6)], avg_pool,
         args=pool_args((3, 3), (2, 2), (1, 1), ceil_mode=True, count_include_pad=False)),
    Case("avg_pool2d", "avg_pool2d stride 1 non-square", [randn(1, 2, 5, 4)], avg_pool,
         args=pool_args((2, 3), (1, 1), (1, 1))),
    Case("adaptive_avg_pool2d", "adaptive_avg_pool2d non-divisible", [randn(2, 3, 7, 5)], adaptive,
         args={"output": [3, 2]}, lowp=True),
    Case("adaptive_avg_pool2d", "adaptive_avg_pool2d overlapping windows", [randn(1, 2, 5, 7)],
         adaptive, args={"output": [4, 3]}),
    Case("adaptive_avg_pool2d", "adaptive_avg_pool2d larger output", [randn(1, 2, 3, 3)], adaptive,
         args={"output": [5, 4]}),
    Case("global_avg_pool2d", "global_avg_pool2d", [randn(2, 3, 4, 5)],
         lambda x: x.mean(dim=(2, 3)), lowp=True),
]
