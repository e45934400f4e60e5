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
    # `shift` uses faces no other split uses (testdata/README.md, "The `shift` split").
    "shift": {
        "AR PL SungtiL GB": ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
        "AR PL KaitiM GB": ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
        "LXGW WenKai": ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
        "Noto Sans CJK SC Light": (NOTO + "NotoSansCJK-Light.ttc", 2),
        "Noto Serif CJK SC Medium": (NOTO + "NotoSerifCJK-Medium.ttc", 2),
    },
}
SEAL_FONT = {"tune": ("Noto Sans CJK SC Bold", (NOTO + "NotoSansCJK-Bold.ttc", 2)),
             "test": ("Noto Serif CJK SC Bold", (NOTO + "NotoSerifCJK-Bold.ttc", 2)),
             "shift": ("Noto Serif CJK SC Black", (NOTO + "NotoSerifCJK-Black.ttc", 2))}

_font_cache: dict = {}


def font(spec, size: int) -> ImageFont.FreeTypeFont:
    key = (spec, size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(spec[0], size, index=spec[1])
    return _font_cache[key]


NO_LINE_START = set("，。；：、）》」』！？”’%．,.;:!?)")
UNBREAKABLE = set("0123456789.,¥￥%-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


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


def render_page(doc, layout: Layout, font_spec, ink: int = 0, hide=None):
    """Render `doc` (a docs.Doc) on a white A4 'L' page. Returns (image, lines) where each line is
    dict(block, start, end, text, xs, box=(x0, y0, x1, y1)) in page pixels, in reading order.

    `hide` = {block: (s, e)}: leave characters s..e of that paragraph unprinted where they stood,
    without rewrapping (a clause removed with no reflow). The span must start at a line start or
    end at a line end. A line that lost its end records `blank_after` = (x0, x1), the page x span
    of the first unprinted character's cell; one that lost its start records `blank_before`, the
    cell of the last unprinted character; wholly unprinted lines are left out. Line offsets are
    then those of the text with the span removed."""
    while True:
        img, lines, ok = _render_try(doc, layout, font_spec, ink, hide)
        if ok or layout.body_pt <= 9:
            break
        layout = Layout(**{**layout.__dict__, "body_pt": layout.body_pt - 0.5,
                           "spacing": max(1.35, layout.spacing - 0.1)})
    if hide:
        for l in lines:
            if l["block"] in hide:
                hs, he = hide[l["block"]]
                if l["start"] >= he:
                    l["start"] -= he - hs
                    l["end"] -= he - hs
    return img, lines


def _render_try(doc, layout: Layout, font_spec, ink: int, hide=None):
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
            x = left + (indent if li == 0 else 0)
            blank = None
            if hide and bi in hide:
                hs, he = hide[bi]
                if hs <= s and e <= he:  # the whole line unprinted: blank paper
                    y += pitch - body_px
                    continue
                if hs <= s < he:  # the line starts late
                    blank = ("blank_before", x + fb.getlength(text[s:he - 1]), x + fb.getlength(text[s:he]))
                    x += fb.getlength(text[s:he])
                    s = he
                elif s < hs < e:  # the line ends early
                    assert e <= he, "a hidden span inside one line is not supported"
                    blank = ("blank_after", x + fb.getlength(text[s:hs]), x + fb.getlength(text[s:hs + 1]))
                    e = hs
            put(x, y, text[s:e], fb, bi, s, e)
            if blank:
                lines[-1][blank[0]] = (blank[1], blank[2])
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


# ---------------------------------------------------------------------------
# The wider generator's imprint (tune and shift; test keeps apply_imprint above)
# ---------------------------------------------------------------------------

def seal_mask_drawn(org: str, seal_font_spec, diameter_mm: float, ring_mm: float,
                    inner_ring: bool = False, under: str | None = None) -> Image.Image:
    """Like seal_mask, with a chosen ring width, an optional thin inner ring inside the outer one
    and an optional line under the star (a code or a purpose such as 合同专用章)."""
    D = round(diameter_mm * PX_PER_MM)
    S = D + 8
    m = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(m)
    c = S / 2
    R = D / 2
    ring = max(4, round(ring_mm * PX_PER_MM))
    d.ellipse((c - R, c - R, c + R, c + R), outline=255, width=ring)
    text_outer = R - ring
    if inner_ring:
        ri = R - ring - round(0.8 * PX_PER_MM)
        w = max(2, round(0.3 * PX_PER_MM))
        d.ellipse((c - ri, c - ri, c + ri, c + ri), outline=255, width=w)
        text_outer = ri - w
    rs = R * 0.30
    pts = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        r = rs if k % 2 == 0 else rs * 0.382
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    d.polygon(pts, fill=255)
    n = len(org)
    span = math.radians(min(290.0, 100 + 12 * n))
    ch_px = round(min(R * 0.34, (text_outer * 0.72) * span / max(n, 1) * 0.95))
    ch_px = max(ch_px, round(R * 0.15))
    f = font(seal_font_spec, ch_px)
    rt = text_outer - 0.62 * ch_px
    for i, ch in enumerate(org):
        a = -span / 2 + span * (i + 0.5) / n
        g = Image.new("L", (ch_px * 2, ch_px * 2), 0)
        ImageDraw.Draw(g).text((ch_px, ch_px), ch, font=f, fill=255, anchor="mm")
        g = g.rotate(-math.degrees(a), resample=Image.BICUBIC)
        x = c + rt * math.sin(a)
        y = c - rt * math.cos(a)
        m.paste(255, (round(x - ch_px), round(y - ch_px)), g)
    if under:
        size = round(R * (0.11 if under.isdigit() else 0.19))
        d.text((c, c + R * 0.52), under, font=font(seal_font_spec, size), fill=255, anchor="mm")
    return m


def press_alpha(rng, mask: Image.Image, opacity: str, peak: float, gradient) -> np.ndarray:
    """One press's ink alpha in [0, 1]. Translucent: the legacy density field (patchy, 0.15..1
    of `peak`). Opaque: a nearly solid film (0.55..1 of `peak`, mostly above 0.85), as a freshly
    inked stamp pressed hard lays it. `gradient` = (angle, depth): density falls off across the
    imprint by up to `depth` (uneven pressure)."""
    w, h = mask.size
    low = rng.uniform(0.0, 1.0, (8, 8)).astype(np.float32)
    low = np.asarray(Image.fromarray((low * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), np.float32) / 255
    speck = rng.uniform(0.0, 1.0, (h, w)).astype(np.float32)
    if opacity == "opaque":
        dens = np.clip(0.86 + 0.18 * low - 0.12 * (speck > 0.93), 0.55, 1.0)
    else:
        dens = np.clip(0.55 + 0.6 * low - 0.25 * (speck > 0.9), 0.15, 1.0)
    if gradient is not None:
        ang, depth = gradient
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        proj = ((xx - w / 2) * math.cos(ang) + (yy - h / 2) * math.sin(ang)) / (w / 2)
        dens = dens * (1 - depth * np.clip((proj + 1) / 2, 0, 1))
    a = np.asarray(mask.filter(ImageFilter.GaussianBlur(1.2)), np.float32) / 255
    return a * dens * peak


def _blend(page_rgb: np.ndarray, alpha: np.ndarray, center, color, blend: str, acc: np.ndarray) -> None:
    h, w = alpha.shape
    x0 = round(center[0] - w / 2)
    y0 = round(center[1] - h / 2)
    H, W = page_rgb.shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(W, x0 + w), min(H, y0 + h)
    if dx1 <= dx0 or dy1 <= dy0:
        return
    a = alpha[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]
    col = np.asarray(color, np.float32)
    if blend == "multiply":  # translucent paste: the print stays dark under it
        page_rgb[dy0:dy1, dx0:dx1] *= (1 - a[..., None]) + a[..., None] * col
    else:  # normal (alpha-over): the ink film covers what is under it, print included
        page_rgb[dy0:dy1, dx0:dx1] = page_rgb[dy0:dy1, dx0:dx1] * (1 - a[..., None]) + a[..., None] * (col * 245.0)
    acc[dy0:dy1, dx0:dx1] = 1 - (1 - acc[dy0:dy1, dx0:dx1]) * (1 - a)


def apply_imprint_styled(page_rgb: np.ndarray, rng, org: str, seal_font_spec, center, angle: float, st: dict):
    """Press a seal in the style `st` (drawn by generate.py: diameter, ring_mm, inner_ring, under,
    blend, opacity, peak, gradient, color, double) onto the float page in place. Returns
    (radius in page px, the second press's centre or None, the page's combined ink alpha)."""
    m = seal_mask_drawn(org, seal_font_spec, st["diameter"], st["ring_mm"], st["inner_ring"], st["under"])
    acc = np.zeros(page_rgb.shape[:2], np.float32)
    a1 = press_alpha(rng, m.rotate(angle, resample=Image.BICUBIC), st["opacity"], st["peak"], st["gradient"])
    _blend(page_rgb, a1, center, st["color"], st["blend"], acc)
    second = None
    if st["double"] is not None:  # a second, offset, fainter press of the same seal
        dx, dy, dang, fade = st["double"]
        second = (center[0] + dx, center[1] + dy)
        a2 = press_alpha(rng, m.rotate(angle + dang, resample=Image.BICUBIC), "translucent",
                         st["peak"] * fade, st["gradient"])
        _blend(page_rgb, a2, second, st["color"], st["blend"], acc)
    return st["diameter"] / 2 * PX_PER_MM, second, acc


def disks_cover(box, disks, nx: int = 24, ny: int = 6) -> float:
    """Share of an axis-aligned box (page px) inside the union of disks [(center, radius)]."""
    x0, y0, x1, y1 = box
    xs = x0 + (np.arange(nx) + 0.5) / nx * (x1 - x0)
    ys = y0 + (np.arange(ny) + 0.5) / ny * (y1 - y0)
    gx, gy = np.meshgrid(xs, ys)
    inside = np.zeros(gx.shape, bool)
    for c, r in disks:
        inside |= (gx - c[0]) ** 2 + (gy - c[1]) ** 2 <= r ** 2
    return float(inside.mean())


def box_ink(alpha: np.ndarray, box) -> float:
    """Mean imprint alpha over a page box (the pixels whose centres lie in it)."""
    H, W = alpha.shape
    x0, y0, x1, y1 = box
    a0, a1 = max(0, int(math.ceil(x0 - 0.5))), min(W, int(math.floor(x1 - 0.5)) + 1)
    b0, b1 = max(0, int(math.ceil(y0 - 0.5))), min(H, int(math.floor(y1 - 0.5)) + 1)
    if a1 <= a0 or b1 <= b0:
        return 0.0
    return float(alpha[b0:b1, a0:a1].mean())


_glyph_cache: dict = {}


def missing_glyphs(font_spec, text: str) -> str:
    """Characters of `text` the face has no glyph for (rendered as its empty .notdef)."""
    f = font(font_spec, 40)
    if font_spec not in _glyph_cache:
        _glyph_cache[font_spec] = ({}, bytes(f.getmask("\U0010FFFD")))
    seen, nd = _glyph_cache[font_spec]
    out = []
    for ch in sorted(set(text)):
        if ch in " \u3000\n\f":
            continue
        if ch not in seen:
            seen[ch] = bytes(f.getmask(ch)) == nd
        if seen[ch]:
            out.append(ch)
    return "".join(out)
