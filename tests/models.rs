//! Model sets: verification, and the PP-OCRv5 set loading and reading.

mod common;

use common::{eval_real, repo};
use sealcheck::read::crop::crop_lines;
use sealcheck::read::decode::decode;
use sealcheck::read::recognise::{Fill, bucket, read_at, width_buckets};
use sealcheck::runtime::models::ModelError;
use sealcheck::{Engine, EngineConfig, ModelSet, Profile};

/// Padding a line to a wider bucket with its own background must not change what is read:
/// the engine pads every line to a fixed width so that OpenVINO meets few shapes.
#[test]
fn a_lines_reading_does_not_depend_on_its_width_bucket_beyond_the_padding() {
    let config = EngineConfig::new(Profile::Default);
    let set = common::bundled_set(Profile::Default);
    let mut engine = Engine::new(set.clone(), config.clone()).unwrap();
    let bytes = std::fs::read(repo().join("testdata/samples/capture.jpg")).unwrap();
    let image = decode(&bytes, config.limits.max_pixels, config.page.alpha).unwrap();
    let quads: Vec<_> = engine.read(&image).unwrap().lines.iter().map(|line| line.quad).collect();
    let mut sessions = set.sessions(&config.runtime, 1).unwrap();
    let mut compared = 0;
    for crop in crop_lines(&image, &quads) {
        let own = bucket((48.0 * crop.image.width() as f32 / crop.image.height() as f32).ceil() as u32);
        let mut read_at_width = |width| {
            read_at(&mut sessions.rec, &sessions.dictionary, &[&crop.image], width, Fill::Background).unwrap().remove(0)
        };
        let base = read_at_width(own);
        assert!(!base.text.is_empty(), "a line of the sample reads as nothing at width {own}");
        for width in width_buckets().filter(|&w| w > own).take(2) {
            let wider = read_at_width(width);
            // The text is the reading; its mean probability moves a little with the padding
            // (0.90 at 320 px, 0.84 at 640 px for the sample's short date line, which is why
            // the buckets are fine).
            assert_eq!(wider.text, base.text, "at width {width}, against its own bucket {own}");
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} readings compared");
}

#[test]
fn the_ppocr_v5_set_loads_with_its_file_dictionary_and_reads() {
    let set = ModelSet::open(&repo().join("models/ppocr-v5")).unwrap();
    let roles: Vec<&str> = set.checksums.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["cls", "det", "dict", "rec"]);
    let mut engine = Engine::new(set, EngineConfig::new(Profile::Default)).unwrap();
    let bytes = std::fs::read(eval_real().join("images/rapidocr__test_without_det.jpg")).unwrap();
    let page = engine.read_bytes(&bytes).unwrap();
    assert_eq!(page.text(), "在中国作家协会第三届儿童文学");
}

#[test]
fn a_corrupt_model_is_refused_with_its_checksum() {
    let dir = std::env::temp_dir().join(format!("sealcheck-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = repo().join("models/ppocr-v4");
    for file in ["modelset.json", "det.onnx", "cls.onnx"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("rec.onnx"), b"not a model").unwrap();
    let err = ModelSet::open(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(err, ModelError::Checksum { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("rec.onnx") && message.contains("SHA-256") && message.contains("scripts/setup.py"),
        "{message}"
    );
}

#[test]
fn a_recogniser_left_out_of_the_second_opinions_is_refused() {
    let dir = std::env::temp_dir().join(format!("sealcheck-second-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = repo().join("models/default");
    for file in ["det.onnx", "cls.onnx", "rec.onnx", "dict.txt", "v4_rec.onnx", "v5_rec.onnx", "v5_dict.txt"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(source.join("modelset.json")).unwrap()).unwrap();
    // The second of the two opinions forgotten: its files are named but unused.
    manifest["second_opinions"].as_array_mut().unwrap().truncate(1);
    std::fs::write(dir.join("modelset.json"), manifest.to_string()).unwrap();
    let err = ModelSet::open(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(err, ModelError::Manifest { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing uses the `v5_dict` file"), "{err}");
}
