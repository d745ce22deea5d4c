"""The official ABN ResNets (CIFAR and ImageNet variants) in PyTorch, written from the facts in
the ABN paper and the official code (docs/architecture.md)'s structure, so tests and benchmarks have a reference
with exactly the official state_dict names. Not a copy of the official code."""
import math
import torch
import torch.nn as nn


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

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


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

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


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
