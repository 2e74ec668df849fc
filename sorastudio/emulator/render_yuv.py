"""YUV 4:2:0 building blocks for the emulator renderer.

Frames are composed directly in BT.601 limited-range YUV 4:2:0 planes (what libx264 encodes), so the
per-frame work is slicing and small alpha blends instead of a full RGB→YUV conversion per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]
F32 = NDArray[np.float32]
Planes = tuple[U8, U8, U8]

# BT.601 limited range (the swscale default for untagged video, and what we tag the stream as).
_RGB_TO_YUV = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]], dtype=np.float32
) / np.float32(255.0)
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)


def rgb_to_yuv_float(rgb: NDArray[np.generic]) -> F32:
    """(..., 3) RGB in 0..255 -> (..., 3) float YUV (BT.601 limited range)."""
    yuv: F32 = rgb.astype(np.float32) @ _RGB_TO_YUV.T + _YUV_OFFSET
    return yuv


def yuv_to_rgb(yuv: tuple[float, float, float]) -> tuple[int, int, int]:
    rgb = np.linalg.solve(_RGB_TO_YUV, np.asarray(yuv, dtype=np.float64) - _YUV_OFFSET)
    r, g, b = (int(c) for c in np.clip(np.rint(rgb), 0, 255))
    return r, g, b


def half(plane: NDArray[np.floating]) -> NDArray[np.floating]:
    """2x2 box downsample (chroma siting is close enough for synthetic content)."""
    return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) * 0.25


def to_u8(plane: NDArray[np.floating]) -> U8:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def rgb_to_planes(rgb: U8) -> Planes:
    """(h, w, 3) uint8 RGB with even h and w -> Y (h, w), U and V (h/2, w/2)."""
    yuv = rgb_to_yuv_float(rgb)
    return to_u8(yuv[..., 0]), to_u8(half(yuv[..., 1])), to_u8(half(yuv[..., 2]))


def rotate_chroma(u: U8, v: U8, degrees: float) -> tuple[U8, U8]:
    """Hue-rotate by turning the (U, V) vector; luma is untouched so the picture's structure stays."""
    a = np.deg2rad(degrees)
    cu, cv = u.astype(np.float32) - 128.0, v.astype(np.float32) - 128.0
    ru = cu * np.cos(a) - cv * np.sin(a) + 128.0
    rv = cu * np.sin(a) + cv * np.cos(a) + 128.0
    return to_u8(ru), to_u8(rv)


def rotate_rgb(rgb: tuple[int, int, int], degrees: float) -> tuple[int, int, int]:
    y, u, v = rgb_to_yuv_float(np.asarray(rgb, dtype=np.float32))
    a = np.deg2rad(degrees)
    cu, cv = u - 128.0, v - 128.0
    return yuv_to_rgb(
        (float(y), float(cu * np.cos(a) - cv * np.sin(a) + 128), float(cu * np.sin(a) + cv * np.cos(a) + 128))
    )


@dataclass
class Patch:
    """An RGBA sprite as premultiplied YUV 4:2:0 with alpha scaled to 0..256, ready for integer blends.

    Blend: dst = (dst * inv + pre) >> 8 with inv = 256 - alpha, which stays within uint16.
    """

    pre: tuple[U16, U16, U16]
    inv: tuple[U16, U16, U16]
    _faded: dict[int, Patch] = field(default_factory=dict, repr=False)

    @property
    def height(self) -> int:
        return int(self.pre[0].shape[0])

    @property
    def width(self) -> int:
        return int(self.pre[0].shape[1])

    @classmethod
    def from_rgba(cls, rgba: U8) -> Patch:
        """(h, w, 4) uint8 RGBA with even h and w."""
        alpha = rgba[..., 3].astype(np.float32) * (256.0 / 255.0)
        yuv = rgb_to_yuv_float(rgba[..., :3])
        a_c = half(alpha)
        pre_y = yuv[..., 0] * alpha
        pre_u = half(yuv[..., 1] * alpha)
        pre_v = half(yuv[..., 2] * alpha)
        a16 = np.rint(alpha).astype(np.uint16)
        ac16 = np.rint(a_c).astype(np.uint16)
        return cls(
            pre=(_u16(pre_y), _u16(pre_u), _u16(pre_v)),
            inv=(256 - a16, 256 - ac16, 256 - ac16),
        )

    def faded(self, level: int) -> Patch:
        """This patch with opacity multiplied by level/16 (cached: fades use few distinct levels)."""
        if level >= 16:
            return self
        if level not in self._faded:
            pre = tuple((p.astype(np.uint32) * level >> 4).astype(np.uint16) for p in self.pre)
            inv = tuple(
                (256 - ((256 - i.astype(np.uint32)) * level >> 4)).astype(np.uint16) for i in self.inv
            )
            self._faded[level] = Patch(pre=(pre[0], pre[1], pre[2]), inv=(inv[0], inv[1], inv[2]))
        return self._faded[level]

    def blend_onto(self, planes: Planes, x: int, y: int) -> None:
        """Composite with the top-left corner at luma pixel (x, y); clipped to the frame."""
        _blend_plane(planes[0], self.pre[0], self.inv[0], x, y)
        _blend_plane(planes[1], self.pre[1], self.inv[1], x // 2, y // 2)
        _blend_plane(planes[2], self.pre[2], self.inv[2], x // 2, y // 2)


def _u16(a: NDArray[np.floating]) -> U16:
    return np.clip(np.rint(a), 0, 65280).astype(np.uint16)


def _blend_plane(dst: U8, pre: U16, inv: U16, x: int, y: int) -> None:
    h, w = pre.shape
    dh, dw = dst.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, dw), min(y + h, dh)
    if x0 >= x1 or y0 >= y1:
        return
    region = dst[y0:y1, x0:x1]
    sy, sx = slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)
    acc = region * inv[sy, sx]  # uint8 * uint16 -> uint16
    acc += pre[sy, sx]
    acc >>= 8
    region[...] = acc
