"""A4 page rendering with real CJK fonts, own line wrapping and per-line boxes; the seal imprint."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DPI = 200
PX_PER_MM = DPI / 25.4
PAGE_W = round(210 * PX_PER_MM)  # 1654
PAGE_H = round(297 * PX_PER_MM)  # 2339

NOTO = "/usr/share/fonts/opentype/noto/"
# name -> (file, ttc index). Faces are split: `test` never uses a `tune` face (seal faces included).
FONTS = {
    "tune": {
        "Noto Sans CJK SC": (NOTO + "NotoSansCJK-Regular.ttc", 2),
        "Noto Serif CJK SC": (NOTO + "NotoSerifCJK-Regular.ttc", 2),
        "WenQuanYi Zen Hei": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
        "AR PL UMing CN": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    },
    "test": {
        "WenQuanYi Micro Hei": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
        "AR PL UKai CN": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
        "Noto Serif CJK SC Bold": (NOTO + "NotoSerifCJK-Bold.ttc", 2),
        "Noto Sans Mono CJK SC": (NOTO + "NotoSansCJK-Regular.ttc", 7),
    },
}
SEAL_FONT = {"tune": ("Noto Sans CJK SC Bold", (NOTO + "NotoSansCJK-Bold.ttc", 2)),
             "test": ("Noto Serif CJK SC Bold", (NOTO + "NotoSerifCJK-Bold.ttc", 2))}

_font_cache: dict = {}


def font(spec, size: int) -> ImageFont.FreeTypeFont:
    key = (spec, size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(spec[0], size, index=spec[1])
    return _font_cache[key]


NO_LINE_START = set("，。；：、）》」』！？”’%．,.;:!?)")
UNBREAKABLE = set("0123456789.,¥%-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass
class Layout:
    body_pt: float
    title_pt: float
    spacing: float       # line pitch / font size
    para_gap: float      # extra gap between blocks, in lines
    margin_l: float      # mm
    margin_r: float
    margin_t: float
    sign_gap: float      # lines before the signature block
    sign_indent: float   # chars from the right margin


def random_layout(rng) -> Layout:
    return Layout(
        body_pt=float(rng.choice([11.0, 12.0, 12.0, 13.0, 14.0])),
        title_pt=float(rng.choice([16.0, 18.0, 20.0, 22.0])),
        spacing=float(rng.uniform(1.45, 2.0)),
        para_gap=float(rng.choice([0.0, 0.0, 0.3, 0.6])),
        margin_l=float(rng.uniform(22, 32)),
        margin_r=float(rng.uniform(20, 30)),
        margin_t=float(rng.uniform(22, 38)),
        sign_gap=float(rng.uniform(1.0, 3.0)),
        sign_indent=float(rng.uniform(0.5, 4.0)),
    )


def _tokens(text: str):
    """Split into unbreakable tokens: runs of digits/latin, or single other characters."""
    out, start = [], 0
    i = 0
    while i < len(text):
        if text[i] in UNBREAKABLE:
            j = i
            while j < len(text) and text[j] in UNBREAKABLE:
                j += 1
            out.append((i, j))
            i = j
        else:
            out.append((i, i + 1))
            i += 1
    return out


def wrap(text: str, fnt, max_w: float, first_indent: float):
    """Greedy wrap; returns [(start, end)] char spans. Closing punctuation never starts a line."""
    spans = []
    toks = _tokens(text)
    line_start = 0
    width_avail = max_w - first_indent
    cur_end = 0
    k = 0
    while k < len(toks):
        s, e = toks[k]
        w = fnt.getlength(text[line_start:e])
        if w <= width_avail or cur_end == line_start:
            cur_end = e
            k += 1
            continue
        # token does not fit: punctuation stays on the line (overhang), else break here
        if text[s] in NO_LINE_START:
            cur_end = e
            k += 1
        spans.append((line_start, cur_end))
        line_start = cur_end
        width_avail = max_w
    if line_start < len(text):
        spans.append((line_start, len(text)))
    return spans


def render_page(doc, layout: Layout, font_spec, ink: int = 0):
    """Render `doc` (a docs.Doc) on a white A4 'L' page. Returns (image, lines) where each line is
    dict(block, start, end, text, xs, box=(x0, y0, x1, y1)) in page pixels, in reading order."""
    while True:
        img, lines, ok = _render_try(doc, layout, font_spec, ink)
        if ok or layout.body_pt <= 9:
            return img, lines
        layout = Layout(**{**layout.__dict__, "body_pt": layout.body_pt - 0.5,
                           "spacing": max(1.35, layout.spacing - 0.1)})


def _render_try(doc, layout: Layout, font_spec, ink: int):
    img = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(img)
    body_px = round(layout.body_pt * DPI / 72)
    title_px = round(layout.title_pt * DPI / 72)
    fb = font(font_spec, body_px)
    ft = font(font_spec, title_px)
    left = layout.margin_l * PX_PER_MM
    right = PAGE_W - layout.margin_r * PX_PER_MM
    max_w = right - left
    pitch = body_px * layout.spacing
    y = layout.margin_t * PX_PER_MM
    lines = []
    pending_left = None  # sign_left shares its row with the next sign
    started_sign = False

    def put(x, baseline, text, fnt, block, s, e):
        bb = draw.textbbox((x, baseline), text, font=fnt, anchor="ls")
        draw.text((x, baseline), text, font=fnt, fill=ink, anchor="ls")
        pad = 0.06 * fnt.size
        # xs[k]: page x where character k starts (xs[len] is the end), so ground truth can
        # tell which characters of a line the frame shows.
        xs = [x + fnt.getlength(text[:k]) for k in range(len(text) + 1)]
        lines.append(dict(block=block, start=s, end=e, text=text, xs=xs,
                          box=(bb[0] - pad, bb[1] - pad, bb[2] + pad, bb[3] + pad)))

    for bi, (style, text) in enumerate(doc.blocks):
        if style == "title":
            y += title_px
            spans = wrap(text, ft, max_w * 0.9, 0)
            for s, e in spans:
                w = ft.getlength(text[s:e])
                put((PAGE_W - w) / 2 + (layout.margin_l - layout.margin_r) * PX_PER_MM / 2, y,
                    text[s:e], ft, bi, s, e)
                y += title_px * 1.5
            y += pitch * 0.6
            continue
        if style in ("sign", "sign_left", "date") and not started_sign:
            started_sign = True
            y += pitch * layout.sign_gap
        if style == "sign_left":
            y += body_px
            pending_left = (bi, text)
            put(left, y, text, fb, bi, 0, len(text))
            continue
        if style in ("sign", "date"):
            if pending_left is None:
                y += body_px
            pending_left = None
            w = fb.getlength(text)
            x = right - w - layout.sign_indent * body_px
            if style == "date" and lines and doc.blocks[lines[-1]["block"]][0] == "sign":
                prev = lines[-1]["box"]
                x = max(left, min(right - w, (prev[0] + prev[2]) / 2 - w / 2))
            x = max(left, x)
            put(x, y, text, fb, bi, 0, len(text))
            y += pitch - body_px
            continue
        indent = 2 * body_px if style == "para" else 0
        spans = wrap(text, fb, max_w, indent)
        for li, (s, e) in enumerate(spans):
            y += body_px
            put(left + (indent if li == 0 else 0), y, text[s:e], fb, bi, s, e)
            y += pitch - body_px
        y += pitch * layout.para_gap
    ok = y < PAGE_H - 18 * PX_PER_MM
    return img, lines, ok


# ---------------------------------------------------------------------------
# Seal imprint
# ---------------------------------------------------------------------------

def seal_mask(rng, org: str, seal_font_spec, diameter_mm: float = 42.0) -> Image.Image:
    """An 'L' ink mask of a round official seal: ring, five-pointed star, org name arced over the top."""
    D = round(diameter_mm * PX_PER_MM)
    S = D + 8
    m = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(m)
    c = S / 2
    R = D / 2
    ring = max(6, round(1.1 * PX_PER_MM))
    d.ellipse((c - R, c - R, c + R, c + R), outline=255, width=ring)
    # star
    rs = R * 0.30
    pts = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        r = rs if k % 2 == 0 else rs * 0.382
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    d.polygon(pts, fill=255)
    # arced text
    n = len(org)
    span = math.radians(min(290.0, 100 + 12 * n))
    ch_px = round(min(R * 0.36, (R * 0.72) * span / max(n, 1) * 0.95))
    ch_px = max(ch_px, round(R * 0.16))
    f = font(seal_font_spec, ch_px)
    rt = R - ring - 0.62 * ch_px
    for i, ch in enumerate(org):
        a = -span / 2 + span * (i + 0.5) / n  # from top, clockwise
        g = Image.new("L", (ch_px * 2, ch_px * 2), 0)
        ImageDraw.Draw(g).text((ch_px, ch_px), ch, font=f, fill=255, anchor="mm")
        g = g.rotate(-math.degrees(a), resample=Image.BICUBIC)
        x = c + rt * math.sin(a)
        y = c - rt * math.cos(a)
        m.paste(255, (round(x - ch_px), round(y - ch_px)), g)
    return m


def ink_texture(rng, mask: Image.Image) -> np.ndarray:
    """Uneven inking: low-frequency density field times speckle; returns alpha in [0,1]."""
    w, h = mask.size
    low = rng.uniform(0.0, 1.0, (8, 8)).astype(np.float32)
    low = np.asarray(Image.fromarray((low * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), np.float32) / 255
    speck = rng.uniform(0.0, 1.0, (h, w)).astype(np.float32)
    dens = np.clip(0.55 + 0.6 * low - 0.25 * (speck > 0.9), 0.15, 1.0)
    a = np.asarray(mask.filter(ImageFilter.GaussianBlur(1.2)), np.float32) / 255
    return a * dens


def apply_imprint(page_rgb: np.ndarray, rng, org: str, seal_font_spec, center, angle: float):
    """Multiply-blend a semi-transparent red imprint onto the float page (H, W, 3) in place.
    Returns the imprint's outer radius in page pixels."""
    diameter = float(rng.choice([40.0, 42.0, 42.0, 45.0]))
    m = seal_mask(rng, org, seal_font_spec, diameter)
    m = m.rotate(angle, resample=Image.BICUBIC)
    alpha = ink_texture(rng, m) * float(rng.uniform(0.55, 0.92))
    red = np.array([rng.uniform(0.78, 0.92), rng.uniform(0.08, 0.25), rng.uniform(0.12, 0.3)], np.float32)
    h, w = alpha.shape
    x0 = round(center[0] - w / 2)
    y0 = round(center[1] - h / 2)
    H, W = page_rgb.shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(W, x0 + w), min(H, y0 + h)
    if dx1 <= dx0 or dy1 <= dy0:
        return diameter / 2 * PX_PER_MM
    a = alpha[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0][..., None]
    page_rgb[dy0:dy1, dx0:dx1] *= (1 - a) + a * red
    return diameter / 2 * PX_PER_MM


def disk_cover(box, center, radius, nx: int = 24, ny: int = 6) -> float:
    """Share of an axis-aligned box (page px) inside a disk, by a fixed sample grid."""
    x0, y0, x1, y1 = box
    xs = x0 + (np.arange(nx) + 0.5) / nx * (x1 - x0)
    ys = y0 + (np.arange(ny) + 0.5) / ny * (y1 - y0)
    gx, gy = np.meshgrid(xs, ys)
    inside = (gx - center[0]) ** 2 + (gy - center[1]) ** 2 <= radius ** 2
    return float(inside.mean())
