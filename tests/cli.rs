//! The `sealcheck` binary as a user runs it.

mod common;

use std::process::Command;

use common::{eval_real, repo};

fn sealcheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sealcheck")).args(args).current_dir(repo()).output().unwrap()
}

#[test]
fn ocr_json_prints_one_object_per_image_and_a_bad_file_exits_2_without_stopping_the_rest() {
    let good = eval_real().join("images/rapidocr__test_without_det.jpg");
    let missing = repo().join("testdata/no-such-image.jpg");
    let not_image = repo().join("Cargo.toml");
    let out =
        sealcheck(&["ocr", "--json", missing.to_str().unwrap(), not_image.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 2, "one sentence per bad file: {stderr}");
    assert!(stderr.contains("no-such-image.jpg") && stderr.contains("Cargo.toml"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objects.len(), 1);
    let page = &objects[0];
    assert!(page["file"].as_str().unwrap().ends_with("test_without_det.jpg"));
    let line = &page["lines"][0];
    assert_eq!(line["text"], "在中国作家协会第三届儿童文学");
    assert_eq!(line["box"].as_array().unwrap().len(), 4);
    assert_eq!(line["chars"].as_array().unwrap().len(), 14);
    assert!(line["chars"][0]["prob"].as_f64().unwrap() > 0.5);
    for key in ["decode", "detect", "classify", "recognise", "model", "total"] {
        assert!(page["timing_ms"][key].as_f64().is_some(), "timing {key}");
    }
    assert!(page["rotation_degrees"].as_f64().is_some());
}

#[test]
fn ocr_stops_silently_with_2_when_its_output_closes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let image = eval_real().join("images/rapidocr__test_without_det.jpg");
    let images = vec![image.to_str().unwrap(); 40];
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .arg("ocr")
        .args(&images)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("# "), "{first}");
    // The reader is gone (as `| head -1` goes): the next write fails.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn usage_errors_exit_2_and_missing_models_say_what_to_run() {
    assert_eq!(sealcheck(&["ocr"]).status.code(), Some(2));
    assert_eq!(sealcheck(&["frobnicate"]).status.code(), Some(2));
    let empty = std::env::temp_dir().join(format!("sealcheck-empty-models-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::copy(repo().join("models/ppocr-v4/modelset.json"), empty.join("modelset.json")).unwrap();
    let out = sealcheck(&["ocr", "--models", empty.to_str().unwrap(), "Cargo.toml"]);
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("cls.onnx: missing") && stderr.contains("scripts/setup.py"), "{stderr}");
}

fn verify(image: &std::path::Path, approved_text: &std::path::Path) -> std::process::Output {
    sealcheck(&["verify", "--image", image.to_str().unwrap(), "--approved-text", approved_text.to_str().unwrap()])
}

#[test]
fn verify_exit_codes_follow_the_verdict_and_trouble_is_2() {
    let samples = repo().join("testdata/samples");
    let capture = samples.join("capture.jpg");
    let approved = samples.join("approved.txt");
    let faithful = verify(&capture, &approved);
    assert_eq!(faithful.status.code(), Some(0), "{}", String::from_utf8_lossy(&faithful.stdout));
    assert!(String::from_utf8_lossy(&faithful.stdout).starts_with("MATCH"));

    let scratch = std::env::temp_dir().join(format!("sealcheck-verify-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let other = scratch.join("other.txt");
    std::fs::write(&other, "关于召开二〇二六年度村民代表大会的通知\n各村民小组：经村两委研究，定于十二月五日上午九时在村文化礼堂召开村民代表大会，审议村级财务收支情况和集体经济项目计划。请各位代表准时参加。\n").unwrap();
    let different = verify(&capture, &other);
    assert_eq!(different.status.code(), Some(1), "a different document is a mismatch");

    let blank = scratch.join("blank.png");
    image::RgbImage::from_pixel(800, 600, image::Rgb([250, 250, 245])).save(&blank).unwrap();
    let unreadable = verify(&blank, &approved);
    assert_eq!(unreadable.status.code(), Some(3), "blank paper is unreadable");

    let missing = verify(&scratch.join("missing.jpg"), &approved);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing.jpg"));
    assert_eq!(
        sealcheck(&["verify", "--image", capture.to_str().unwrap()]).status.code(),
        Some(2),
        "no approved document"
    );
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn a_different_document_is_reported_as_foreign_text_with_provenance() {
    let samples = repo().join("testdata/samples");
    let scratch = std::env::temp_dir().join(format!("sealcheck-foreign-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let other = scratch.join("other.txt");
    std::fs::write(&other, "关于召开二〇二六年度村民代表大会的通知\n各村民小组：经村两委研究，定于十二月五日上午九时在村文化礼堂召开村民代表大会，审议村级财务收支情况和集体经济项目计划。请各位代表准时参加。\n").unwrap();
    let capture = samples.join("capture.jpg");
    let annotated = scratch.join("annotated.png");
    let out = sealcheck(&[
        "verify",
        "--json",
        "--image",
        capture.to_str().unwrap(),
        "--approved-text",
        other.to_str().unwrap(),
        "--annotate",
        annotated.to_str().unwrap(),
    ]);
    let drawn = image::open(&annotated).map(|i| i.to_rgb8());
    std::fs::remove_dir_all(&scratch).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let drawn = drawn.expect("the annotated capture is written");
    assert!(drawn.pixels().any(|p| p.0 == [220, 0, 0]), "foreign lines are boxed red");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"]["outcome"], "MISMATCH");
    let kinds: Vec<&str> =
        report["verdict"]["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"foreign_text"), "{kinds:?}");
    let provenance = &report["provenance"];
    let sha = sealcheck::runtime::models::sha256_hex(&std::fs::read(&capture).unwrap());
    assert_eq!(provenance["image_sha256"], sha.as_str());
    assert_eq!(provenance["version"], env!("CARGO_PKG_VERSION"));
    for role in ["det", "cls", "rec", "dict", "v4_rec", "v5_rec", "v5_dict"] {
        assert_eq!(provenance["model_sha256"][role].as_str().map(str::len), Some(64), "{role}");
    }
    assert!(report["verdict"]["policy"]["min_char_prob"].as_f64().is_some(), "the policy applied is recorded");
    assert!(!report["page"]["lines"].as_array().unwrap().is_empty());
}

#[test]
fn verify_manifest_judges_every_job_and_reports_failures_on_their_own_line() {
    let samples = repo().join("testdata/samples");
    let scratch = std::env::temp_dir().join(format!("sealcheck-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::copy(samples.join("capture.jpg"), scratch.join("capture.jpg")).unwrap();
    std::fs::copy(samples.join("approved.txt"), scratch.join("approved.txt")).unwrap();
    let manifest = scratch.join("jobs.jsonl");
    std::fs::write(
        &manifest,
        [
            r#"{"id": "good", "image": "capture.jpg", "approved_text_file": "approved.txt", "note": "ignored"}"#,
            r#"{"id": "gone", "image": "missing.jpg", "approved_text": "x"}"#,
            "",
            r#"{"id": "other", "image": "capture.jpg", "approved_text": "完全不同的另一份文件，内容与所盖章的文件毫无关系，共计三十个以上的字符。"}"#,
            "not json",
        ]
        .join("\n"),
    )
    .unwrap();
    let out = sealcheck(&["verify", "--json", "--manifest", manifest.to_str().unwrap()]);
    std::fs::remove_dir_all(&scratch).unwrap();
    assert_eq!(out.status.code(), Some(2), "a failed job makes the run's status trouble");
    let results: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["good", "gone", "other", "line 5"]);
    assert_eq!(results[0]["verdict"]["outcome"], "MATCH");
    assert!(results[1]["error"].as_str().unwrap().contains("missing.jpg"));
    assert_eq!(results[2]["verdict"]["outcome"], "MISMATCH");
    assert!(results[3]["error"].as_str().unwrap().contains("not a job"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 2, "one sentence per failed job: {stderr}");
}

#[test]
fn bench_prints_every_section_with_the_reference_ratio() {
    let dir = std::env::temp_dir().join(format!("sealcheck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Three captures of the test split, with a reference that took one second for each.
    let split = repo().join("testdata/cases/test");
    let lines: Vec<String> =
        std::fs::read_to_string(split.join("cases.jsonl")).unwrap().lines().take(3).map(str::to_owned).collect();
    let mut manifest = String::new();
    let mut reference = String::new();
    for line in &lines {
        let mut case: serde_json::Value = serde_json::from_str(line).unwrap();
        let image = split.join(case["image"].as_str().unwrap());
        case["image"] = image.to_str().unwrap().into();
        manifest += &format!("{case}\n");
        reference += &format!("{}\n", serde_json::json!({ "file": image, "seconds": 1.0, "lines": ["x"] }));
    }
    std::fs::write(dir.join("cases.jsonl"), manifest).unwrap();
    std::fs::write(dir.join("reference.jsonl"), reference).unwrap();
    let arg = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let out = sealcheck(&[
        "bench",
        "--cases",
        &arg("cases.jsonl"),
        "--eval-real",
        &arg("none"),
        "--reference",
        &arg("reference.jsonl"),
        "--memory-images",
        "4",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for section in [
        "3 images",
        "ms per image",
        "inside the models",
        // Each peer is named by its file's stem.
        "against reference 1.00:",
        "recall ours/reference",
        "ms per line",
        "two 1-thread sessions",
        "after     4 images",
    ] {
        assert!(stdout.contains(section), "no `{section}` in:\n{stdout}");
    }
}

#[test]
fn eval_puts_candidates_side_by_side_and_compares_them() {
    let dir = std::env::temp_dir().join(format!("sealcheck-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two cases of the test split, their paths made absolute (a manifest may name files anywhere).
    let split = repo().join("testdata/cases/test");
    let manifest: String = std::fs::read_to_string(split.join("cases.jsonl"))
        .unwrap()
        .lines()
        .take(2)
        .map(|line| {
            let mut case: serde_json::Value = serde_json::from_str(line).unwrap();
            case["image"] = split.join(case["image"].as_str().unwrap()).to_str().unwrap().into();
            if let Some(pages) = case["approved_images"].as_array_mut() {
                pages.iter_mut().for_each(|p| *p = split.join(p.as_str().unwrap()).to_str().unwrap().into());
            }
            if let Some(file) = case["approved_text_file"].as_str() {
                case["approved_text_file"] = split.join(file).to_str().unwrap().into();
            }
            format!("{case}\n")
        })
        .collect();
    std::fs::write(dir.join("cases.jsonl"), manifest).unwrap();
    let (cases, html) = (dir.join("cases.jsonl"), dir.join("report.html"));
    let args = [
        "eval",
        "--json",
        "--workers",
        "1",
        "--manifest",
        cases.to_str().unwrap(),
        "--candidate",
        "strict=profile=default,policy.max_noise_weight=1.0",
        "--candidate",
        "loose=profile=default,policy.max_noise_weight=3.0",
        "--compare",
        "strict",
        "loose",
        "--html",
        html.to_str().unwrap(),
    ];
    let out = sealcheck(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> =
        summary["candidates"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["strict", "loose"], "an evaluation may loosen the policy");
    let strict = &summary["candidates"][0];
    assert_eq!(strict["verdicts"]["cases"], 2);
    assert!(strict["recognition"]["overall"]["recall"].as_f64().unwrap() > 0.9);
    assert!(strict["speed"]["stages"]["total"]["p95"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["comparisons"][0]["a"], "strict");
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains("plot-rotation") && !report.contains("<script"), "a self-contained report");

    let bad = sealcheck(&["eval", "--manifest", cases.to_str().unwrap(), "--candidate", "x=backend=gpu"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown backend `gpu`: use cpu or openvino"));
    let unknown = sealcheck(&["eval", "--manifest", cases.to_str().unwrap(), "--compare", "a", "b"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no candidate named a"));
    std::fs::remove_dir_all(&dir).unwrap();
}
