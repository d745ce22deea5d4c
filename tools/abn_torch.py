"""The official ABN backbones in PyTorch: ResNet (CIFAR and ImageNet variants), Wide ResNet, ResNeXt and
DenseNet-BC (CIFAR), SE-ResNet (ImageNet), written from the facts in the ABN paper and the official code's structure (docs/architecture.md),
so tests and benchmarks have a reference with exactly the official state_dict names. Not a copy of the
official code. build(name, ...) makes any of them from the architecture names abn-hitl uses."""
import math
import re
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def excite(self, out):
        """What comes between the last BN and the add: nothing here, squeeze-excitation in SEBasicBlock."""
        return out

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.excite(out) + shortcut)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def excite(self, out):
        return out

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.excite(out) + shortcut)


def make_stage(block, inplanes, planes, blocks, stride):
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                                   nn.BatchNorm2d(planes * block.expansion))
    layers = [block(inplanes, planes, stride, downsample)]
    for _ in range(1, blocks):
        layers.append(block(planes * block.expansion, planes))
    return nn.Sequential(*layers)


class ABN(nn.Module):
    """family 'cifar' (depth 6n+2) or 'imagenet' (18/34/50/101/152); attention 'residual' or 'multiply'."""

    def __init__(self, family, depth, num_classes, in_channels=3, attention="residual"):
        super().__init__()
        self.family, self.attention = family, attention
        if family == "cifar":
            n = (depth - 2) // 6
            block = Bottleneck if depth >= 44 else BasicBlock
            counts, widths = [n, n, n], [16, 32, 64]
            self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.maxpool = None
            self.layer1 = make_stage(block, 16, 16, n, 1)
            self.layer2 = make_stage(block, 16 * block.expansion, 32, n, 2)
            feat = 32 * block.expansion
            self.att_layer3 = make_stage(block, feat, 64, n, 1)
            width = 64 * block.expansion
        else:
            block = BasicBlock if depth < 50 else Bottleneck
            counts = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}[depth]
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = make_stage(block, 64, 64, counts[0], 1)
            self.layer2 = make_stage(block, 64 * block.expansion, 128, counts[1], 2)
            self.layer3 = make_stage(block, 128 * block.expansion, 256, counts[2], 2)
            feat = 256 * block.expansion
            self.att_layer4 = make_stage(block, feat, 512, counts[3], 1)
            width = 512 * block.expansion
        self.bn_att = nn.BatchNorm2d(width)
        self.att_conv = nn.Conv2d(width, num_classes, 1, bias=False)
        self.bn_att2 = nn.BatchNorm2d(num_classes)
        self.att_conv2 = nn.Conv2d(num_classes, num_classes, 1, bias=False)
        self.att_conv3 = nn.Conv2d(num_classes, 1, 3, 1, 1, bias=False)
        self.bn_att3 = nn.BatchNorm2d(1)
        if family == "cifar":
            self.layer3 = make_stage(block, feat, 64, n, 2)
        else:
            self.layer4 = make_stage(block, feat, 512, counts[3], 2)
        self.fc = nn.Linear(width, num_classes)
        self.relu = nn.ReLU(inplace=True)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2.0 / k))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def features(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        x = self.layer2(self.layer1(x))
        if self.family != "cifar":
            x = self.layer3(x)
        return x

    def forward(self, x):
        fe = self.features(x)
        att_stage = self.att_layer3 if self.family == "cifar" else self.att_layer4
        ax = self.bn_att(att_stage(fe))
        ax = self.relu(self.bn_att2(self.att_conv(ax)))
        att = torch.sigmoid(self.bn_att3(self.att_conv3(ax)))
        att_logits = self.att_conv2(ax).mean(dim=(2, 3))
        rx = fe * att + fe if self.attention == "residual" else fe * att
        per_stage = self.layer3 if self.family == "cifar" else self.layer4
        rx = per_stage(rx).mean(dim=(2, 3))
        return att_logits, self.fc(rx), att


def _official_init(model):
    """Conv weights N(0, sqrt(2 / (k·k·out))), BatchNorm weight 1 and bias 0, as the official code."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.data.normal_(0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)))
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()


class _Head(nn.Module):
    """What every ABN shares after its backbone: the attention head on the attention stage's output and
    the perception branch's use of M. Subclasses set features(), att_stage, per_stage(), classifier."""

    def _make_attention_head(self, width, num_classes, sigmoid_map=True):
        self.bn_att = nn.BatchNorm2d(width)
        self.att_conv = nn.Conv2d(width, num_classes, 1, bias=False)
        self.bn_att2 = nn.BatchNorm2d(num_classes)
        self.att_conv2 = nn.Conv2d(num_classes, num_classes, 1, bias=False)
        if sigmoid_map:  # SE-ResNet's map has no layers of its own
            self.att_conv3 = nn.Conv2d(num_classes, 1, 3, 1, 1, bias=False)
            self.bn_att3 = nn.BatchNorm2d(1)
        self.relu = nn.ReLU()  # modules, not F.relu, so tools/make_fixtures.py can hook every ReLU

    apply_bn_att = True

    def attention_map(self, ax):
        """M from the K maps: att_conv3 → bn_att3 → sigmoid."""
        return torch.sigmoid(self.bn_att3(self.att_conv3(ax)))

    def forward(self, x):
        fe = self.features(x)
        ax = self.att_stage(fe)
        if self.apply_bn_att:
            ax = self.bn_att(ax)
        ax = self.relu(self.bn_att2(self.att_conv(ax)))
        att = self.attention_map(ax)
        att_logits = self.att_conv2(ax).mean(dim=(2, 3))
        rx = fe * att + fe if self.attention == "residual" else fe * att
        rx = self.perception(rx).mean(dim=(2, 3))
        return att_logits, self.classify(rx), att


class PreActBlock(nn.Module):
    """Wide ResNet's block: a = relu(bn1(x)); y = conv2(dropout(relu(bn2(conv1(a))))) + (x or convShortcut(a))."""

    def __init__(self, inplanes, planes, stride, dropout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.dropout = dropout
        self.convShortcut = nn.Conv2d(inplanes, planes, 1, stride, 0, bias=False) if inplanes != planes else None
        self.relu = nn.ReLU()

    def forward(self, x):
        a = self.relu(self.bn1(x))
        h = self.relu(self.bn2(self.conv1(a)))
        if self.dropout > 0:
            h = F.dropout(h, p=self.dropout, training=self.training)
        return self.conv2(h) + (x if self.convShortcut is None else self.convShortcut(a))


class _Stage(nn.Module):
    """Blocks under `<stage>.layer.<i>`, as the official NetworkBlock names them."""

    def __init__(self, blocks):
        super().__init__()
        self.layer = nn.Sequential(*blocks)

    def forward(self, x):
        return self.layer(x)


class WideResNetABN(_Head):
    def __init__(self, depth, widen, num_classes, in_channels=3, attention="residual", dropout=0.0):
        super().__init__()
        self.attention = attention
        n = (depth - 4) // 6
        widths = [16 * widen, 32 * widen, 64 * widen]

        def stage(inplanes, planes, stride):
            return _Stage([PreActBlock(inplanes if i == 0 else planes, planes, stride if i == 0 else 1, dropout) for i in range(n)])

        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.block1 = stage(16, widths[0], 1)
        self.block2 = stage(widths[0], widths[1], 2)
        self.block3 = stage(widths[1], widths[2], 2)
        self.bn1 = nn.BatchNorm2d(widths[2])
        self.att_block3 = stage(widths[1], widths[2], 1)
        self._make_attention_head(widths[2], num_classes)
        self.fc = nn.Linear(widths[2], num_classes)
        _official_init(self)
        self.fc.bias.data.zero_()

    def features(self, x):
        return self.block2(self.block1(self.conv1(x)))

    def att_stage(self, x):
        return self.att_block3(x)

    def perception(self, x):
        return self.relu(self.bn1(self.block3(x)))

    def classify(self, x):
        return self.fc(x)


class ResNeXtBlock(nn.Module):
    """1×1 reduce to D, 3×3 grouped (stride) at D, 1×1 expand; projection shortcut where the channels change."""

    def __init__(self, inplanes, planes, stride, cardinality, width):
        super().__init__()
        self.conv_reduce = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn_reduce = nn.BatchNorm2d(width)
        self.conv_conv = nn.Conv2d(width, width, 3, stride, 1, groups=cardinality, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.conv_expand = nn.Conv2d(width, planes, 1, bias=False)
        self.bn_expand = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if inplanes != planes or stride != 1:
            self.shortcut.add_module("shortcut_conv", nn.Conv2d(inplanes, planes, 1, stride, bias=False))
            self.shortcut.add_module("shortcut_bn", nn.BatchNorm2d(planes))
        self.relu = nn.ReLU()

    def forward(self, x):
        h = self.relu(self.bn_reduce(self.conv_reduce(x)))
        h = self.relu(self.bn(self.conv_conv(h)))
        return self.relu(self.bn_expand(self.conv_expand(h)) + self.shortcut(x))


class ResNeXtABN(_Head):
    """ResNeXt-(9n+2) (cardinality × base width d); bn_att is declared but not applied, as the official code."""

    apply_bn_att = False

    def __init__(self, depth, cardinality, base_width, widen, num_classes, in_channels=3, attention="residual"):
        super().__init__()
        self.attention = attention
        n = (depth - 2) // 9
        widths = [64 * widen, 128 * widen, 256 * widen]

        def stage(name, inplanes, planes, stride, index):
            s = nn.Sequential()
            for i in range(n):
                s.add_module(f"{name}_bottleneck_{i}",
                             ResNeXtBlock(inplanes if i == 0 else planes, planes, stride if i == 0 else 1,
                                          cardinality, cardinality * base_width * 2 ** index))
            return s

        self.conv_1_3x3 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        self.bn_1 = nn.BatchNorm2d(64)
        self.stage_1 = stage("stage_1", 64, widths[0], 1, 0)
        self.stage_2 = stage("stage_2", widths[0], widths[1], 2, 1)
        self.stage_3 = stage("stage_3", widths[1], widths[2], 2, 2)
        self.classifier = nn.Linear(widths[2], num_classes)
        self.stage_att = stage("stage_att", widths[1], widths[2], 1, 2)
        self._make_attention_head(widths[2], num_classes)
        _official_init(self)

    def features(self, x):
        return self.stage_2(self.stage_1(self.relu(self.bn_1(self.conv_1_3x3(x)))))

    def att_stage(self, x):
        return self.stage_att(x)

    def perception(self, x):
        return self.stage_3(x)

    def classify(self, x):
        return self.classifier(x)


class DenseLayer(nn.Module):
    """DenseNet-BC's bottleneck: out = dropout(conv2(relu(bn2(conv1(relu(bn1(x))))))); y = cat(x, out)."""

    def __init__(self, inplanes, growth, dropout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False)
        self.relu = nn.ReLU()
        self.dropout = dropout

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        return torch.cat((x, out), 1)


class Transition(nn.Module):
    """y = avg_pool2d(conv1(relu(bn1(x))), 2), conv1 1×1 to the compressed width."""

    def __init__(self, inplanes, outplanes):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, outplanes, 1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x):
        return F.avg_pool2d(self.conv1(self.relu(self.bn1(x))), 2)


class DenseNetABN(_Head):
    """DenseNet-BC-(6n+4) with growth rate k: conv1 (3×3 to 2k, no BN), dense1, trans1, dense2, trans2 = g(x);
    att_dense3 for the attention branch; dense3, bn, ReLU and fc for the perception branch. A dense block
    has n bottleneck layers adding k channels each; a transition keeps channels // compression."""

    def __init__(self, depth, growth, compression, num_classes, in_channels=3, attention="residual", dropout=0.0):
        super().__init__()
        self.attention = attention
        n = (depth - 4) // 6

        def dense(inplanes):
            return nn.Sequential(*[DenseLayer(inplanes + i * growth, growth, dropout) for i in range(n)]), inplanes + n * growth

        self.conv1 = nn.Conv2d(in_channels, 2 * growth, 3, 1, 1, bias=False)
        self.dense1, c = dense(2 * growth)
        self.trans1 = Transition(c, c // compression)
        self.dense2, c = dense(c // compression)
        self.trans2 = Transition(c, c // compression)
        self.dense3, width = dense(c // compression)
        self.att_dense3, _ = dense(c // compression)
        self._make_attention_head(width, num_classes)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, num_classes)
        _official_init(self)

    def features(self, x):
        return self.trans2(self.dense2(self.trans1(self.dense1(self.conv1(x)))))

    def att_stage(self, x):
        return self.att_dense3(x)

    def perception(self, x):
        return self.relu(self.bn(self.dense3(x)))

    def classify(self, x):
        return self.fc(x)


def _excite(block, u):
    """Squeeze-excitation: u · σ(fc2(relu(fc1(GAP(u))))) per sample and channel. Global average pooling;
    the official code's fixed AvgPool2d sizes equal it only at a 224×224 input."""
    s = torch.sigmoid(block.fc2(block.relu(block.fc1(u.mean(dim=(2, 3))))))
    return u * s[:, :, None, None]


class SEBasicBlock(BasicBlock):
    """Basic block with squeeze-excitation (C → round(C/16) → C) on bn2's output before the add; the
    projection is declared before fc1/fc2, as the official block (state_dict order)."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__(inplanes, planes, stride, downsample)
        self.fc1 = nn.Linear(planes, round(planes / 16))
        self.fc2 = nn.Linear(round(planes / 16), planes)

    excite = _excite


class SEBottleneck(Bottleneck):
    """Bottleneck with squeeze-excitation (4·planes → round(planes/4) → 4·planes) on bn3's output; the
    projection is declared after fc1/fc2, as the official block."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__(inplanes, planes, stride, None)
        self.fc1 = nn.Linear(planes * 4, round(planes / 4))
        self.fc2 = nn.Linear(round(planes / 4), planes * 4)
        self.downsample = downsample  # registered now, after fc1 and fc2

    excite = _excite


class SEResNetABN(_Head):
    """SE-ResNet-ABN (ImageNet): torchvision's ResNet stem and stages with squeeze-excitation blocks;
    bn_att applied; the map M = Σ_k log(1 + maps_k) (no att_conv3, no bn_att3, no sigmoid)."""

    def __init__(self, depth, num_classes, in_channels=3, attention="residual"):
        super().__init__()
        self.attention = attention
        block = SEBasicBlock if depth < 50 else SEBottleneck
        counts = IMAGENET_BLOCKS[depth]
        e = block.expansion
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = make_stage(block, 64, 64, counts[0], 1)
        self.layer2 = make_stage(block, 64 * e, 128, counts[1], 2)
        self.layer3 = make_stage(block, 128 * e, 256, counts[2], 2)
        self.att_layer4 = make_stage(block, 256 * e, 512, counts[3], 1)
        self._make_attention_head(512 * e, num_classes, sigmoid_map=False)
        self.layer4 = make_stage(block, 256 * e, 512, counts[3], 2)
        self.fc = nn.Linear(512 * e, num_classes)
        _official_init(self)

    def attention_map(self, ax):
        return torch.log(ax + 1).sum(dim=1, keepdim=True)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))

    def att_stage(self, x):
        return self.att_layer4(x)

    def perception(self, x):
        return self.layer4(x)

    def classify(self, x):
        return self.fc(x)


IMAGENET_BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


def build(name, num_classes, in_channels=3, attention="residual"):
    """The model for an abn-hitl architecture name (cifar-resnet20, imagenet-resnet50, resnet20,
    cifar-wrn28-10[-dropout0.3], cifar-resnext29-8x64d[-w4], cifar-densenet-bc100-12[-c2][-dropout0.2],
    imagenet-se-resnet50)."""
    lower = name.lower()
    m = re.fullmatch(r"(?:imagenet-)?se-resnet(\d+)", lower)
    if m:
        if int(m[1]) not in IMAGENET_BLOCKS:
            raise ValueError(f"SE-ResNet depth must be one of {sorted(IMAGENET_BLOCKS)}, got {m[1]}")
        return SEResNetABN(int(m[1]), num_classes, in_channels, attention)
    m = re.fullmatch(r"(?:cifar-)?densenet-bc(\d+)-(\d+)(?:-c(\d+))?(?:-dropout([0-9.e-]+))?", lower)
    if m:
        return DenseNetABN(int(m[1]), int(m[2]), int(m[3] or 2), num_classes, in_channels, attention, float(m[4] or 0))
    m = re.fullmatch(r"(?:cifar-)?wrn(\d+)-(\d+)(?:-dropout([0-9.e-]+))?", lower)
    if m:
        return WideResNetABN(int(m[1]), int(m[2]), num_classes, in_channels, attention, float(m[3] or 0))
    m = re.fullmatch(r"(?:cifar-)?resnext(\d+)-(\d+)x(\d+)d(?:-w(\d+))?", lower)
    if m:
        return ResNeXtABN(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 4), num_classes, in_channels, attention)
    m = re.fullmatch(r"(cifar-|imagenet-)?resnet(\d+)", lower)
    if not m:
        raise ValueError(f"unknown architecture {name!r}")
    depth = int(m[2])
    family = m[1][:-1] if m[1] else ("imagenet" if depth in (18, 34, 50, 101, 152) else "cifar")
    return ABN(family, depth, num_classes, in_channels, attention)


def classifier_of(model):
    """The final Linear layer (fc, or classifier in ResNeXt)."""
    return model.classifier if isinstance(model, ResNeXtABN) else model.fc
