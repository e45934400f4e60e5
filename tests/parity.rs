//! Parity with RapidOCR 1.4.4 on the real images of `../shared/eval-real`: the reference
//! profile on ONNX Runtime's CPU provider, as RapidOCR runs. A process loads one ONNX
//! Runtime library, so this test has a file (a process) of its own, apart from the default
//! profile's OpenVINO library.

mod common;

use common::{eval_real_jsonl as jsonl, eval_real_text as read_text};
use sealcheck::Profile;
use sealcheck::eval::score::{lcs, normalise};

/// Character agreement (LCS over the longer text, after normalisation) on the 39 upright
/// images, pooled over all their characters.
#[test]
fn reference_profile_agrees_with_rapidocr() {
    let reference: std::collections::HashMap<String, String> = jsonl("rapidocr-1.4.4.jsonl")
        .into_iter()
        .map(|r| {
            let text = r["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
            (r["file"].as_str().unwrap().to_owned(), text)
        })
        .collect();
    let (mut common_chars, mut longer_chars, mut per_image) = (0usize, 0usize, Vec::new());
    for item in jsonl("manifest.jsonl").iter().filter(|m| m["upright"] == true) {
        let file = item["file"].as_str().unwrap();
        let ours = normalise(&read_text(Profile::Reference, file));
        let theirs = normalise(&reference[file]);
        let (same, longer) = (lcs(&ours, &theirs), ours.len().max(theirs.len()));
        common_chars += same;
        longer_chars += longer;
        per_image.push(if longer == 0 { 1.0 } else { same as f64 / longer as f64 });
        if same < longer {
            eprintln!("{file}: {same}/{longer}");
        }
    }
    assert_eq!(per_image.len(), 39, "the manifest marks 39 images upright");
    let pooled = common_chars as f64 / longer_chars as f64;
    let mean = per_image.iter().sum::<f64>() / per_image.len() as f64;
    eprintln!(
        "parity: pooled character agreement {pooled:.4} ({common_chars}/{longer_chars}), mean per image {mean:.4}"
    );
    assert!(pooled >= 0.98, "pooled agreement {pooled:.4} is below 0.98");
}
