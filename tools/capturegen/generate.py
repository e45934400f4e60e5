"""Synthetic smart-seal captures with exact ground truth, written as sealcheck case manifests.

    python generate.py --split tune --out ../../testdata/cases/tune
    python generate.py --split test --out ../../testdata/cases/test
    python generate.py --split shift --out ../../testdata/cases/shift

Output is a pure function of (split, seed, this code, the pinned packages and the font files).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs as D  # noqa: E402
import render as R  # noqa: E402
import capture as C  # noqa: E402

SEEDS = {"tune": 1001, "test": 2002, "shift": 3003}
# Which generator a split takes. `test` keeps the legacy code path and its random draws, so its
# files stay byte-identical and figures on it stay comparable; `tune` and `shift` take the wider
# generator of issue #28 (seal styles, placement by practice, edge tampers, clause removals with
# and without reflow).
STYLE = {"tune": "wide", "test": "legacy", "shift": "wide"}
N_DOCS = int(os.environ.get("CAPTUREGEN_DOCS", "42"))  # smaller values for quick looks only
N_UNREADABLE = int(os.environ.get("CAPTUREGEN_UNREADABLE", "14"))
EXTRA_KINDS = ["swap", "clause_added", "clause_removed", "other_document"]
# The wider generator gives clause removals half of the fifth captures (the class issue #28 found
# accepted), and rotates them over whole paragraph / clause with reflow / clause left blank.
WIDE_EXTRA_KINDS = ["clause_removed", "swap", "clause_removed", "clause_added", "clause_removed", "other_document"]
REMOVAL_MODES = ["gap", "reflow", "paragraph"]
CAPS = "壹贰叁肆伍陆柒捌玖"


def norm(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("\u3000", ""))


# ---------------------------------------------------------------------------
# Tampering: each returns (printed doc, info) with positions in the printed doc
# ---------------------------------------------------------------------------

def _replace(doc, bi, s, e, new):
    blocks = list(doc.blocks)
    st, t = blocks[bi]
    blocks[bi] = (st, t[:s] + new + t[e:])
    return D.Doc(doc.template, doc.kind, blocks, doc.org)


def _run(t, pos, chars):
    s = pos
    while s > 0 and t[s - 1] in chars:
        s -= 1
    e = pos + 1
    while e < len(t) and t[e] in chars:
        e += 1
    return s, e


def tamper_digit(doc, rng):
    cands = [(bi, m.start()) for bi, (st, t) in enumerate(doc.blocks) if st != "title"
             for m in re.finditer(r"[0-9]", t)]
    bi, pos = cands[int(rng.integers(0, len(cands)))]
    t = doc.blocks[bi][1]
    s, e = _run(t, pos, "0123456789")
    while True:
        new = str(int(rng.integers(0, 10)))
        if new != t[pos] and not (new == "0" and pos == s):
            break
    printed = _replace(doc, bi, pos, pos + 1, new)
    ts, te = _run(t, pos, "0123456789.,¥X")
    nt = printed.blocks[bi][1]
    return printed, dict(kind="digit", block=bi, span=(pos, pos + 1),
                         detail=f"{t[ts:te]} → {nt[ts:te]}")


def tamper_amount(doc, rng):
    cands = []
    for bi, (st, t) in enumerate(doc.blocks):
        if st == "title":
            continue
        for m in re.finditer(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万]+元整", t):
            cands += [(bi, i, m.start(), m.end()) for i in range(m.start(), m.end()) if t[i] in CAPS]
    if not cands:  # documents without an amount: a capital count (叁名, 柒天, 陆个月)
        for bi, (st, t) in enumerate(doc.blocks):
            for m in re.finditer(r"[壹贰叁肆伍陆柒捌玖拾]+(?=[名天日个])", t):
                cands += [(bi, i, m.start(), m.end() + 1) for i in range(m.start(), m.end()) if t[i] in CAPS]
    if not cands:
        return tamper_digit(doc, rng)
    bi, pos, ms, me = cands[int(rng.integers(0, len(cands)))]
    t = doc.blocks[bi][1]
    new = t[pos]
    while new == t[pos]:
        new = CAPS[int(rng.integers(0, 9))]
    printed = _replace(doc, bi, pos, pos + 1, new)
    return printed, dict(kind="amount", block=bi, span=(pos, pos + 1),
                         detail=f"{t[ms:me]} → {printed.blocks[bi][1][ms:me]}")


def tamper_swap(doc, rng, split):
    names = []
    for bi, (st, t) in enumerate(doc.blocks):
        if st == "title":
            continue
        for m in re.finditer("|".join(re.escape(g) for g in D.GIVEN[split]), t):
            s = m.start() - 1
            if s >= 0 and t[s] in D.SURNAMES:
                names.append((bi, s, m.end()))
    words = []
    for bi, (st, t) in enumerate(doc.blocks):
        if st == "title":
            continue
        for a, b in D.WORD_SWAPS:
            for m in re.finditer(re.escape(a), t):
                words.append((bi, m.start(), m.end(), b))
    use_name = names and (not words or rng.uniform() < 0.55)
    if use_name:
        bi, s, e = names[int(rng.integers(0, len(names)))]
        t = doc.blocks[bi][1]
        old = t[s:e]
        new = old
        while new == old or new in doc.text():
            new = D.SURNAMES[int(rng.integers(0, len(D.SURNAMES)))] + D.GIVEN[split][int(rng.integers(0, len(D.GIVEN[split])))]
    else:
        bi, s, e, new = words[int(rng.integers(0, len(words)))]
        old = doc.blocks[bi][1][s:e]
    printed = _replace(doc, bi, s, e, new)
    return printed, dict(kind="swap", block=bi, span=(s, s + len(new)), detail=f"{old} → {new}")


def tamper_added(doc, rng):
    clause = D.ADDED_CLAUSES[doc.kind][int(rng.integers(0, len(D.ADDED_CLAUSES[doc.kind])))]
    first_sign = next(i for i, (st, _) in enumerate(doc.blocks) if st in ("sign", "sign_left", "date"))
    paras = [i for i, (st, _) in enumerate(doc.blocks) if st == "para" and 1 < i < first_sign]
    pos = first_sign if (not paras or rng.uniform() < 0.5) else paras[int(rng.integers(0, len(paras)))]
    blocks = list(doc.blocks)
    blocks.insert(pos, ("para", clause))
    return D.Doc(doc.template, doc.kind, blocks, doc.org), dict(kind="clause_added", block=pos, detail=clause)


def tamper_removed(doc, rng):
    cands = [i for i, (st, t) in enumerate(doc.blocks)
             if st == "para" and 0 < i < len(doc.blocks) - 1 and len(t) >= 14]
    i = cands[int(rng.integers(0, len(cands)))]
    blocks = list(doc.blocks)
    removed = blocks.pop(i)[1]
    return D.Doc(doc.template, doc.kind, blocks, doc.org), dict(kind="clause_removed", prev=i - 1, next=i, detail=removed)


def tamper_other(doc, rng, split):
    tpls = D.TEMPLATES[split]
    while True:
        tpl = tpls[int(rng.integers(0, len(tpls)))]
        other = tpl(D.make_ctx(rng, split))
        if norm(other.text()) != norm(doc.text()):
            break
    return other, dict(kind="other_document", detail=f"printed {other.template} instead of {doc.template}")


def apply_tamper(doc, kind, rng, split):
    if kind == "faithful":
        return doc, None
    return {"digit": lambda: tamper_digit(doc, rng), "amount": lambda: tamper_amount(doc, rng),
            "swap": lambda: tamper_swap(doc, rng, split), "clause_added": lambda: tamper_added(doc, rng),
            "clause_removed": lambda: tamper_removed(doc, rng),
            "other_document": lambda: tamper_other(doc, rng, split)}[kind]()


# ---------------------------------------------------------------------------
# One capture
# ---------------------------------------------------------------------------

BUCKET_SHARES = {"upright": 0.24, "quarter": 0.26, "half": 0.24, "oblique": 0.26}
BAND_SHARE = 0.45


def stratified(rng, n, shares):
    """n labels in the given shares (largest remainder), shuffled."""
    keys = list(shares)
    counts = [int(n * shares[k]) for k in keys]
    rema = sorted(range(len(keys)), key=lambda i: -(n * shares[keys[i]] - counts[i]))
    for i in rema[: n - sum(counts)]:
        counts[i] += 1
    out = [k for k, c in zip(keys, counts) for _ in range(c)]
    return [out[i] for i in rng.permutation(n)]


def pick_rotation(rng, b):
    if b == "upright":
        a = rng.uniform(-3, 3)
    elif b == "quarter":
        a = float(rng.choice([90.0, 270.0])) + rng.uniform(-3, 3)
    elif b == "half":
        a = 180 + rng.uniform(-3, 3)
    else:
        while True:
            a = rng.uniform(0, 360)
            if min(abs(a - k * 90) for k in range(5)) > 8:
                break
    return round(float(a) % 360.0, 1) % 360.0


def line_center(l):
    x0, y0, x1, y1 = l["box"]
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def make_capture(rng, split, printed, layout, font_spec, seal_font, *, kind, tinfo, approved_norm, capture="document",
                 framing="phone", bucket="upright"):
    """Render, stamp, photograph and degrade one print; returns (jpeg bytes, case fields)."""
    if capture == "blank":
        page_l = Image.new("L", (R.PAGE_W, R.PAGE_H), 255)
        lines = []
    else:
        page_l, lines = R.render_page(printed, layout, font_spec, ink=int(rng.integers(0, 45)))

    # which lines hold the change (for framing / imprint choices and ground truth)
    changed = set()
    if tinfo and tinfo["kind"] in ("digit", "amount", "swap"):
        s, e = tinfo["span"]
        changed = {i for i, l in enumerate(lines) if l["block"] == tinfo["block"] and l["start"] < e and l["end"] > s}
    elif tinfo and tinfo["kind"] == "clause_added":
        changed = {i for i, l in enumerate(lines) if l["block"] == tinfo["block"]}
    elif tinfo and tinfo["kind"] == "other_document":
        changed = {i for i, l in enumerate(lines) if norm(l["text"]) not in approved_norm}
    elif tinfo and tinfo["kind"] == "clause_removed":
        prev = [i for i, l in enumerate(lines) if l["block"] == tinfo["prev"]]
        nxt = [i for i, l in enumerate(lines) if l["block"] == tinfo["next"]]
        changed = {prev[-1], nxt[0]} if prev and nxt else set()
    sign_lines = [i for i, l in enumerate(lines) if printed.blocks[l["block"]][0] in ("sign", "date")]

    angle = pick_rotation(rng, bucket)

    # where the seal is pressed
    focus = None
    if lines:
        r = rng.uniform()
        if changed and r < (0.6 if framing == "band" else 0.18):
            focus = ("change", sorted(changed)[int(rng.integers(0, len(changed)))])
        elif sign_lines and r < 0.75:
            focus = ("sign", sign_lines[int(rng.integers(0, len(sign_lines)))])
        else:
            focus = ("text", int(rng.integers(0, len(lines))))
        fx, fy = line_center(lines[focus[1]])
    else:
        fx, fy = rng.uniform(0.3, 0.7) * R.PAGE_W, rng.uniform(0.3, 0.8) * R.PAGE_H

    # paper
    tint = np.array([rng.uniform(232, 255), rng.uniform(226, 250), rng.uniform(205, 242)], np.float32)
    fib = (0.97 + 0.03 * C.smooth_field(rng, R.PAGE_W // 4, R.PAGE_H // 4, 30))
    fib = np.asarray(Image.fromarray(fib.astype(np.float32), mode="F").resize((R.PAGE_W, R.PAGE_H), Image.BILINEAR))
    page = (np.asarray(page_l, np.float32) / 255.0 * fib)[..., None] * tint

    # band: the camera looks at a band around the press point
    if framing == "band":
        W = int(rng.choice([640, 800, 960, 1024, 1280]))
        Hh = W * 3 // 4 if rng.uniform() < 0.5 else W * 9 // 16
        view_mm = rng.uniform(115, 215)  # width of paper the camera sees
        ppm = max(W / view_mm, 3.6)
        k = ppm / R.PX_PER_MM
        if focus and focus[0] == "change":
            # keep the change somewhere in the band, not always centred under the seal
            off = rng.uniform(-0.32, 0.32) * (Hh / k)
            px, py = fx + rng.uniform(-0.25, 0.25) * (W / k), fy + off
        else:
            px, py = fx + rng.uniform(-0.15, 0.15) * (W / k), fy + rng.uniform(-0.1, 0.1) * (Hh / k)
        press = (float(np.clip(px, 0, R.PAGE_W)), float(np.clip(py, 0, R.PAGE_H)))
        Hm = C.jitter(rng, W, Hh, 0.03) @ C.affine(k, angle, press, (W / 2, Hh / 2))
        size = (W, Hh)
        imprint_at = press
    else:
        L = rng.uniform(1200, 1600)
        corners = [(0, 0), (R.PAGE_W, 0), (R.PAGE_W, R.PAGE_H), (0, R.PAGE_H)]
        c0 = C.apply_h(C.affine(1.0, angle, (R.PAGE_W / 2, R.PAGE_H / 2), (0, 0)), corners)
        span = c0.max(0) - c0.min(0)
        j = c0 + rng.uniform(-0.06, 0.06, (4, 2)) * span
        H0 = C.homography(corners, j)
        mn, mx = j.min(0), j.max(0)
        m = rng.uniform(0.02, 0.08) * (mx - mn).max()
        cw, ch = (mx - mn) + 2 * m
        s = L / max(cw, ch)
        size = (int(round(cw * s)), int(round(ch * s)))
        Hm = np.array([[s, 0, s * (m - mn[0])], [0, s, s * (m - mn[1])], [0, 0, 1]]) @ H0
        if rng.uniform() < 0.22:  # the photographer framed tighter: page edges cut
            z = rng.uniform(1.08, 1.3)
            cx, cy = size[0] * rng.uniform(0.3, 0.7), size[1] * rng.uniform(0.3, 0.7)
            Hm = np.array([[z, 0, cx * (1 - z)], [0, z, cy * (1 - z)], [0, 0, 1]]) @ Hm
        imprint_at = None
        if lines:
            if focus[0] == "change" or rng.uniform() < 0.75:
                imprint_at = (fx + rng.uniform(-40, 40), fy + rng.uniform(-40, 40))
            else:
                t = lines[int(rng.integers(0, len(lines)))]
                imprint_at = line_center(t)
        else:
            imprint_at = (fx, fy)

    # seal imprint on the paper
    has_imprint = rng.uniform() < (0.55 if capture != "desk" else 0.0)
    seal = None
    if has_imprint:
        rad = R.apply_imprint(page, rng, printed.org, seal_font, imprint_at, float(rng.uniform(-40, 40)))
        seal = (imprint_at, rad)

    page_img = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    W, Hh = size
    bg = C.desk_texture(rng, W, Hh)
    if capture == "desk":
        arr = C.desk_objects(rng, bg)
    else:
        warped = np.asarray(C.warp(page_img, Hm, size), np.float32)
        quad = C.apply_h(Hm, [(0, 0), (R.PAGE_W, 0), (R.PAGE_W, R.PAGE_H), (0, R.PAGE_H)])
        mimg = Image.new("L", size, 0)
        ImageDraw.Draw(mimg).polygon([tuple(p) for p in quad], fill=255)
        mask = np.asarray(mimg.filter(ImageFilter.GaussianBlur(1.0)), np.float32)[..., None] / 255
        arr = warped * mask + bg * (1 - mask)
    arr = arr * C.light_field(rng, W, Hh, framing == "band")[..., None]

    scale = math.sqrt(abs(np.linalg.det(Hm[:2, :2] / Hm[2, 2])))
    if capture == "heavy_blur":
        blur = max(7.0, 0.75 * layout.body_pt * R.DPI / 72 * scale)
    else:
        if framing == "band":  # close-focus seal camera: characters are larger, blur is larger too
            tiers, p = [rng.uniform(0.3, 0.9), rng.uniform(0.8, 1.5), rng.uniform(1.4, 2.2)], [0.45, 0.4, 0.15]
        else:
            tiers, p = [rng.uniform(0.2, 0.7), rng.uniform(0.6, 1.1), rng.uniform(1.0, 1.6)], [0.55, 0.35, 0.10]
        blur = float(rng.choice(tiers, p=p))
    noise = float(rng.uniform(1.5, 5.0) if framing == "band" else rng.uniform(0.6, 2.4))
    quality = int(55 + round(37 * rng.beta(1.2, 2.0)))  # 55..92, most between 60 and 80
    jpeg = C.finish(arr, rng, blur, noise, quality, motion=bool(rng.uniform() < 0.10))

    # ground truth
    vis, cut = [], []
    vis_idx = set()
    for i, l in enumerate(lines):
        x0, y0, x1, y1 = l["box"]
        q = C.apply_h(Hm, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        gx, gy = np.meshgrid(np.linspace(0, 1, 12), np.linspace(0, 1, 4))
        samples = C.apply_h(Hm, np.c_[(x0 + gx * (x1 - x0)).ravel(), (y0 + gy * (y1 - y0)).ravel()])
        ins = (samples[:, 0] >= 0) & (samples[:, 0] <= W) & (samples[:, 1] >= 0) & (samples[:, 1] <= Hh)
        inside_all = bool(((q[:, 0] >= 0) & (q[:, 0] <= W) & (q[:, 1] >= 0) & (q[:, 1] <= Hh)).all())
        if not inside_all and not ins.any():
            continue
        cover = R.disk_cover(l["box"], seal[0], seal[1]) if seal else 0.0
        rec = {"text": l["text"], "box": [[round(float(a), 1), round(float(b), 1)] for a, b in q],
               "imprint_cover": round(cover, 3)}
        if i in changed and (not tinfo or tinfo["kind"] != "clause_removed"):
            rec["changed"] = True
        if inside_all:
            vis.append(rec)
            vis_idx.add(i)
        else:
            rec["inside"] = round(float(ins.mean()), 3)
            cut.append(rec)

    def readable(i):
        # The imprint does not hide print: its semi-transparent red multiplies onto black
        # text, which stays black and legible. A forger presses the seal over the change,
        # so a change under the imprint is a visible change.
        return i in vis_idx

    def shown(i, s, e):
        # Whether characters s..e (block offsets) of line i are wholly inside the frame: a
        # changed digit on a line the frame cuts elsewhere is still in plain view.
        l = lines[i]
        a, b = max(s, l["start"]) - l["start"], min(e, l["end"]) - l["start"]
        if a >= b:
            return True
        x0, x1 = l["xs"][a], l["xs"][b]
        _, y0, _, y1 = l["box"]
        q = C.apply_h(Hm, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        return bool(((q[:, 0] >= 0) & (q[:, 0] <= W) & (q[:, 1] >= 0) & (q[:, 1] <= Hh)).all())

    visible = False
    if tinfo:
        k_ = tinfo["kind"]
        if k_ in ("digit", "amount", "swap"):
            s_, e_ = tinfo["span"]
            visible = bool(changed) and all(shown(i, s_, e_) for i in changed) and \
                any(norm(lines[i]["text"]) not in approved_norm for i in changed)
        elif k_ in ("clause_added", "other_document"):
            visible = any(readable(i) and len(norm(lines[i]["text"])) >= 4 and norm(lines[i]["text"]) not in approved_norm
                          for i in changed)
        elif k_ == "clause_removed":
            visible = len(changed) == 2 and all(readable(i) for i in changed)

    if capture != "document":
        expected = "UNREADABLE"
        vis, cut = [], []
    else:
        expected = "MISMATCH" if visible else "MATCH"

    imprint = None
    if seal:
        cpt = C.apply_h(Hm, [seal[0]])[0]
        imprint = {"center": [round(float(cpt[0]), 1), round(float(cpt[1]), 1)], "radius": round(seal[1] * scale, 1)}
    fields = dict(expected=expected, framing=framing, rotation_degrees=angle, width=W, height=Hh,
                  jpeg_quality=quality, blur_sigma=round(blur, 2), imprint=imprint,
                  visible_lines=vis, cut_lines=cut, _visible=visible)
    return jpeg, fields


# ---------------------------------------------------------------------------
# The wider generator (tune, shift): tampers at line starts and ends, clause removals with and
# without reflow. `test` never calls these (STYLE), so its files and random draws stay as they were.
# ---------------------------------------------------------------------------

EDGE_TAMPER_SHARE = 0.5    # digit / amount / swap changes drawn at a line's first or last characters
EDGE_CLAUSE_SHARE = 0.7    # reflowed clause removals drawn at a line's start or end


def line_at(lines, bi, pos):
    """Index of the printed line holding character `pos` of block `bi` (None if unprinted)."""
    for i, l in enumerate(lines):
        if l["block"] == bi and l["start"] <= pos < l["end"]:
            return i
    return None


def at_line(lines, bi, s, e):
    """'start' when the span s..e begins within a line's first two characters, 'end' when it ends
    within its last two, else None (lines of one rendering of the paper)."""
    i, j = line_at(lines, bi, s), line_at(lines, bi, e - 1)
    if i is None or j is None:
        return None
    if s - lines[i]["start"] <= 1:
        return "start"
    if lines[j]["end"] - e <= 1:
        return "end"
    return None


def _pick_edge(rng, cands, edge_of, share):
    edge = [c for c in cands if edge_of(c)]
    pool = edge if edge and rng.uniform() < share else cands
    return pool[int(rng.integers(0, len(pool)))]


def tamper_digit_w(doc, rng, alines):
    cands = [(bi, m.start()) for bi, (st, t) in enumerate(doc.blocks) if st != "title"
             for m in re.finditer(r"[0-9]", t)]
    bi, pos = _pick_edge(rng, cands, lambda c: at_line(alines, c[0], c[1], c[1] + 1), EDGE_TAMPER_SHARE)
    t = doc.blocks[bi][1]
    s, e = _run(t, pos, "0123456789")
    while True:
        new = str(int(rng.integers(0, 10)))
        if new != t[pos] and not (new == "0" and pos == s):
            break
    printed = _replace(doc, bi, pos, pos + 1, new)
    ts, te = _run(t, pos, "0123456789.,¥￥X")
    nt = printed.blocks[bi][1]
    return printed, dict(kind="digit", block=bi, span=(pos, pos + 1), detail=f"{t[ts:te]} → {nt[ts:te]}")


def tamper_amount_w(doc, rng, alines):
    cands = []
    for bi, (st, t) in enumerate(doc.blocks):
        if st == "title":
            continue
        for m in re.finditer(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万]+元整", t):
            cands += [(bi, i, m.start(), m.end()) for i in range(m.start(), m.end()) if t[i] in CAPS]
    if not cands:
        for bi, (st, t) in enumerate(doc.blocks):
            for m in re.finditer(r"[壹贰叁肆伍陆柒捌玖拾]+(?=[名天日个])", t):
                cands += [(bi, i, m.start(), m.end() + 1) for i in range(m.start(), m.end()) if t[i] in CAPS]
    if not cands:
        return tamper_digit_w(doc, rng, alines)
    bi, pos, ms, me = _pick_edge(rng, cands, lambda c: at_line(alines, c[0], c[1], c[1] + 1), EDGE_TAMPER_SHARE)
    t = doc.blocks[bi][1]
    new = t[pos]
    while new == t[pos]:
        new = CAPS[int(rng.integers(0, 9))]
    printed = _replace(doc, bi, pos, pos + 1, new)
    return printed, dict(kind="amount", block=bi, span=(pos, pos + 1),
                         detail=f"{t[ms:me]} → {printed.blocks[bi][1][ms:me]}")


def tamper_swap_w(doc, rng, split, alines):
    cands = []
    for bi, (st, t) in enumerate(doc.blocks):
        if st == "title":
            continue
        for m in re.finditer("|".join(re.escape(g) for g in D.GIVEN[split]), t):
            s = m.start() - 1
            if s >= 0 and t[s] in D.SURNAMES:
                cands.append((bi, s, m.end(), None))
        for a, b in D.WORD_SWAPS:
            for m in re.finditer(re.escape(a), t):
                cands.append((bi, m.start(), m.end(), b))
    bi, s, e, new = _pick_edge(rng, cands, lambda c: at_line(alines, c[0], c[1], c[2]), EDGE_TAMPER_SHARE)
    old = doc.blocks[bi][1][s:e]
    if new is None:  # a person's name
        new = old
        while new == old or new in doc.text():
            new = D.SURNAMES[int(rng.integers(0, len(D.SURNAMES)))] + D.GIVEN[split][int(rng.integers(0, len(D.GIVEN[split])))]
    printed = _replace(doc, bi, s, e, new)
    return printed, dict(kind="swap", block=bi, span=(s, s + len(new)), detail=f"{old} → {new}")


def clause_spans(t):
    """Removable clauses of a paragraph: each comma- or semicolon-separated part (with its closing
    punctuation; a last part '，B。' goes with its comma so that the sentence still ends in 。),
    and each whole sentence of a paragraph that has several. Parts ending in '：' (a label), parts
    that open or close a bracket without the other (removing them would leave a stray bracket),
    parts under 5 characters and parts that leave under 6 characters are not offered."""
    out, s, s0 = [], 0, 0
    for i, ch in enumerate(t):
        if ch in "，。；":
            e = i + 1
            cands = [(s - 1, e - 1) if ch == "。" and s > 0 and t[s - 1] == "，" else (s, e)]
            if ch == "。":
                cands.append((s0, e))
                s0 = e
            for a, b in cands:
                part = t[a:b]
                if b - a >= 5 and len(t) - (b - a) >= 6 and not part.rstrip("，。；").endswith("：") \
                        and all(part.count(o) == part.count(c) for o, c in ("（）", "《》", "“”")) \
                        and (a, b) not in out:
                    out.append((a, b))
            s = e
    return out


def tamper_removed_w(doc, rng, alines, mode):
    """mode: 'paragraph' (a whole paragraph, as the legacy generator), 'reflow' (a clause; the
    paragraph rewraps) or 'gap' (a clause left unprinted where it stood: a line ends early or
    starts late). Falls back gap -> reflow -> paragraph when the document offers no such clause."""
    paras = [i for i, (st, t) in enumerate(doc.blocks)
             if st == "para" and 0 < i < len(doc.blocks) - 1 and len(t) >= 14]
    clauses = [(bi, a, b) for bi in paras for a, b in clause_spans(doc.blocks[bi][1])]

    def starts_line(c):
        i = line_at(alines, c[0], c[1])
        return i is not None and alines[i]["start"] == c[1]

    def ends_line(c):
        j = line_at(alines, c[0], c[2] - 1)
        return j is not None and alines[j]["end"] == c[2]

    if mode == "gap":
        cands = [c for c in clauses if starts_line(c) or ends_line(c)]
        if not cands:
            mode = "reflow"
    if mode == "reflow":
        cands = clauses
        if not cands:
            mode = "paragraph"
    if mode == "paragraph":
        i = paras[int(rng.integers(0, len(paras)))]
        blocks = list(doc.blocks)
        removed = blocks.pop(i)[1]
        return D.Doc(doc.template, doc.kind, blocks, doc.org), dict(
            kind="clause_removed", scope="paragraph", reflow=True, prev=i - 1, next=i, detail=removed)
    # clauses that end a line (half), that start a line within their paragraph (a quarter), and
    # a paragraph's first clause (a quarter: always at a line start, and the most numerous);
    # shares renormalised over the groups the document has
    groups = [(0.5, [c for c in cands if ends_line(c)]),
              (0.25, [c for c in cands if starts_line(c) and c[1] > 0 and not ends_line(c)]),
              (0.25, [c for c in cands if c[1] == 0 and not ends_line(c)])]
    groups = [(w, g) for w, g in groups if g]
    if groups and (mode == "gap" or rng.uniform() < EDGE_CLAUSE_SHARE):
        w = np.array([w for w, _ in groups])
        g = groups[int(rng.choice(len(groups), p=w / w.sum()))][1]
        bi, a, b = g[int(rng.integers(0, len(g)))]
    else:
        bi, a, b = cands[int(rng.integers(0, len(cands)))]
    t = doc.blocks[bi][1]
    printed = _replace(doc, bi, a, b, "")
    return printed, dict(kind="clause_removed", scope="clause", reflow=mode == "reflow", block=bi, gap=a,
                         detail=t[a:b], hide={bi: (a, b)} if mode == "gap" else None)


def apply_tamper_w(doc, kind, rng, split, alines, removal_mode):
    if kind == "faithful":
        return doc, None
    return {"digit": lambda: tamper_digit_w(doc, rng, alines), "amount": lambda: tamper_amount_w(doc, rng, alines),
            "swap": lambda: tamper_swap_w(doc, rng, split, alines), "clause_added": lambda: tamper_added(doc, rng),
            "clause_removed": lambda: tamper_removed_w(doc, rng, alines, removal_mode),
            "other_document": lambda: tamper_other(doc, rng, split)}[kind]()


# Per-split ranges of the wider generator (testdata/README.md: "How the captures are made",
# "The `shift` split: specification").
RANGES = {
    "tune": dict(blur_band=((0.3, 0.9), (0.8, 1.5), (1.4, 2.2)), blur_phone=((0.2, 0.7), (0.6, 1.1), (1.0, 1.6)),
                 jpeg=(55, 92), noise_band=(1.5, 5.0), noise_phone=(0.6, 2.4), peak_opaque=(0.88, 0.95),
                 double_mm=(1.5, 4.0), drawn_seal=False),
    "shift": dict(blur_band=((0.3, 0.9), (0.8, 1.6), (1.5, 2.6)), blur_phone=((0.2, 0.7), (0.6, 1.2), (1.0, 2.0)),
                  jpeg=(45, 92), noise_band=(1.5, 6.0), noise_phone=(0.6, 3.0), peak_opaque=(0.88, 0.97),
                  double_mm=(1.5, 6.0), drawn_seal=True),
}
IMPRINT_SHARE_W = 0.75     # captures with a seal imprint (the legacy generator: 0.55)
EDGE_FRAME_SHARE = 0.7     # band captures of a change at a line start/end framed with an edge near it
PURPOSE = {"contract": "合同专用章", "certificate": "证明专用章"}


def draw_seal_style(rng, split, placement, kind):
    """The seal's drawing and ink for one press (recorded in the case as `seal_style`)."""
    rg = RANGES[split]
    if rg["drawn_seal"]:
        diameter = float(rng.choice([38.0, 40.0, 42.0]))
        ring_mm = round(float(rng.uniform(0.8, 1.7)), 2)
        inner = bool(rng.uniform() < 1 / 3)
        r = rng.uniform()
        if r < 1 / 3:
            under = "".join(str(int(x)) for x in rng.integers(0, 10, 13))
        elif r < 2 / 3:
            under = PURPOSE.get(kind) or "".join(str(int(x)) for x in rng.integers(0, 10, 13))
        else:
            under = None
    else:
        diameter, ring_mm, inner, under = float(rng.choice([40.0, 42.0, 42.0, 45.0])), 1.1, False, None
    # near-opaque ink only where practice presses the seal (issuer, date, signature block);
    # a press over a change (a forger hiding it) is translucent
    opaque = placement in ("date_issuer", "sign") and rng.uniform() < 0.5
    if opaque:
        blend = "normal" if rng.uniform() < 0.75 else "multiply"
        peak = float(rng.uniform(*rg["peak_opaque"]))
    else:
        blend = "multiply" if rng.uniform() < 0.65 else "normal"
        peak = float(rng.uniform(0.55, 0.92) if blend == "multiply" else rng.uniform(0.35, 0.65))
    # uneven pressure: the density falls off across the imprint (less on a hard, fresh press)
    depth = rng.uniform(0.15, 0.4) if opaque else rng.uniform(0.35, 0.7)
    gradient = (float(rng.uniform(0, 2 * math.pi)), float(depth)) if rng.uniform() < 0.4 else None
    double = None
    if rng.uniform() < 0.2:
        d = rng.uniform(*rg["double_mm"]) * R.PX_PER_MM
        a = rng.uniform(0, 2 * math.pi)
        double = (float(d * math.cos(a)), float(d * math.sin(a)), float(rng.uniform(-4, 4)), float(rng.uniform(0.3, 0.6)))
    r = rng.uniform()
    if r < 0.4:
        color, rgb = "vermilion", (rng.uniform(0.86, 0.95), rng.uniform(0.22, 0.34), rng.uniform(0.12, 0.22))
    elif r < 0.8:
        color, rgb = "crimson", (rng.uniform(0.66, 0.80), rng.uniform(0.04, 0.14), rng.uniform(0.12, 0.24))
    else:  # under warm light a phone makes it orange-red (the whole capture is warmed too)
        color, rgb = "orange_red", (rng.uniform(0.92, 0.98), rng.uniform(0.38, 0.50), rng.uniform(0.15, 0.25))
    return dict(diameter=diameter, ring_mm=ring_mm, inner_ring=inner, under=under, blend=blend,
                opacity="opaque" if opaque else "translucent", peak=peak, gradient=gradient, double=double,
                color=[float(v) for v in rgb], color_name=color, placement=placement)


def practice_center(rng, lines, printed, radius):
    """GB/T 9704: the seal sits over the issuer and the date, the date a little below the seal's
    centre, so the star lies over the date's digits and the ring over the issuer's name. On a
    contract, half the time over the party's signature block (甲方（盖章）) instead."""
    date_i = [i for i, l in enumerate(lines) if printed.blocks[l["block"]][0] == "date"]
    left_i = [i for i, l in enumerate(lines) if printed.blocks[l["block"]][0] == "sign_left"]
    if left_i and rng.uniform() < 0.5:
        l = lines[left_i[0]]
        x0, y0, x1, y1 = l["box"]
        return (x1 - rng.uniform(-0.3, 0.5) * radius, (y0 + y1) / 2 - rng.uniform(0.05, 0.3) * radius)
    l = lines[date_i[-1]]
    digits = [k for k, ch in enumerate(l["text"]) if ch.isdigit() or ch in D.CN_DIGITS + "零十"]
    k = digits[int(rng.integers(0, len(digits)))] if digits else len(l["text"]) // 2
    cx = (l["xs"][k] + l["xs"][k + 1]) / 2 + rng.uniform(-2, 2) * R.PX_PER_MM
    _, y0, _, y1 = l["box"]
    return (cx, (y0 + y1) / 2 - rng.uniform(0.0, 0.15) * radius)


def inside_frame(Hm, W, Hh, pts):
    q = C.apply_h(Hm, pts)
    return (q[:, 0] >= 0) & (q[:, 0] <= W) & (q[:, 1] >= 0) & (q[:, 1] <= Hh)


def edge_gap_mm(Hm, W, Hh, ref, direction):
    """Page mm from `ref` (a line's start or end at mid-height) to the frame's edge along the line,
    going `direction` (-1 before the start, +1 past the end): positive = blank paper between the
    text and the edge, negative = the edge cuts into the line. None if the edge is over 80 mm off."""
    t = np.arange(0, 80, 0.05) * R.PX_PER_MM
    fwd = inside_frame(Hm, W, Hh, np.c_[ref[0] + direction * t, np.full_like(t, ref[1])])
    if fwd[0]:
        out = np.nonzero(~fwd)[0]
        return round(float(t[out[0]] / R.PX_PER_MM), 1) if len(out) else None
    back = inside_frame(Hm, W, Hh, np.c_[ref[0] - direction * t, np.full_like(t, ref[1])])
    ins = np.nonzero(back)[0]
    return round(-float(t[ins[0]] / R.PX_PER_MM), 1) if len(ins) else None


def edge_press(rng, angle, k, W, Hh, ref, direction, gap_mm):
    """The press point (page) that puts the frame's edge `gap_mm` past `ref` along the line (before
    the perspective jitter, which moves it by a few mm)."""
    a = math.radians(angle)
    u = np.array([math.cos(a), math.sin(a)]) * direction      # the line's direction in the capture
    n = np.array([-math.sin(a), math.cos(a)])                 # the page's +y in the capture

    def to_edge(q, d):
        ts = []
        for ax, lim in ((0, W), (1, Hh)):
            if abs(d[ax]) > 1e-9:
                for b in (0, lim):
                    tt = (b - q[ax]) / d[ax]
                    if tt > 0:
                        ts.append(tt)
        return min(ts)

    centre = np.array([W / 2, Hh / 2])
    perp = min(to_edge(centre, n), to_edge(centre, -n))
    v = rng.uniform(-0.55, 0.55) * perp / k                     # the line's place across the frame (page px)
    q = centre - n * v * k                                      # ref's image if press = ref + (0, v)
    tb = to_edge(q, u)
    delta = (gap_mm * R.PX_PER_MM * k - tb) / k
    return (ref[0] + direction * delta, ref[1] + v)


def make_capture_wide(rng, split, doc, printed, layout, font_spec, seal_font, *, kind, tinfo, approved_norm,
                      capture="document", framing="phone", bucket="upright"):
    """The wider generator's capture (tune, shift): seal styles, placement by practice, frames with
    an edge next to the change, clause removals with and without reflow. Returns (jpeg, fields)."""
    rg = RANGES[split]
    if capture == "blank":
        page_l = Image.new("L", (R.PAGE_W, R.PAGE_H), 255)
        lines = []
    elif tinfo and tinfo.get("hide"):
        page_l, lines = R.render_page(doc, layout, font_spec, ink=int(rng.integers(0, 45)), hide=tinfo["hide"])
    else:
        page_l, lines = R.render_page(printed, layout, font_spec, ink=int(rng.integers(0, 45)))
    miss = R.missing_glyphs(font_spec, printed.text())
    if miss:
        raise SystemExit(f"{printed.template}: the face {font_spec} has no glyph for {miss!r}")

    # which lines hold the change, where it sits on its line, the reference for an edge frame
    changed = set()
    k_ = tinfo["kind"] if tinfo else None
    at = None       # 'start' / 'end': the change sits at a line's start / end
    edge_ref = None  # (line index, side)
    xy = None       # clause scope: (line, pos) of the characters on both sides of the gap
    if k_ in ("digit", "amount", "swap"):
        s, e = tinfo["span"]
        changed = {i for i, l in enumerate(lines) if l["block"] == tinfo["block"] and l["start"] < e and l["end"] > s}
        at = at_line(lines, tinfo["block"], s, e)
        if at:
            edge_ref = (line_at(lines, tinfo["block"], s if at == "start" else e - 1), at)
    elif k_ == "clause_added":
        changed = {i for i, l in enumerate(lines) if l["block"] == tinfo["block"]}
        if changed:
            side = "start" if rng.uniform() < 0.5 else "end"
            edge_ref = (min(changed) if side == "start" else max(changed), side)
    elif k_ == "other_document":
        changed = {i for i, l in enumerate(lines) if norm(l["text"]) not in approved_norm}
    elif k_ == "clause_removed" and tinfo["scope"] == "paragraph":
        prev = [i for i, l in enumerate(lines) if l["block"] == tinfo["prev"]]
        nxt = [i for i, l in enumerate(lines) if l["block"] == tinfo["next"]]
        changed = {prev[-1], nxt[0]} if prev and nxt else set()
    elif k_ == "clause_removed":
        bi, g = tinfo["block"], tinfo["gap"]
        blen = len(printed.blocks[bi][1])
        xp = (bi, g - 1) if g > 0 else (bi - 1, len(printed.blocks[bi - 1][1]) - 1)
        yp = (bi, g) if g < blen else (bi + 1, 0)
        xi, yi = line_at(lines, *xp), line_at(lines, *yp)
        if xi is not None and yi is not None:
            xy = ((xi, xp[1]), (yi, yp[1]))
            changed = {xi, yi}
            if "blank_after" in lines[xi]:  # not reflowed: the line before the gap ends early
                at = "end"
            elif "blank_before" in lines[yi]:  # not reflowed: the line after the gap starts late
                at = "start"
            elif lines[xi]["end"] == xp[1] + 1 and lines[xi]["block"] == bi:
                at = "end"
            elif lines[yi]["start"] == yp[1] and lines[yi]["block"] == bi:
                at = "start"
            if at:
                edge_ref = (xi, "end") if at == "end" else (yi, "start")
    sign_lines = [i for i, l in enumerate(lines) if printed.blocks[l["block"]][0] in ("sign", "date")]
    has_date = any(printed.blocks[l["block"]][0] == "date" for l in lines)

    angle = pick_rotation(rng, bucket)

    # what the seal (and, in a band, its camera) is pressed over
    placement = None
    if lines:
        r = rng.uniform()
        if framing == "band" and edge_ref and rng.uniform() < EDGE_FRAME_SHARE:
            placement = "edge"
        elif changed and r < (0.45 if framing == "band" else 0.15):
            placement = "change"
        elif has_date and r < (0.8 if framing == "band" else 0.7):
            placement = "date_issuer"
        elif sign_lines and r < (0.9 if framing == "band" else 0.82):
            placement = "sign"
        else:
            placement = "text"
    else:
        placement = "blank"
    has_imprint = rng.uniform() < (IMPRINT_SHARE_W if capture != "desk" else 0.0)
    st = draw_seal_style(rng, split, placement, printed.kind)
    radius = st["diameter"] / 2 * R.PX_PER_MM
    if placement == "change":
        target = line_center(lines[sorted(changed)[int(rng.integers(0, len(changed)))]])
    elif placement == "date_issuer":
        target = practice_center(rng, lines, printed, radius)
    elif placement == "sign":
        target = line_center(lines[sign_lines[int(rng.integers(0, len(sign_lines)))]])
    elif placement == "text":
        target = line_center(lines[int(rng.integers(0, len(lines)))])
    elif placement == "edge":
        target = None
    else:
        target = (rng.uniform(0.3, 0.7) * R.PAGE_W, rng.uniform(0.3, 0.8) * R.PAGE_H)

    # paper
    tint = np.array([rng.uniform(232, 255), rng.uniform(226, 250), rng.uniform(205, 242)], np.float32)
    fib = (0.97 + 0.03 * C.smooth_field(rng, R.PAGE_W // 4, R.PAGE_H // 4, 30))
    fib = np.asarray(Image.fromarray(fib.astype(np.float32), mode="F").resize((R.PAGE_W, R.PAGE_H), Image.BILINEAR))
    page = (np.asarray(page_l, np.float32) / 255.0 * fib)[..., None] * tint

    edge = None
    if framing == "band":
        W = int(rng.choice([640, 800, 960, 1024, 1280]))
        Hh = W * 3 // 4 if rng.uniform() < 0.5 else W * 9 // 16
        view_mm = rng.uniform(115, 215)
        ppm = max(W / view_mm, 3.6)
        k = ppm / R.PX_PER_MM
        if placement == "edge":
            li, side = edge_ref
            l = lines[li]
            d = -1 if side == "start" else 1
            ref = (l["xs"][0] if side == "start" else l["xs"][-1], (l["box"][1] + l["box"][3]) / 2)
            want = rng.uniform(0.5, 8.0) if rng.uniform() < 0.75 else rng.uniform(-4.0, 0.0)
            px, py = edge_press(rng, angle, k, W, Hh, ref, d, want)
            edge = (ref, d, side)
        elif placement == "change":
            off = rng.uniform(-0.32, 0.32) * (Hh / k)
            px, py = target[0] + rng.uniform(-0.25, 0.25) * (W / k), target[1] + off
        elif placement == "date_issuer":
            px, py = target
        else:
            px, py = target[0] + rng.uniform(-0.15, 0.15) * (W / k), target[1] + rng.uniform(-0.1, 0.1) * (Hh / k)
        press = (float(np.clip(px, 0, R.PAGE_W)), float(np.clip(py, 0, R.PAGE_H)))
        Hm = C.jitter(rng, W, Hh, 0.03) @ C.affine(k, angle, press, (W / 2, Hh / 2))
        size = (W, Hh)
        imprint_at = press  # the seal's camera looks at the paper around its own press point
    else:
        L = rng.uniform(1200, 1600)
        corners = [(0, 0), (R.PAGE_W, 0), (R.PAGE_W, R.PAGE_H), (0, R.PAGE_H)]
        c0 = C.apply_h(C.affine(1.0, angle, (R.PAGE_W / 2, R.PAGE_H / 2), (0, 0)), corners)
        span = c0.max(0) - c0.min(0)
        j = c0 + rng.uniform(-0.06, 0.06, (4, 2)) * span
        H0 = C.homography(corners, j)
        mn, mx = j.min(0), j.max(0)
        m = rng.uniform(0.02, 0.08) * (mx - mn).max()
        cw, ch = (mx - mn) + 2 * m
        s = L / max(cw, ch)
        size = (int(round(cw * s)), int(round(ch * s)))
        Hm = np.array([[s, 0, s * (m - mn[0])], [0, s, s * (m - mn[1])], [0, 0, 1]]) @ H0
        if rng.uniform() < 0.22:
            z = rng.uniform(1.08, 1.3)
            cx, cy = size[0] * rng.uniform(0.3, 0.7), size[1] * rng.uniform(0.3, 0.7)
            Hm = np.array([[z, 0, cx * (1 - z)], [0, z, cy * (1 - z)], [0, 0, 1]]) @ Hm
        if placement == "date_issuer":
            imprint_at = target
        else:
            imprint_at = (target[0] + rng.uniform(-40, 40), target[1] + rng.uniform(-40, 40))

    # seal imprint on the paper; near-opaque ink never lies over a changed line (the ground truth
    # rules take a change under the imprint as visible, which holds for translucent paste)
    seal = None
    alpha = None
    if has_imprint:
        disks = [(imprint_at, radius)]
        if st["double"] is not None:
            disks.append(((imprint_at[0] + st["double"][0], imprint_at[1] + st["double"][1]), radius))
        if st["opacity"] == "opaque" and any(R.disks_cover(lines[i]["box"], disks) > 0 for i in changed):
            st["opacity"] = "translucent"
            st["peak"] = float(rng.uniform(0.55, 0.92) if st["blend"] == "multiply" else rng.uniform(0.35, 0.65))
        rad, second, alpha = R.apply_imprint_styled(page, rng, printed.org, seal_font, imprint_at,
                                                    float(rng.uniform(-40, 40)), st)
        seal = (imprint_at, rad, second)

    page_img = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    W, Hh = size
    bg = C.desk_texture(rng, W, Hh)
    if capture == "desk":
        arr = C.desk_objects(rng, bg)
    else:
        warped = np.asarray(C.warp(page_img, Hm, size), np.float32)
        quad = C.apply_h(Hm, [(0, 0), (R.PAGE_W, 0), (R.PAGE_W, R.PAGE_H), (0, R.PAGE_H)])
        mimg = Image.new("L", size, 0)
        ImageDraw.Draw(mimg).polygon([tuple(p) for p in quad], fill=255)
        mask = np.asarray(mimg.filter(ImageFilter.GaussianBlur(1.0)), np.float32)[..., None] / 255
        arr = warped * mask + bg * (1 - mask)
    arr = arr * C.light_field(rng, W, Hh, framing == "band")[..., None]
    if seal and st["color_name"] == "orange_red":  # warm light
        arr = arr * np.array([1.0, rng.uniform(0.86, 0.93), rng.uniform(0.68, 0.8)], np.float32)

    scale = math.sqrt(abs(np.linalg.det(Hm[:2, :2] / Hm[2, 2])))
    if capture == "heavy_blur":
        blur = max(7.0, 0.75 * layout.body_pt * R.DPI / 72 * scale)
    else:
        if framing == "band":
            tiers, p = [rng.uniform(*t) for t in rg["blur_band"]], [0.45, 0.4, 0.15]
        else:
            tiers, p = [rng.uniform(*t) for t in rg["blur_phone"]], [0.55, 0.35, 0.10]
        blur = float(rng.choice(tiers, p=p))
    noise = float(rng.uniform(*rg["noise_band"]) if framing == "band" else rng.uniform(*rg["noise_phone"]))
    q0, q1 = rg["jpeg"]
    quality = int(q0 + round((q1 - q0) * rng.beta(1.2, 2.0)))
    jpeg = C.finish(arr, rng, blur, noise, quality, motion=bool(rng.uniform() < 0.10))

    # ground truth
    disks = []
    if seal:
        disks = [(seal[0], seal[1])] + ([(seal[2], seal[1])] if seal[2] else [])
    vis, cut = [], []
    vis_idx = set()
    for i, l in enumerate(lines):
        x0, y0, x1, y1 = l["box"]
        q = C.apply_h(Hm, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        gx, gy = np.meshgrid(np.linspace(0, 1, 12), np.linspace(0, 1, 4))
        samples = C.apply_h(Hm, np.c_[(x0 + gx * (x1 - x0)).ravel(), (y0 + gy * (y1 - y0)).ravel()])
        ins = (samples[:, 0] >= 0) & (samples[:, 0] <= W) & (samples[:, 1] >= 0) & (samples[:, 1] <= Hh)
        inside_all = bool(((q[:, 0] >= 0) & (q[:, 0] <= W) & (q[:, 1] >= 0) & (q[:, 1] <= Hh)).all())
        if not inside_all and not ins.any():
            continue
        cover = R.disks_cover(l["box"], disks) if disks else 0.0
        rec = {"text": l["text"], "box": [[round(float(a), 1), round(float(b), 1)] for a, b in q],
               "imprint_cover": round(cover, 3), "imprint_ink": round(R.box_ink(alpha, l["box"]), 3) if seal else 0.0,
               "imprint_ink_peak": round(max(R.box_ink(alpha, (l["xs"][c], y0, l["xs"][c + 1], y1))
                                             for c in range(len(l["text"]))), 3) if seal else 0.0}
        if i in changed and k_ != "clause_removed":
            rec["changed"] = True
        if inside_all:
            vis.append(rec)
            vis_idx.add(i)
        else:
            rec["inside"] = round(float(ins.mean()), 3)
            cut.append(rec)

    def readable(i):
        return i in vis_idx

    def shown(i, s, e):
        l = lines[i]
        a, b = max(s, l["start"]) - l["start"], min(e, l["end"]) - l["start"]
        if a >= b:
            return True
        x0, x1 = l["xs"][a], l["xs"][b]
        _, y0, _, y1 = l["box"]
        return bool(inside_frame(Hm, W, Hh, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]).all())

    def cell_shown(i, cell):
        _, y0, _, y1 = lines[i]["box"]
        return bool(inside_frame(Hm, W, Hh, [(cell[0], y0), (cell[1], y0), (cell[1], y1), (cell[0], y1)]).all())

    visible = False
    if tinfo:
        if k_ in ("digit", "amount", "swap"):
            s_, e_ = tinfo["span"]
            visible = bool(changed) and all(shown(i, s_, e_) for i in changed) and \
                any(norm(lines[i]["text"]) not in approved_norm for i in changed)
        elif k_ in ("clause_added", "other_document"):
            visible = any(readable(i) and len(norm(lines[i]["text"])) >= 4 and norm(lines[i]["text"]) not in approved_norm
                          for i in changed)
        elif tinfo["scope"] == "paragraph":
            visible = len(changed) == 2 and all(readable(i) for i in changed)
        elif xy:
            (xi, xpos), (yi, ypos) = xy
            visible = shown(xi, xpos, xpos + 1) and shown(yi, ypos, ypos + 1)
            if visible and tinfo.get("hide"):
                # no reflow: the blank where the removed text stood must be in view too
                if "blank_after" in lines[xi]:
                    visible = cell_shown(xi, lines[xi]["blank_after"])
                elif "blank_before" in lines[yi]:
                    visible = cell_shown(yi, lines[yi]["blank_before"])

    if capture != "document":
        expected = "UNREADABLE"
        vis, cut = [], []
    else:
        expected = "MISMATCH" if visible else "MATCH"

    imprint = second_f = style_f = None
    if seal:
        cpt = C.apply_h(Hm, [seal[0]])[0]
        imprint = {"center": [round(float(cpt[0]), 1), round(float(cpt[1]), 1)], "radius": round(seal[1] * scale, 1)}
        if seal[2]:
            c2 = C.apply_h(Hm, [seal[2]])[0]
            second_f = {"center": [round(float(c2[0]), 1), round(float(c2[1]), 1)], "radius": round(seal[1] * scale, 1)}
        style_f = {"blend": st["blend"], "opacity": st["opacity"], "peak_alpha": round(st["peak"], 3),
                   "double": st["double"] is not None, "pressure": "gradient" if st["gradient"] else "even",
                   "color": st["color_name"], "placement": st["placement"],
                   "drawing": {"diameter_mm": st["diameter"], "ring_mm": st["ring_mm"],
                               "inner_ring": st["inner_ring"], "under": st["under"]}}
    tamper_extra = {}
    if tinfo:
        tamper_extra["at_line"] = at
        tamper_extra["at_edge"] = None
        if edge:
            ref, d, side = edge
            tamper_extra["at_edge"] = {"side": side, "gap_mm": edge_gap_mm(Hm, W, Hh, ref, d)}
        if k_ == "clause_removed":
            tamper_extra["scope"] = tinfo["scope"]
            tamper_extra["reflow"] = tinfo["reflow"]
    fields = dict(expected=expected, framing=framing, rotation_degrees=angle, width=W, height=Hh,
                  jpeg_quality=quality, blur_sigma=round(blur, 2), imprint=imprint)
    if second_f:
        fields["imprint_second"] = second_f
    fields.update(seal_style=style_f, visible_lines=vis, cut_lines=cut, _visible=visible, _tamper_extra=tamper_extra)
    return jpeg, fields


# ---------------------------------------------------------------------------
# A split
# ---------------------------------------------------------------------------

def approved_scan(doc, layout, font_spec) -> bytes:
    import io
    img, _ = R.render_page(doc, layout, font_spec)
    img = img.resize((1240, round(1240 * R.PAGE_H / R.PAGE_W)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, optimize=True)
    return buf.getvalue()


def build_split(split: str, seed: int, out: Path) -> None:
    for sub in ("images", "docs", "approved"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    rng = np.random.default_rng(seed)
    wide = STYLE[split] == "wide"
    extra_kinds = WIDE_EXTRA_KINDS if wide else EXTRA_KINDS
    fonts = R.FONTS[split]
    font_names = list(fonts)
    seal_font = R.SEAL_FONT[split][1]
    tpls = D.TEMPLATES[split]
    docs_meta = []
    jobs = []
    if wide:  # the fifth captures' kinds, in the rotation's shares, dealt out to the documents at random
        extras = [extra_kinds[i % len(extra_kinds)] for i in range(N_DOCS)]
        extras = [extras[int(i)] for i in rng.permutation(N_DOCS)]
    else:
        extras = [extra_kinds[di % len(extra_kinds)] for di in range(N_DOCS)]
    removal_of = {}  # wide: document -> clause removal mode, rotating over the removals
    for di in range(N_DOCS):
        if wide and extras[di] == "clause_removed":
            removal_of[di] = REMOVAL_MODES[len(removal_of) % len(REMOVAL_MODES)]
    for di in range(N_DOCS):
        tpl = tpls[di % len(tpls)]
        doc = tpl(D.make_ctx(rng, split))
        fname = font_names[int(rng.integers(0, len(font_names)))]
        layout = R.random_layout(rng)
        doc_id = f"{split}-doc{di:03d}"
        mode = "images" if rng.uniform() < 0.1 else "text"
        alines = R.render_page(doc, layout, fonts[fname])[1] if wide else None
        if wide and R.missing_glyphs(fonts[fname], doc.text()):
            raise SystemExit(f"{doc_id}: {fname} has no glyph for {R.missing_glyphs(fonts[fname], doc.text())!r}")
        docs_meta.append((doc_id, doc, fname, layout, mode, alines))
        for kind in ["faithful", "faithful", "digit", "amount", extras[di]]:
            jobs.append((di, kind, "document"))
    for u in range(N_UNREADABLE):
        jobs.append((int(rng.integers(0, N_DOCS)), "faithful", ["blank", "heavy_blur", "desk"][u % 3]))
    order = rng.permutation(len(jobs))
    jobs = [jobs[i] for i in order]
    framings = stratified(rng, len(jobs), {"band": BAND_SHARE, "phone": 1 - BAND_SHARE})
    buckets = stratified(rng, len(jobs), BUCKET_SHARES)

    written_docs = set()
    lines_out = []
    for n, (di, kind, capture) in enumerate(jobs):
        doc_id, doc, fname, layout, mode, alines = docs_meta[di]
        crng = np.random.default_rng([seed, n])
        approved_text = doc.text()
        if wide:
            printed, tinfo = apply_tamper_w(doc, kind, crng, split, alines, removal_of.get(di))
            jpeg, f = make_capture_wide(crng, split, doc, printed, layout, fonts[fname], seal_font, kind=kind,
                                        tinfo=tinfo, approved_norm=norm(approved_text), capture=capture,
                                        framing=framings[n], bucket=buckets[n])
        else:
            printed, tinfo = apply_tamper(doc, kind, crng, split)
            jpeg, f = make_capture(crng, split, printed, layout, fonts[fname], seal_font, kind=kind, tinfo=tinfo,
                                   approved_norm=norm(approved_text), capture=capture,
                                   framing=framings[n], bucket=buckets[n])
        cid = f"{split}-{n:04d}"
        (out / "images" / f"{cid}.jpg").write_bytes(jpeg)
        case = {"id": cid, "image": f"images/{cid}.jpg"}
        if mode == "images":
            p = out / "approved" / f"{doc_id}.jpg"
            if doc_id not in written_docs:
                p.write_bytes(approved_scan(doc, layout, fonts[fname]))
                written_docs.add(doc_id)
            case["approved_images"] = [f"approved/{doc_id}.jpg"]
        elif crng.uniform() < 0.5:
            p = out / "docs" / f"{doc_id}.txt"
            if doc_id not in written_docs:
                p.write_bytes(approved_text.encode("utf-8"))
                written_docs.add(doc_id)
            case["approved_text_file"] = f"docs/{doc_id}.txt"
        else:
            case["approved_text"] = approved_text
        visible = f.pop("_visible")
        case["expected"] = f.pop("expected")
        case["framing"] = f.pop("framing")
        case["rotation_degrees"] = f.pop("rotation_degrees")
        case["capture"] = capture
        case["tamper"] = None if tinfo is None else {"kind": tinfo["kind"], "detail": tinfo["detail"], "visible": visible}
        tamper_extra = f.pop("_tamper_extra", None)
        if case["tamper"] and tamper_extra:
            case["tamper"].update(tamper_extra)
        case["template"] = doc.template
        case["printed_template"] = printed.template
        case["font"] = fname
        case["doc_id"] = doc_id
        case.update(f)
        lines_out.append(json.dumps(case, ensure_ascii=False))
        print(f"{cid} {capture:10s} {kind:15s} {case['framing']:5s} rot={case['rotation_degrees']:6.1f} "
              f"{case['expected']:10s} vis={len(case['visible_lines'])} cut={len(case['cut_lines'])} {len(jpeg) // 1024}KB",
              flush=True)
    (out / "cases.jsonl").write_text("\n".join(lines_out) + "\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=list(SEEDS), required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    build_split(a.split, SEEDS[a.split] if a.seed is None else a.seed, a.out)


if __name__ == "__main__":
    main()
