//! Evidence in the pixels, on real captures edited as a forger's print or a hard press would
//! change them: a line's end is cut by the frame only where ink runs to the edge, and the
//! seal's own imprint never makes a faithful paper a mismatch.

mod common;

use std::io::Cursor;

use common::{labelled, verifier};
use image::{ImageFormat, Rgb, RgbImage};
use sealcheck::compare::{Evidence, Outcome, Unreadable};
use sealcheck::eval::cases::TruthLine;
use sealcheck::read::page::Quad;
use sealcheck::verify::{Approved, Report, Request};

fn judge(image: &RgbImage, approved: &str) -> Report {
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
    verifier().verify(Request::new(png, Approved::Text(approved.to_owned()))).unwrap()
}

fn truth_line<'a>(lines: &'a [TruthLine], starts: &str) -> &'a TruthLine {
    lines.iter().find(|l| l.text.replace('\u{3000}', "").starts_with(starts)).expect("the line is visible")
}

/// A point `t` pixels along a box's text from its start side's middle and `s` across it.
fn along(quad: &Quad, t: f32, s: f32) -> [f32; 2] {
    let mid = |a: [f32; 2], b: [f32; 2]| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
    let (start, end) = (mid(quad[0], quad[3]), mid(quad[1], quad[2]));
    let length = ((end[0] - start[0]).powi(2) + (end[1] - start[1]).powi(2)).sqrt();
    let u = [(end[0] - start[0]) / length, (end[1] - start[1]) / length];
    [start[0] + u[0] * t - u[1] * s, start[1] + u[1] * t + u[0] * s]
}

/// The box's length and height, and its full-width pitch: a digit or a Latin letter takes
/// about half a character's room.
fn measure(line: &TruthLine) -> (f32, f32, f32) {
    let d = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let q = line.quad;
    let (length, height) = ((d(q[0], q[1]) + d(q[3], q[2])) / 2.0, (d(q[1], q[2]) + d(q[0], q[3])) / 2.0);
    let units: f32 =
        line.text.chars().filter(|c| *c != '\u{3000}').map(|c| if c.is_ascii() { 0.55 } else { 1.0 }).sum();
    (length, height, length / units)
}

/// Paints every pixel of `image` within `[from, to)` along a box `height` high (its full
/// height, with a margin) with `colour` blended at `alpha` over what is there.
fn paint(image: &mut RgbImage, quad: &Quad, height: f32, [from, to]: [f32; 2], colour: [f32; 3], alpha: f32) {
    for t in (from as i32)..(to as i32) {
        for s in (-(height * 0.7) as i32)..=((height * 0.7) as i32) {
            let [x, y] = along(quad, t as f32, s as f32);
            if x < 0.0 || y < 0.0 || x as u32 >= image.width() || y as u32 >= image.height() {
                continue;
            }
            let p = image.get_pixel_mut(x as u32, y as u32);
            *p = Rgb(std::array::from_fn(|k| (alpha * colour[k] + (1.0 - alpha) * f32::from(p[k])) as u8));
        }
    }
}

/// The paper's colour around a box: per channel, the median of its pixels (most of a line's
/// box is paper between the strokes).
fn paper_around(image: &RgbImage, quad: &Quad) -> [f32; 3] {
    let (xs, ys) = (quad.map(|p| p[0] as u32), quad.map(|p| p[1] as u32));
    let (x0, x1) = (*xs.iter().min().unwrap(), (*xs.iter().max().unwrap()).min(image.width() - 1));
    let (y0, y1) = (*ys.iter().min().unwrap(), (*ys.iter().max().unwrap()).min(image.height() - 1));
    std::array::from_fn(|k| {
        let mut v: Vec<u8> =
            (y0..=y1).flat_map(|y| (x0..=x1).map(move |x| (x, y))).map(|(x, y)| image.get_pixel(x, y)[k]).collect();
        v.sort_unstable();
        f32::from(v[v.len() / 2])
    })
}

/// tune-0051, a faithful band capture: the paragraph's first line `今介绍我村党支部…` starts
/// about a line height from the frame's left edge. Printed without its first six characters
/// (blank paper where they stood, as a print of an edited file that did not reflow), the
/// clause's removal is a MISMATCH. The detector's box starts at `支`; the second look before
/// it runs over blank paper to the frame's edge, which is no cut: before the frame's edge
/// needed ink there, a look reaching the edge excused the missing clause as framing.
#[test]
fn a_clause_removed_at_a_line_start_by_the_frame_edge_is_a_mismatch() {
    let (capture, approved, case) = labelled("fixtures/tune-v1", "tune-0051");
    let mut image = image::load_from_memory(&capture).unwrap().to_rgb8();
    let line = truth_line(&case.visible_lines, "今介绍我村党");
    let (_, height, pitch) = measure(line);
    let paper = paper_around(&image, &line.quad);
    paint(&mut image, &line.quad, height, [-4.0, 6.15 * pitch], paper, 1.0);

    let report = judge(&image, &approved);
    assert_eq!(report.verdict.outcome, Outcome::Mismatch, "{:?}", report.verdict.findings);
    let missing = report
        .verdict
        .findings
        .iter()
        .find(|f| !f.tolerated && f.approved.as_deref().is_some_and(|a| a.contains("介绍我村")));
    let missing = missing.unwrap_or_else(|| panic!("the clause is missing: {:?}", report.verdict.findings));
    assert!(
        missing.evidence.iter().any(|e| matches!(*e, Evidence::PaperToEdge { line_heights, .. } if line_heights > 3.0)),
        "the blank paper to the frame's edge is the evidence: {:?}",
        missing.evidence
    );
    assert!(report.page.lines.iter().all(|l| !(l.text.starts_with("支部") && l.flags.cut)));
}

/// tune-0080, a faithful photo: the date `2026年4月4日` with a near-opaque seal paste (98.5%
/// vermilion over the print) pressed over `26`, which hides the digits as a hard press with
/// fresh paste does. A digit under the imprint that is not read is unverifiable, not
/// deleted: the capture is no MISMATCH, and if it cannot be read it says the imprint is why.
#[test]
fn a_near_opaque_imprint_over_a_date_is_never_a_mismatch() {
    let (capture, approved, case) = labelled("fixtures/tune-v1", "tune-0080");
    let mut image = image::load_from_memory(&capture).unwrap().to_rgb8();
    let line = truth_line(&case.visible_lines, "2026年");
    let (_, height, pitch) = measure(line);
    // `20` take 1.1 characters' room; `26` the next 1.1.
    paint(&mut image, &line.quad, height, [1.0 * pitch, 2.3 * pitch], [205.0, 40.0, 45.0], 0.985);

    let report = judge(&image, &approved);
    let verdict = &report.verdict;
    assert_ne!(verdict.outcome, Outcome::Mismatch, "{:?}", verdict.findings);
    if verdict.outcome == Outcome::Unreadable {
        assert_eq!(verdict.reason, Some(Unreadable::Imprint), "{:?}", verdict.findings);
    }
    let date = report.page.lines.iter().find(|l| l.text.ends_with("年4月4日")).expect("the date line is read");
    assert!(date.flags.imprint_cover > 0.0, "the imprint over the date is measured");
}
