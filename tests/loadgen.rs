//! `sealcheck loadgen` against real servers on 127.0.0.1:0: every call is accounted for,
//! the service's verdicts are the in-process verifier's, overload is refused and counted,
//! and a soak reads the server's memory as it goes. The whole-split runs #32 reports are
//! scripts/load.sh; these are their short versions.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo;
use common::service::{Server, url};
use serde_json::Value;

/// A manifest of the first `n` cases of the test split, with absolute paths.
fn manifest(name: &str, n: usize) -> PathBuf {
    let split = repo().join("testdata/cases/test");
    let lines: Vec<String> = std::fs::read_to_string(split.join("cases.jsonl"))
        .unwrap()
        .lines()
        .take(n)
        .map(|line| {
            let mut case: Value = serde_json::from_str(line).unwrap();
            let absolute = |v: &Value| Value::from(split.join(v.as_str().unwrap()).display().to_string());
            case["image"] = absolute(&case["image"]);
            if !case["approved_text_file"].is_null() {
                case["approved_text_file"] = absolute(&case["approved_text_file"]);
            }
            if let Some(pages) = case["approved_images"].as_array() {
                case["approved_images"] = pages.iter().map(absolute).collect();
            }
            case.to_string()
        })
        .collect();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("loadgen-{name}.jsonl"));
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// Run loadgen on `server` with `args` after the common ones; its JSON summary.
fn loadgen(server: &Server, name: &str, cases: usize, args: &[&str]) -> Value {
    let json = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("loadgen-{name}.json"));
    let manifest = manifest(name, cases);
    let pid = std::process::id().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .args(["loadgen", "--server", &url(server.address), "--server-pid", &pid, "--manifest"])
        .arg(&manifest)
        .arg("--json")
        .arg(&json)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn a_closed_loop_judges_every_call_as_the_in_process_verifier_does_and_measures_the_server() {
    let server = Server::start(2, 8);
    let summary = loadgen(&server, "closed", 3, &["closed", "--clients", "2", "--requests", "4"]);
    let baseline = summary["baseline"].as_array().unwrap();
    assert_eq!(baseline.iter().map(|run| run["workers"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    let level = &summary["levels"][0];
    assert_eq!(level["name"], "closed, 2 clients");
    assert_eq!((level["sent"].as_u64(), level["judged"].as_u64()), (Some(4), Some(4)));
    assert_eq!(level["differing"], 0, "the service's verdicts are the sequential verifier's");
    assert!(level["versus_baseline"].as_f64().unwrap() > 0.0);
    let server_use = &level["server"];
    assert!(server_use["cores_busy"].as_f64().unwrap() > 0.1, "the server worked: {server_use}");
    assert!(server_use["peak_resident_mib"].as_f64().unwrap() >= server_use["resident_mib"].as_f64().unwrap());
    let latency = &level["latency_ms"];
    assert!(latency["p50"].as_f64() <= latency["p99"].as_f64() && latency["p99"].as_f64() <= latency["max"].as_f64());

    let soak = loadgen(&server, "soak", 2, &["soak", "--requests", "4", "--every", "2"]);
    let marks = soak["memory"].as_array().unwrap();
    assert_eq!(marks.iter().map(|m| m["calls"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 4], "after every 2 calls");
    assert!(marks.iter().all(|m| m["peak_mib"].as_f64() >= m["resident_mib"].as_f64()), "{marks:?}");
    assert_eq!(soak["levels"][0]["judged"], 4, "rescaled captures are judged");
}

#[test]
fn an_open_loop_past_the_servers_capacity_is_refused_at_once_and_counted() {
    let server = Server::start(1, 1);
    let summary = loadgen(&server, "open", 2, &["open", "--rate", "50", "--requests", "12", "--after", "1"]);
    let (open, after) = (&summary["levels"][0], &summary["levels"][1]);
    let refused = open["refused"]["RESOURCE_EXHAUSTED"].as_u64().unwrap_or(0);
    assert!(refused >= 6, "12 calls in about 0.25 s at one worker and one place in the queue: {open}");
    assert_eq!(open["judged"].as_u64().unwrap() + refused, 12, "every call is judged or refused: {open}");
    assert_eq!(after["judged"], 1, "the next call after the burst is judged");
}
