//! Times `compare` for a 2,000-character capture against a 100,000-character document and,
//! as a baseline, against a 2,000-character document; prints medians and their ratio.
//!
//! Run with `cargo bench --bench compare_align`. The budget is < 50 ms for the long case.

use std::hint::black_box;
use std::time::Instant;

use sealcheck::compare::{Outcome, Policy, compare};
use sealcheck::read::page::{Char, Line, LineFlags};

const ITERATIONS: usize = 15;

/// Deterministic document text: clauses of common characters with amounts and dates.
fn document(len: usize, seed: u64) -> Vec<char> {
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        match next() % 40 {
            0 => out.extend(format!("人民币{}元", next() % 100_000).chars()),
            1 => out.extend(format!("{}年{}月{}日", 2020 + next() % 10, next() % 12 + 1, next() % 28 + 1).chars()),
            2 => out.push('，'),
            3 => out.push('。'),
            // The 3,000 most-used CJK characters start at U+4E00 densely enough for this.
            _ => out.push(char::from_u32(0x4E00 + (next() % 3000) as u32).unwrap_or('的')),
        }
    }
    out.truncate(len);
    out
}

/// Lines of 25 characters, one character in a hundred misread at probability 0.85.
fn capture(text: &[char]) -> Vec<Line> {
    text.chunks(25)
        .enumerate()
        .map(|(k, chunk)| {
            let chars: Vec<Char> = chunk
                .iter()
                .enumerate()
                .map(|(c, &ch)| {
                    // Noise stays out of amounts and dates, which must read exactly.
                    let noisy = (k * 25 + c) % 100 == 37 && !ch.is_ascii_digit() && !"年月日元".contains(ch);
                    Char {
                        text: if noisy { "囗".into() } else { ch.to_string() },
                        prob: if noisy { 0.85 } else { 0.98 },
                        span: [c as f32 / 25.0, (c + 1) as f32 / 25.0],
                        imprint_cover: 0.0,
                    }
                })
                .collect();
            let y = k as f32 * 40.0;
            Line {
                text: chars.iter().map(|c| c.text.as_str()).collect(),
                score: 0.97,
                quad: [[0.0, y], [750.0, y], [750.0, y + 32.0], [0.0, y + 32.0]],
                chars,
                flags: LineFlags::default(),
                steps: vec![],
                seal_ink: vec![],
            }
        })
        .collect()
}

fn median_ms(lines: &[Line], approved: &str, policy: &Policy) -> f64 {
    let verdict = compare(lines, approved, policy);
    assert_eq!(verdict.outcome, Outcome::Match, "benchmark inputs must align: {:?}", verdict.findings);
    let mut times: Vec<f64> = (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            black_box(compare(black_box(lines), black_box(approved), policy));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[ITERATIONS / 2]
}

fn main() {
    let policy = Policy::default();
    let long = document(100_000, 7);
    let band = &long[61_000..63_000];
    let lines = capture(band);
    let long: String = long.iter().collect();
    let short: String = band.iter().collect();

    let long_ms = median_ms(&lines, &long, &policy);
    let short_ms = median_ms(&lines, &short, &policy);
    println!("compare 2,000 chars vs 100,000-char document: median {long_ms:.2} ms ({ITERATIONS} runs)");
    println!("compare 2,000 chars vs   2,000-char document: median {short_ms:.2} ms ({ITERATIONS} runs)");
    println!("ratio long/short: {:.2}", long_ms / short_ms);
    if long_ms >= 50.0 {
        println!("OVER BUDGET: the long case must stay under 50 ms");
    }
}
