"""Synthetic smart-seal captures with exact ground truth, written as sealcheck case manifests.

    python generate.py --split tune --out ../../testdata/cases/tune
    python generate.py --split test --out ../../testdata/cases/test

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

SEEDS = {"tune": 1001, "test": 2002}
N_DOCS = int(os.environ.get("CAPTUREGEN_DOCS", "42"))  # smaller values for quick looks only
N_UNREADABLE = int(os.environ.get("CAPTUREGEN_UNREADABLE", "14"))
EXTRA_KINDS = ["swap", "clause_added", "clause_removed", "other_document"]
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
    fonts = R.FONTS[split]
    font_names = list(fonts)
    seal_font = R.SEAL_FONT[split][1]
    tpls = D.TEMPLATES[split]
    docs_meta = []
    jobs = []
    for di in range(N_DOCS):
        tpl = tpls[di % len(tpls)]
        doc = tpl(D.make_ctx(rng, split))
        fname = font_names[int(rng.integers(0, len(font_names)))]
        layout = R.random_layout(rng)
        doc_id = f"{split}-doc{di:03d}"
        mode = "images" if rng.uniform() < 0.1 else "text"
        docs_meta.append((doc_id, doc, fname, layout, mode))
        for kind in ["faithful", "faithful", "digit", "amount", EXTRA_KINDS[di % len(EXTRA_KINDS)]]:
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
        doc_id, doc, fname, layout, mode = docs_meta[di]
        crng = np.random.default_rng([seed, n])
        printed, tinfo = apply_tamper(doc, kind, crng, split)
        approved_text = doc.text()
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
