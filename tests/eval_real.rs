//! Parity with RapidOCR 1.4.4 and exact-text items on the real images of
//! `../shared/eval-real`.

mod common;

use common::{engine, eval_real, verifier};
use sealcheck::Profile;
use sealcheck::eval::figures::{Named, summarise};
use sealcheck::eval::run::run;
use sealcheck::eval::samples;
use sealcheck::eval::score::{lcs, normalise};
use serde_json::Value;

fn jsonl(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(eval_real().join(name)).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn read_text(profile: Profile, file: &str) -> String {
    let bytes = std::fs::read(eval_real().join(file)).unwrap();
    let page = engine(profile).read_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    page.lines.iter().map(|l| l.text.as_str()).collect()
}

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

/// The items whose exact text is known: the reference reads 5 of the 9.
#[test]
fn exact_text_items() {
    let items: Vec<Value> = jsonl("manifest.jsonl").into_iter().filter(|m| m["text"].is_string()).collect();
    assert_eq!(items.len(), 9);
    let mut right = Vec::new();
    for item in &items {
        let file = item["file"].as_str().unwrap();
        let got = normalise(&read_text(Profile::Default, file));
        let want = normalise(item["text"].as_str().unwrap());
        let ok = got == want;
        eprintln!("{} {file}: {:?}", if ok { "ok  " } else { "miss" }, got.iter().collect::<String>());
        if ok {
            right.push(file.to_owned());
        }
    }
    eprintln!("exact text: {} of {} (RapidOCR 1.4.4: 5)", right.len(), items.len());
    assert!(right.len() >= 7, "only {} of 9 exact-text items read right: {right:?}", right.len());
}

/// The real images through a PPOCRLabel `Label.txt` written from RapidOCR 1.4.4's lines and
/// boxes: the evaluation harness's recognition figures on any set labelled with PaddleOCR's
/// tool. RapidOCR's own reading is the label, so these figures measure agreement with it.
#[test]
fn a_label_file_of_the_real_images_gives_recognition_figures() {
    let dir = std::env::temp_dir().join(format!("sealcheck-label-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let label: String = jsonl("rapidocr-1.4.4.jsonl")
        .iter()
        .map(|r| {
            let regions: Vec<Value> = r["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| serde_json::json!({ "transcription": l["text"], "points": l["box"], "difficult": false }))
                .collect();
            let image = eval_real().join(r["file"].as_str().unwrap());
            format!("{}\t{}\n", image.display(), Value::from(regions))
        })
        .collect();
    std::fs::write(dir.join("Label.txt"), label).unwrap();
    let samples = samples::labels(&dir.join("Label.txt")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(samples.len(), 45);
    let who = Named { name: "default", spec: "profile=default", model_set: "default", profile: "default" };
    let summary = summarise(&who, &samples, &run(verifier(), &samples));
    let f = &summary.recognition.overall;
    eprintln!(
        "eval-real through Label.txt: {} images, {} characters: recall {:.3}, precision {:.3}, CER {:.3}, line accuracy {:.3}, order {:.3}",
        f.samples, f.chars, f.recall, f.precision, f.cer, f.line_accuracy, f.order
    );
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert!(summary.verdicts.is_none() && summary.recognition.by_rotation.is_empty(), "text labels only");
    assert!(f.samples >= 40 && f.chars > 1000, "{} samples, {} characters", f.samples, f.chars);
    assert!(f.recall >= 0.85, "recall against RapidOCR's lines {:.3}", f.recall);
}
