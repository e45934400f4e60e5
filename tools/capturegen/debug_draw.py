"""Draw a case's ground-truth boxes on a copy of its capture: python debug_draw.py MANIFEST ID OUT.png"""
import json, sys
from pathlib import Path
from PIL import Image, ImageDraw

man, cid, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
for line in man.read_text(encoding="utf-8").splitlines():
    c = json.loads(line)
    if c["id"] != cid:
        continue
    im = Image.open(man.parent / c["image"]).convert("RGB")
    d = ImageDraw.Draw(im)
    for l in c["visible_lines"]:
        col = (0, 200, 0) if not l.get("changed") else (255, 0, 255)
        d.polygon([tuple(p) for p in l["box"]], outline=col, width=2)
        d.ellipse([l["box"][0][0] - 5, l["box"][0][1] - 5, l["box"][0][0] + 5, l["box"][0][1] + 5], fill=(0, 0, 255))
    for l in c["cut_lines"]:
        d.polygon([tuple(p) for p in l["box"]], outline=(255, 140, 0), width=2)
    for imp in (c.get("imprint"), c.get("imprint_second")):  # the imprint's disc(s), red
        if imp:
            (x, y), r = imp["center"], imp["radius"]
            d.ellipse([x - r, y - r, x + r, y + r], outline=(230, 0, 0), width=1)
    im.save(out)
    print(json.dumps({k: v for k, v in c.items() if k not in ("visible_lines", "cut_lines", "approved_text")}, ensure_ascii=False))
    for l in c["visible_lines"]:
        print("V", l["imprint_cover"], l.get("imprint_ink_peak", ""), l.get("changed", ""), l["text"])
    for l in c["cut_lines"]:
        print("C", l["imprint_cover"], l.get("imprint_ink_peak", ""), l["inside"], l["text"])
