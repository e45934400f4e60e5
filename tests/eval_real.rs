//! Exact-text items and recognition figures on the real images of `../shared/eval-real`,
//! read by the default profile (parity with RapidOCR is `tests/parity.rs`).

mod common;

use common::{eval_real, eval_real_jsonl as jsonl, eval_real_text as read_text, verifier};
use sealcheck::Profile;
use sealcheck::eval::figures::{Named, summarise};
use sealcheck::eval::run::run;
use sealcheck::eval::samples;
use sealcheck::eval::score::normalise;
use serde_json::Value;

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
