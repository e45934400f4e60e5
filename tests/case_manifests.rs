//! The committed case sets (`testdata/cases/{tune,test,shift}/cases.jsonl`) follow the case format
//! and meet the case-mix minimums; `test` and `shift` each hold out the other splits' templates and
//! font faces; `tune` and `shift` (the wider generator of issue #28) record their seal styles, edge
//! tampers and clause removals, and `test` (the legacy generator, kept byte-identical) does not.

use std::collections::BTreeSet;
use std::path::PathBuf;

use sealcheck::eval::cases::{CaptureKind, Expected, Framing, Manifest, TamperKind, case_mix};

const SPLITS: [&str; 3] = ["tune", "test", "shift"];
/// The splits made by the wider generator (`STYLE` in `tools/capturegen/generate.py`).
const WIDE: [&str; 2] = ["tune", "shift"];

fn manifest_path(split: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/cases").join(split).join("cases.jsonl")
}

fn load(split: &str) -> Manifest {
    Manifest::load(manifest_path(split)).unwrap_or_else(|e| panic!("{split}: {e}"))
}

#[test]
fn every_manifest_parses_and_its_files_exist() {
    for split in SPLITS {
        let m = load(split);
        let resolved = m.resolve_all().unwrap_or_else(|e| panic!("{split}: {e}"));
        assert_eq!(resolved.len(), m.cases.len());
        for r in &resolved {
            let len = std::fs::metadata(&r.image).unwrap().len();
            assert!(len > 1000, "{}: image {} is only {len} bytes", r.case.id, r.image.display());
        }
    }
}

#[test]
fn cases_are_consistent() {
    for split in SPLITS {
        let m = load(split);
        for c in &m.cases {
            let id = &c.id;
            assert!(c.id.starts_with(split), "{id}: id does not name its split");
            let visible = c.tamper.as_ref().is_some_and(|t| t.visible);
            match c.expected {
                Expected::Mismatch => assert!(visible, "{id}: MISMATCH without a visible tamper"),
                Expected::Match => assert!(!visible, "{id}: MATCH with a visible tamper"),
                Expected::Unreadable => {
                    assert_ne!(c.capture, CaptureKind::Document, "{id}: UNREADABLE document capture");
                    assert!(c.tamper.is_none(), "{id}: UNREADABLE with a tamper");
                    assert!(c.visible_lines.is_empty() && c.cut_lines.is_empty(), "{id}: UNREADABLE with lines");
                }
            }
            if c.capture != CaptureKind::Document {
                assert_eq!(c.expected, Expected::Unreadable, "{id}: {:?} must be UNREADABLE", c.capture);
            }
            assert!(c.template.is_some() && c.font.is_some(), "{id}: template and font are recorded");
            let (w, h) = (c.width.expect("width") as f32, c.height.expect("height") as f32);
            for l in &c.visible_lines {
                for [x, y] in l.quad {
                    assert!(
                        (-0.5..=w + 0.5).contains(&x) && (-0.5..=h + 0.5).contains(&y),
                        "{id}: visible line {:?} has a corner outside the {w}x{h} frame",
                        l.text
                    );
                }
                assert!(l.inside.is_none(), "{id}: a visible line has `inside`");
            }
            for l in &c.cut_lines {
                let inside = l.inside.expect("cut lines record `inside`");
                assert!((0.0..1.0).contains(&inside), "{id}: cut line inside share {inside}");
            }
            if let Some(t) = &c.tamper {
                assert!(!t.detail.is_empty(), "{id}: tamper without detail");
                if t.visible && matches!(t.kind, TamperKind::Digit | TamperKind::Amount | TamperKind::Swap) {
                    // The changed characters are in the frame; their line may be cut
                    // elsewhere (testdata/README.md, "What `expected` means").
                    let shown = c.visible_lines.iter().chain(&c.cut_lines).any(|l| l.changed);
                    assert!(shown, "{id}: visible {:?} but no changed line in the frame", t.kind);
                }
            }
        }
    }
}

#[test]
fn case_mix_meets_the_minimums() {
    for split in SPLITS {
        let m = load(split);
        let mix = m.mix();
        println!("{split}:\n{mix}");
        let short = mix.shortfalls();
        assert!(short.is_empty(), "{split}: {}", short.join("; "));
        assert_eq!(mix.band + mix.phone, mix.total);
        assert!(mix.matches > 0 && mix.mismatches > 0 && mix.unreadable > 0, "{split}: every verdict occurs");
        assert!(m.cases.iter().any(|c| c.framing == Framing::Band && c.expected == Expected::Mismatch));
    }
}

#[test]
fn splits_hold_out_each_others_templates_and_fonts() {
    for (a, b) in [("tune", "test"), ("tune", "shift"), ("test", "shift")] {
        let ma = case_mix(&load(a).cases);
        let mb = case_mix(&load(b).cases);
        let shared_t: BTreeSet<_> = ma.templates.intersection(&mb.templates).collect();
        let shared_f: BTreeSet<_> = ma.fonts.intersection(&mb.fonts).collect();
        assert!(shared_t.is_empty(), "templates in {a} and {b}: {shared_t:?}");
        assert!(shared_f.is_empty(), "font faces in {a} and {b}: {shared_f:?}");
        assert!(ma.templates.len() >= 4 && mb.templates.len() >= 4);
        assert!(ma.fonts.len() >= 3 && mb.fonts.len() >= 3);
    }
}

/// The raw JSON of a split's cases: the wider generator's fields (`seal_style`, `imprint_ink`,
/// `tamper.at_edge`, `tamper.reflow` ...) are not fields of the Rust case types.
fn raw(split: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(manifest_path(split)).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn wide_splits_record_seal_styles_edge_tampers_and_clause_removals() {
    for split in WIDE {
        let cases = raw(split);
        let (mut opaque_on_date, mut double, mut normal, mut multiply, mut at_edge) = (0, 0, 0, 0, 0);
        let (mut reflowed, mut not_reflowed, mut paragraph) = ([0; 2], [0; 2], [0; 2]);
        for c in &cases {
            let id = c["id"].as_str().unwrap();
            let style = &c["seal_style"];
            assert_eq!(c["imprint"].is_null(), style.is_null(), "{id}: seal_style goes with imprint");
            if !style.is_null() {
                let peak = style["peak_alpha"].as_f64().unwrap();
                assert!((0.0..=0.97).contains(&peak), "{id}: peak_alpha {peak}");
                let opaque = style["opacity"] == "opaque";
                if opaque {
                    // near-opaque ink only where practice presses the seal
                    let at = style["placement"].as_str().unwrap();
                    assert!(at == "date_issuer" || at == "sign", "{id}: opaque ink at {at}");
                }
                opaque_on_date += usize::from(opaque && style["placement"] == "date_issuer");
                double += usize::from(style["double"] == true);
                normal += usize::from(style["blend"] == "normal");
                multiply += usize::from(style["blend"] == "multiply");
            }
            for l in c["visible_lines"].as_array().unwrap().iter().chain(c["cut_lines"].as_array().unwrap()) {
                for key in ["imprint_cover", "imprint_ink", "imprint_ink_peak"] {
                    let v = l[key].as_f64().unwrap_or_else(|| panic!("{id}: a line without {key}"));
                    assert!((0.0..=1.0).contains(&v), "{id}: {key} {v}");
                }
                if style.is_null() || style["opacity"] == "translucent" {
                    continue;
                }
                assert!(
                    !l["changed"].as_bool().unwrap_or(false) || l["imprint_cover"] == 0.0,
                    "{id}: opaque ink on a change"
                );
            }
            let t = &c["tamper"];
            if t.is_null() {
                continue;
            }
            at_edge += usize::from(!t["at_edge"].is_null());
            if t["kind"] == "clause_removed" {
                let seen = usize::from(t["visible"] == true);
                match (t["scope"].as_str().unwrap(), t["reflow"].as_bool().unwrap()) {
                    ("paragraph", _) => paragraph[seen] += 1,
                    (_, true) => reflowed[seen] += 1,
                    (_, false) => not_reflowed[seen] += 1,
                }
            }
        }
        println!(
            "{split}: opaque over the date {opaque_on_date}, double {double}, normal {normal}, multiply {multiply}, \
             at the frame's edge {at_edge}, clause removals [hidden, visible]: paragraph {paragraph:?}, \
             reflowed {reflowed:?}, not reflowed {not_reflowed:?}"
        );
        assert!(opaque_on_date >= 15 && double >= 10 && normal >= 20 && multiply >= 20, "{split}: seal styles");
        assert!(at_edge >= 10, "{split}: {at_edge} tampers framed at the frame's edge");
        for (name, n) in [("paragraph", paragraph), ("reflowed", reflowed), ("not reflowed", not_reflowed)] {
            assert!(n[1] >= 2 && n[0] + n[1] >= 5, "{split}: {name} clause removals {n:?}");
        }
    }
    // `test` is the legacy generator's, byte for byte: none of the new fields.
    for c in raw("test") {
        assert!(c.get("seal_style").is_none(), "{}: test has a seal_style", c["id"]);
        assert!(c["tamper"].get("at_edge").is_none(), "{}: test has tamper.at_edge", c["id"]);
    }
}
