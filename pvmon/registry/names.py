"""Plausible Chinese personal names and contacts for the generated registry."""

from __future__ import annotations

import random

# Surnames common in southern Shanxi, most frequent first.
SURNAMES = "王李张刘郭贺冯白高任杨赵薛曹马武郝石田段孙梁韩吴程闫冯霍胡苏卫贾牛"
GIVEN = [
    "建国",
    "志强",
    "永红",
    "海燕",
    "小平",
    "红梅",
    "文斌",
    "晓东",
    "俊峰",
    "丽娟",
    "春生",
    "秋菊",
    "宏伟",
    "玉兰",
    "建军",
    "国庆",
    "保平",
    "爱萍",
    "利军",
    "彩霞",
    "军",
    "强",
    "芳",
    "静",
    "伟",
    "敏",
    "磊",
    "涛",
    "勇",
    "艳",
    "杰",
    "娜",
    "平",
    "刚",
    "鹏",
    "霞",
    "斌",
    "慧",
    "润生",
    "满仓",
    "福贵",
    "桂花",
    "金莲",
    "拴柱",
    "来宝",
    "引娣",
    "双喜",
    "有才",
]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "150", "152", "187", "135")) + f"{rng.randrange(10**8):08d}"
