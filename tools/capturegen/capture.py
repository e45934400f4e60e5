"""Camera geometry (one homography page -> capture) and photometric degradations."""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageFilter

from render import PX_PER_MM


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------

def homography(src, dst) -> np.ndarray:
    """3x3 H with H @ [x, y, 1] ~ dst for 4 point pairs."""
    A, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    h = np.linalg.solve(np.array(A, np.float64), np.array(b, np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply_h(H: np.ndarray, pts) -> np.ndarray:
    p = np.asarray(pts, np.float64)
    q = np.c_[p, np.ones(len(p))] @ H.T
    return q[:, :2] / q[:, 2:3]


def affine(scale: float, angle_deg: float, src_center, dst_center) -> np.ndarray:
    """Scale, rotate clockwise (image coords, y down) about src_center, move it to dst_center."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    T1 = np.array([[1, 0, -src_center[0]], [0, 1, -src_center[1]], [0, 0, 1]], np.float64)
    R = np.array([[scale * c, -scale * s, 0], [scale * s, scale * c, 0], [0, 0, 1]], np.float64)
    T2 = np.array([[1, 0, dst_center[0]], [0, 1, dst_center[1]], [0, 0, 1]], np.float64)
    return T2 @ R @ T1


def jitter(rng, w: float, h: float, amount: float) -> np.ndarray:
    """Perspective: the frame's corners moved by up to `amount` of the frame size."""
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(x + rng.uniform(-amount, amount) * w, y + rng.uniform(-amount, amount) * h) for x, y in src]
    return homography(src, dst)


def warp(img: Image.Image, H: np.ndarray, size, fill=0) -> Image.Image:
    """Warp `img` by H (img coords -> output coords) into an output of `size`. Downscaling is
    done first with an antialiasing resize so the bicubic warp never minifies much."""
    k = math.sqrt(abs(np.linalg.det(H[:2, :2] / H[2, 2])))
    if k < 0.85:
        f = min(1.0, k * 1.15)
        ow, oh = img.size
        img = img.resize((max(1, round(ow * f)), max(1, round(oh * f))), Image.LANCZOS)
        H = H @ np.diag([ow / img.width, oh / img.height, 1.0])
    Hi = np.linalg.inv(H)
    Hi = Hi / Hi[2, 2]
    coeffs = tuple(float(v) for v in Hi.flatten()[:8])
    return img.transform(size, Image.PERSPECTIVE, coeffs, resample=Image.BICUBIC, fillcolor=fill)


# ---------------------------------------------------------------------------
# Textures and photometry
# ---------------------------------------------------------------------------

def smooth_field(rng, w: int, h: int, cells: int = 6) -> np.ndarray:
    g = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    im = Image.fromarray((g * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    return np.asarray(im, np.float32) / 255


def desk_texture(rng, w: int, h: int) -> np.ndarray:
    """A synthetic desk: wood grain, grey laminate or a cloth; float RGB in [0,255]."""
    kind = int(rng.integers(0, 3))
    sw, sh = max(8, w // 4), max(8, h // 4)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    turb = smooth_field(rng, sw, sh, 5) * 25 + smooth_field(rng, sw, sh, 17) * 6
    ang = rng.uniform(0, math.pi)
    u = xx * math.cos(ang) + yy * math.sin(ang)
    if kind == 0:  # wood
        grain = 0.5 + 0.5 * np.sin((u + turb) * rng.uniform(0.15, 0.4))
        base = np.array([rng.uniform(110, 170), rng.uniform(70, 110), rng.uniform(35, 70)], np.float32)
        tex = base * (0.75 + 0.35 * grain[..., None])
    elif kind == 1:  # laminate
        base = np.array([rng.uniform(90, 200)] * 3, np.float32) * np.array([1.0, rng.uniform(0.95, 1.02), rng.uniform(0.9, 1.05)], np.float32)
        tex = base * (0.9 + 0.15 * smooth_field(rng, sw, sh, 9)[..., None])
    else:  # cloth / felt
        base = np.array([rng.uniform(20, 90), rng.uniform(40, 110), rng.uniform(40, 120)], np.float32)
        weave = 0.5 + 0.5 * np.sin(xx * 2.1) * np.sin(yy * 2.1)
        tex = base * (0.85 + 0.2 * weave[..., None] + 0.1 * smooth_field(rng, sw, sh, 7)[..., None])
    img = Image.fromarray(np.clip(tex, 0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
    out = np.asarray(img, np.float32).copy()
    out += rng.normal(0, 2, (h, w, 1)).astype(np.float32)
    return out


def desk_objects(rng, img: np.ndarray):
    """A pen and a mug ring or two, so a 'photo of a desk' is not a flat texture."""
    h, w = img.shape[:2]
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    from PIL import ImageDraw
    d = ImageDraw.Draw(pil)
    for _ in range(int(rng.integers(1, 3))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a = rng.uniform(0, math.pi)
        L = rng.uniform(0.3, 0.6) * w
        col = tuple(int(v) for v in rng.integers(10, 80, 3))
        d.line((x, y, x + L * math.cos(a), y + L * math.sin(a)), fill=col, width=int(rng.integers(8, 18)))
    if rng.uniform() < 0.6:
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.25) * min(w, h)
        d.ellipse((x - r, y - r, x + r, y + r), outline=tuple(int(v) for v in rng.integers(100, 230, 3)), width=int(rng.integers(10, 30)))
    return np.asarray(pil.filter(ImageFilter.GaussianBlur(1.5)), np.float32).copy()


def light_field(rng, w: int, h: int, band: bool) -> np.ndarray:
    """Uneven light: gradient, vignette / LED hotspot, sometimes a soft shadow."""
    sw, sh = max(8, w // 8), max(8, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xn, yn = xx / sw - 0.5, yy / sh - 0.5
    base = rng.uniform(0.78, 1.05)
    f = base * (1 + rng.uniform(-0.35, 0.35) * xn + rng.uniform(-0.35, 0.35) * yn)
    r2 = (xn - rng.uniform(-0.2, 0.2)) ** 2 + (yn - rng.uniform(-0.2, 0.2)) ** 2
    vig = rng.uniform(0.35, 0.9) if band else rng.uniform(0.0, 0.5)
    f = f * (1 - vig * r2 * 1.6)
    if band and rng.uniform() < 0.5:  # LED hotspot
        f = f + rng.uniform(0.1, 0.3) * np.exp(-r2 / rng.uniform(0.01, 0.04))
    if rng.uniform() < 0.35:  # soft shadow across part of the frame
        a = rng.uniform(0, 2 * math.pi)
        t = xn * math.cos(a) + yn * math.sin(a) - rng.uniform(-0.3, 0.3)
        f = f * (1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-t * rng.uniform(8, 30))))
    f = np.clip(f, 0.25, 1.3)
    im = Image.fromarray(f.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR)
    return np.asarray(im, np.float32)


def motion_blur(arr: np.ndarray, rng) -> np.ndarray:
    n = int(rng.integers(2, 5))
    a = rng.uniform(0, math.pi)
    acc = np.zeros_like(arr)
    for i in range(n):
        t = i - (n - 1) / 2
        acc += np.roll(arr, (round(t * math.sin(a)), round(t * math.cos(a))), axis=(0, 1))
    return acc / n


def finish(arr: np.ndarray, rng, blur: float, noise: float, quality: int, motion: bool) -> bytes:
    """Blur, sensor noise, JPEG. `arr` float RGB [0,255]."""
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(img, np.float32)
    if motion:
        a = motion_blur(a, rng)
    h, w = a.shape[:2]
    a = a + rng.normal(0, noise, (h, w, 1)).astype(np.float32) + rng.normal(0, noise * 0.35, (h, w, 3)).astype(np.float32)
    img = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(quality), optimize=True)
    return buf.getvalue()
