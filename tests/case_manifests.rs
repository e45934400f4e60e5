//! The committed case sets (`testdata/cases/{tune,test}/cases.jsonl`) follow the case format and
//! meet the case-mix minimums; `test` holds out `tune`'s templates and font faces.

use std::collections::BTreeSet;
use std::path::PathBuf;

use sealcheck::eval::cases::{CaptureKind, Expected, Framing, Manifest, TamperKind, case_mix};

const SPLITS: [&str; 2] = ["tune", "test"];

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
fn test_split_holds_out_templates_and_fonts() {
    let tune = case_mix(&load("tune").cases);
    let test = case_mix(&load("test").cases);
    let shared_t: BTreeSet<_> = tune.templates.intersection(&test.templates).collect();
    let shared_f: BTreeSet<_> = tune.fonts.intersection(&test.fonts).collect();
    assert!(shared_t.is_empty(), "templates in both splits: {shared_t:?}");
    assert!(shared_f.is_empty(), "font faces in both splits: {shared_f:?}");
    assert!(tune.templates.len() >= 4 && test.templates.len() >= 4);
    assert!(tune.fonts.len() >= 3 && test.fonts.len() >= 3);
}
