#!/usr/bin/env python3
"""The plain-ratio baseline on sealcheck case manifests.

    python3 tools/baseline/plain_ratio.py [--split test|tune ...] [--limit N]
    python3 tools/baseline/plain_ratio.py --rescore [--split test|tune ...]

--rescore keeps the stored predictions and OCR lines and only re-reads the manifests' labels
(`expected`, `tamper`): for a change of labelling rules, where the images are unchanged.

Sets up its own venv (/work/main/.venv-baseline by default, or $BASELINE_VENV) from
tools/baseline/requirements.txt the first time (idempotent), then re-runs itself inside it.

Rule, per capture:
  * OCR with RapidOCR 1.4.4 (rapidocr-onnxruntime, default config: PP-OCRv4 det + rec, mobile
    v2.0 angle classifier, text_score 0.5).  Approved documents given as images are OCR'd the
    same way, lines joined with "\n" and pages with "\f".
  * Normalise: Unicode NFKC, then drop all whitespace (incl. U+3000), on every recognised
    line and on the approved text.
  * UNREADABLE when fewer than 8 characters are read in total.
  * MISMATCH when some recognised line of >= 4 characters scores under 90 with
    rapidfuzz.fuzz.partial_ratio(line, approved) -- the Indel similarity (0..100) of the line
    against its best-aligned window of the approved text, i.e. "under 90% of its characters
    match anywhere in the approved text".
  * MATCH otherwise.
Writes testdata/baseline/rapidocr-plain-ratio-{split}.jsonl (one result per case) and a
.summary.json beside it, and prints accuracy overall, per expected class, and false accepts per
tamper kind.
"""
from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata
from pathlib import Path

from refenv import ROOT, ensure_venv

MIN_LINE_CHARS = 4
RATIO_THRESHOLD = 90.0
MIN_TOTAL_CHARS = 8


def norm(s: str) -> str:
    """NFKC (fullwidth ￥（） -> ¥() etc.), then drop all whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", action="append", choices=["tune", "test"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--cases", type=Path, default=ROOT / "testdata" / "cases")
    ap.add_argument("--out", type=Path, default=ROOT / "testdata" / "baseline")
    ap.add_argument("--rescore", action="store_true")
    a = ap.parse_args()
    splits = a.split or ["test", "tune"]
    if a.rescore:
        for split in splits:
            rescore(split, a.cases, a.out)
        return
    ensure_venv(__file__)
    from rapidfuzz import fuzz
    from rapidocr_onnxruntime import RapidOCR
    engine = RapidOCR()

    def ocr(path: Path) -> list[tuple[str, float]]:
        result, _ = engine(str(path))
        return [(t, float(s)) for _, t, s in (result or [])]

    approved_cache: dict[str, str] = {}
    a.out.mkdir(parents=True, exist_ok=True)
    for split in splits:
        man = a.cases / split / "cases.jsonl"
        cases = [json.loads(l) for l in man.read_text(encoding="utf-8").splitlines() if l.strip()]
        if a.limit:
            cases = cases[: a.limit]
        results = []
        t0 = time.time()
        for i, c in enumerate(cases):
            if "approved_text" in c:
                approved = c["approved_text"]
            elif "approved_text_file" in c:
                approved = (man.parent / c["approved_text_file"]).read_text(encoding="utf-8")
            else:
                pages = []
                for p in c["approved_images"]:
                    key = str(man.parent / p)
                    if key not in approved_cache:
                        approved_cache[key] = "\n".join(t for t, _ in ocr(man.parent / p))
                    pages.append(approved_cache[key])
                approved = "\f".join(pages)
            ap_n = norm(approved)
            t1 = time.time()
            lines = ocr(man.parent / c["image"])
            secs = time.time() - t1
            texts = [norm(t) for t, _ in lines]
            total = sum(len(t) for t in texts)
            worst, worst_line = 100.0, None
            for t in texts:
                if len(t) >= MIN_LINE_CHARS:
                    r = fuzz.partial_ratio(t, ap_n)
                    if r < worst:
                        worst, worst_line = r, t
            if total < MIN_TOTAL_CHARS:
                pred = "UNREADABLE"
            elif worst < RATIO_THRESHOLD:
                pred = "MISMATCH"
            else:
                pred = "MATCH"
            tamper = c.get("tamper")
            results.append({
                "id": c["id"], "expected": c["expected"], "predicted": pred, "correct": pred == c["expected"],
                "tamper_kind": tamper["kind"] if tamper else None,
                "tamper_visible": tamper["visible"] if tamper else None,
                "framing": c["framing"], "capture": c.get("capture", "document"),
                "chars_read": total, "worst_ratio": round(worst, 1), "worst_line": worst_line,
                "lines": [t for t, _ in lines], "seconds": round(secs, 2),
            })
            print(f"{c['id']} expected={c['expected']:10s} predicted={pred:10s} worst={worst:5.1f} "
                  f"chars={total:4d} {secs:.1f}s", flush=True)
        write(a.out, split, results, round(time.time() - t0, 1))


def write(out_dir: Path, split: str, results: list[dict], seconds_total: float) -> None:
    out = out_dir / f"rapidocr-plain-ratio-{split}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    summary = summarise(results)
    summary["split"] = split
    summary["seconds_total"] = seconds_total
    (out_dir / f"rapidocr-plain-ratio-{split}.summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report(split, summary)


def rescore(split: str, cases_dir: Path, out_dir: Path) -> None:
    labels = {}
    for line in (cases_dir / split / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            c = json.loads(line)
            labels[c["id"]] = c
    stored = out_dir / f"rapidocr-plain-ratio-{split}.jsonl"
    results = [json.loads(l) for l in stored.read_text(encoding="utf-8").splitlines() if l.strip()]
    for r in results:
        c = labels[r["id"]]
        tamper = c.get("tamper")
        r["expected"] = c["expected"]
        r["correct"] = r["predicted"] == c["expected"]
        r["tamper_visible"] = tamper["visible"] if tamper else None
    seconds = json.loads((out_dir / f"rapidocr-plain-ratio-{split}.summary.json").read_text())["seconds_total"]
    write(out_dir, split, results, seconds)


def summarise(results: list[dict]) -> dict:
    n = len(results)
    s = {"cases": n, "correct": sum(r["correct"] for r in results)}
    s["accuracy"] = round(s["correct"] / n, 4) if n else 0.0
    s["per_expected"] = {}
    for cls in ("MATCH", "MISMATCH", "UNREADABLE"):
        rs = [r for r in results if r["expected"] == cls]
        s["per_expected"][cls] = {"cases": len(rs), "correct": sum(r["correct"] for r in rs),
                                  "predicted": {p: sum(r["predicted"] == p for r in rs) for p in ("MATCH", "MISMATCH", "UNREADABLE")}}
    s["false_accepts"] = {}
    for r in results:
        if r["expected"] == "MISMATCH":
            k = s["false_accepts"].setdefault(r["tamper_kind"], {"visible_tampers": 0, "accepted": 0})
            k["visible_tampers"] += 1
            k["accepted"] += r["predicted"] == "MATCH"
    faithful = [r for r in results if r["expected"] == "MATCH" and r["tamper_kind"] is None]
    s["faithful"] = {"cases": len(faithful), "flagged": sum(r["predicted"] == "MISMATCH" for r in faithful),
                     "unreadable": sum(r["predicted"] == "UNREADABLE" for r in faithful)}
    da = [r for r in results if r["expected"] == "MISMATCH" and r["tamper_kind"] in ("digit", "amount")]
    s["digit_or_amount_visible"] = {"cases": len(da), "accepted": sum(r["predicted"] == "MATCH" for r in da)}
    return s


def report(split: str, s: dict) -> None:
    print(f"\n== {split}: accuracy {s['accuracy']:.3f} ({s['correct']}/{s['cases']})")
    for cls, v in s["per_expected"].items():
        acc = v["correct"] / v["cases"] if v["cases"] else 0.0
        print(f"   expected {cls:10s}: {v['correct']:3d}/{v['cases']:3d} = {acc:.3f}   predicted {v['predicted']}")
    print("   false accepts (visible tamper judged MATCH) per kind:")
    for k, v in sorted(s["false_accepts"].items()):
        print(f"     {k:15s}: {v['accepted']:3d}/{v['visible_tampers']:3d}")
    f = s["faithful"]
    print(f"   faithful prints flagged MISMATCH: {f['flagged']}/{f['cases']}"
          f" ({(f['flagged'] / f['cases'] if f['cases'] else 0):.1%}), judged UNREADABLE: {f['unreadable']}")
    d = s["digit_or_amount_visible"]
    print(f"   visibly changed digit/amount papers accepted: {d['accepted']}/{d['cases']}")


if __name__ == "__main__":
    main()
