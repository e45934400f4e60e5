//! The annotated capture for the person checking a flagged press: the page turned upright,
//! each read line boxed in the colour of what the comparison made of it, and beside each
//! decisive finding what the approved text says there, so the check needs neither the
//! approved file nor the raw photo.

use std::path::{Path, PathBuf};

use ab_glyph::{FontVec, PxScale};
use image::imageops::{self, rotate90, rotate180, rotate270};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_line_segment_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;
use thiserror::Error;

use crate::compare::{Finding, FindingKind, Verdict};
use crate::read::geometry::dist;
use crate::read::imaging::turn;
use crate::read::page::{Line, Point, Quad};

const GREEN: Rgb<u8> = Rgb([0, 170, 0]);
const RED: Rgb<u8> = Rgb([220, 0, 0]);
const AMBER: Rgb<u8> = Rgb([255, 170, 0]);
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// Tried in order when no font is named: common CJK fonts of Debian and Ubuntu packages
/// (fonts-noto-cjk, fonts-wqy-*, fonts-arphic-uming). Latin-only fonts would draw the
/// approved Chinese as empty boxes, so none is listed.
const SYSTEM_FONTS: [&str; 5] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
];

/// Labels longer than this many chars are cut: a deleted clause would run off any canvas.
const MAX_LABEL_CHARS: usize = 40;
/// Label text height bounds in pixels: readable on small captures, modest on large ones.
const TEXT_PX: [f32; 2] = [14.0, 64.0];
/// Space between the text and its background box's edge, and between a line and its label.
const PAD: u32 = 3;
const GAP: f32 = 6.0;

#[derive(Debug, Error)]
pub enum AnnotateError {
    #[error("cannot read font {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a TrueType/OpenType font (or collection) that can be read", path.display())]
    Invalid { path: PathBuf },
}

/// A font face for the labels, and the file it came from so the CLI can name it.
#[derive(Debug)]
pub struct Font {
    face: FontVec,
    path: PathBuf,
}

impl Font {
    /// Loads the first face: a `.ttc` collection's face 0 covers the CJK ideographs in
    /// every collection of [`SYSTEM_FONTS`].
    fn load(path: &Path) -> Result<Font, AnnotateError> {
        let data =
            crate::input::read_input(path).map_err(|source| AnnotateError::Read { path: path.into(), source })?;
        let face =
            FontVec::try_from_vec_and_index(data, 0).map_err(|_| AnnotateError::Invalid { path: path.into() })?;
        Ok(Font { face, path: path.into() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The font to label with: `explicit`, else `$SEALCHECK_FONT`, else the first of a few
/// common CJK system fonts that loads; `None` when there is none.
///
/// A named font (argument or variable) that does not load is an error rather than a
/// silent fallback: whoever named it expects it to be used.
pub fn find_font(explicit: Option<&Path>) -> Result<Option<Font>, AnnotateError> {
    if let Some(path) = explicit {
        return Font::load(path).map(Some);
    }
    if let Some(path) = std::env::var_os("SEALCHECK_FONT").filter(|p| !p.is_empty()) {
        return Font::load(Path::new(&path)).map(Some);
    }
    Ok(SYSTEM_FONTS.iter().map(Path::new).filter(|p| p.is_file()).find_map(|p| {
        Font::load(p).map_err(|e| tracing::warn!(error = &e as &dyn std::error::Error, "skipping system font")).ok()
    }))
}

/// How a line is boxed; the worst finding on it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Clean,
    Tolerated,
    Flagged,
}

/// Draws `verdict` onto the capture `image` (EXIF applied) read as `lines`, turned upright
/// by `rotation_degrees` (how far the page is turned clockwise, as in
/// [`Page`](crate::read::page::Page)).
///
/// Without a `font` the boxes are drawn but not the labels. The canvas grows (to the right)
/// when a label has no free room beside or below its line, rather than hiding text.
pub fn annotate(
    image: &RgbImage,
    lines: &[Line],
    verdict: &Verdict,
    rotation_degrees: f32,
    font: Option<&Font>,
) -> RgbImage {
    let (upright, frame) = upright(image, rotation_degrees);
    let quads: Vec<Quad> = lines.iter().map(|l| l.quad.map(|p| frame.apply(p))).collect();
    let mut states = vec![State::Clean; lines.len()];
    for f in &verdict.findings {
        if let Some(state) = f.line.and_then(|l| states.get_mut(l)) {
            *state = (*state).max(if f.tolerated { State::Tolerated } else { State::Flagged });
        }
    }
    let labels =
        font.map(|font| place_labels(font, &quads, &verdict.findings, upright.dimensions())).unwrap_or_default();
    let size = labels.iter().fold(upright.dimensions(), |(w, h), l| (w.max(l.right()), h.max(l.bottom())));
    let mut canvas = if size == upright.dimensions() {
        upright
    } else {
        let mut grown = RgbImage::from_pixel(size.0, size.1, WHITE);
        imageops::replace(&mut grown, &upright, 0, 0);
        grown
    };
    for (quad, state) in quads.iter().zip(&states) {
        let colour = match state {
            State::Clean => GREEN,
            State::Tolerated => AMBER,
            State::Flagged => RED,
        };
        outline(&mut canvas, quad, colour);
    }
    if let Some(font) = font {
        for l in &labels {
            let (x, y) = (l.x as i32, l.y as i32);
            draw_filled_rect_mut(&mut canvas, Rect::at(x, y).of_size(l.width, l.height), WHITE);
            draw_text_mut(&mut canvas, RED, x + PAD as i32, y + PAD as i32, l.scale, &font.face, &l.text);
        }
    }
    canvas
}

/// Where capture pixels land in the upright image: a clockwise turn about the centres.
struct Frame {
    sin: f32,
    cos: f32,
    from: Point,
    to: Point,
}

impl Frame {
    fn apply(&self, p: Point) -> Point {
        let (x, y) = (p[0] - self.from[0], p[1] - self.from[1]);
        [x * self.cos - y * self.sin + self.to[0], x * self.sin + y * self.cos + self.to[1]]
    }
}

/// The capture turned so its text reads upright, on a canvas grown to hold all of it.
fn upright(image: &RgbImage, rotation_degrees: f32) -> (RgbImage, Frame) {
    // Turning clockwise by the rest of the full circle undoes the page's turn.
    let degrees = if rotation_degrees.is_finite() { (-rotation_degrees).rem_euclid(360.0) } else { 0.0 };
    let quarter = (degrees / 90.0).round();
    let empty = image.width() == 0 || image.height() == 0;
    let (turned, sin, cos) = if empty || (degrees - 90.0 * quarter).abs() < 1e-3 {
        // Quarter turns exactly: no resampling blur, and pixel centres land on pixel centres.
        match quarter as u32 % 4 {
            0 => (image.clone(), 0.0, 1.0),
            1 => (rotate90(image), 1.0, 0.0),
            2 => (rotate180(image), 0.0, -1.0),
            _ => (rotate270(image), -1.0, 0.0),
        }
    } else {
        let (sin, cos) = degrees.to_radians().sin_cos();
        (turn(image, degrees, WHITE).image, sin, cos)
    };
    let centre = |(w, h): (u32, u32)| [(w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0];
    let frame = Frame { sin, cos, from: centre(image.dimensions()), to: centre(turned.dimensions()) };
    (turned, frame)
}

/// A closed outline three pixels thick.
fn outline(canvas: &mut RgbImage, quad: &Quad, colour: Rgb<u8>) {
    let (w, h) = canvas.dimensions();
    for k in 0..4 {
        let Some((a, b)) = clip(quad[k], quad[(k + 1) % 4], w, h) else { continue };
        for dx in [-1.0, 0.0, 1.0] {
            for dy in [-1.0, 0.0, 1.0] {
                draw_line_segment_mut(canvas, (a[0] + dx, a[1] + dy), (b[0] + dx, b[1] + dy), colour);
            }
        }
    }
}

/// The part of segment `a`–`b` near the canvas (Liang–Barsky), `None` when there is none
/// or a coordinate is not finite: imageproc walks every x between the ends, so a wild box
/// must not reach it unclipped.
fn clip(a: Point, b: Point, width: u32, height: u32) -> Option<(Point, Point)> {
    if !a.iter().chain(&b).all(|v| v.is_finite()) {
        return None;
    }
    let (ax, ay, bx, by) = (f64::from(a[0]), f64::from(a[1]), f64::from(b[0]), f64::from(b[1]));
    let (dx, dy) = (bx - ax, by - ay);
    let (lo, hi_x, hi_y) = (-2.0, f64::from(width) + 1.0, f64::from(height) + 1.0);
    let (mut t0, mut t1) = (0f64, 1f64);
    for (p, q) in [(-dx, ax - lo), (dx, hi_x - ax), (-dy, ay - lo), (dy, hi_y - ay)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else if p < 0.0 {
            t0 = t0.max(q / p);
        } else {
            t1 = t1.min(q / p);
        }
    }
    let at = |t: f64| [(ax + t * dx) as f32, (ay + t * dy) as f32];
    (t0 <= t1).then(|| (at(t0), at(t1)))
}

/// An axis-aligned box `[left, top, right, bottom]` in output pixels.
type Bounds = [f32; 4];

fn bounds(quad: &Quad) -> Option<Bounds> {
    let min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
    let max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
    let (xs, ys) = (quad.map(|p| p[0]), quad.map(|p| p[1]));
    quad.iter().flatten().all(|v| v.is_finite()).then(|| [min(xs), min(ys), max(xs), max(ys)])
}

fn intersects(a: &Bounds, b: &Bounds) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// A label and its background box, placed in output pixels.
struct Label {
    text: String,
    scale: PxScale,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

impl Label {
    fn right(&self) -> u32 {
        self.x + self.width
    }

    fn bottom(&self) -> u32 {
        self.y + self.height
    }

    fn bounds(&self) -> Bounds {
        [self.x as f32, self.y as f32, self.right() as f32, self.bottom() as f32]
    }
}

/// One label per decisive finding on a line (duplicates merged): to the line's right, else
/// below it, wherever that stays inside the image and covers no other line or label; else
/// in a margin grown right of the image, so a label never hides text the checker needs.
fn place_labels(font: &Font, quads: &[Quad], findings: &[Finding], (width, height): (u32, u32)) -> Vec<Label> {
    let (width, height) = (width as f32, height as f32);
    let lines: Vec<Option<Bounds>> = quads.iter().map(bounds).collect();
    let mut placed: Vec<(usize, Label)> = Vec::new();
    for f in findings.iter().filter(|f| !f.tolerated) {
        let Some((line, Some(own))) = f.line.and_then(|l| Some((l, *lines.get(l)?))) else { continue };
        let text = label_text(f);
        if placed.iter().any(|(l, p)| *l == line && p.text == text) {
            continue;
        }
        // The text's own height: from its top-left corner to its bottom-left.
        let quad = &quads[line];
        let text_px = 0.8 * dist(quad[0], quad[3]);
        let scale = PxScale::from(text_px.clamp(TEXT_PX[0], TEXT_PX[1]));
        let (tw, th) = text_size(scale, &font.face, &text);
        let (bw, bh) = (tw + 2 * PAD, th + 2 * PAD);
        let at = |x: f32, y: f32| [x, y, x + bw as f32, y + bh as f32];
        // Anchored inside the image, so a wild box cannot grow the canvas without bound.
        let [left, top, right, bottom] =
            [own[0].clamp(0.0, width), own[1].clamp(0.0, height), own[2].clamp(0.0, width), own[3].clamp(0.0, height)];
        let free = |b: &Bounds| {
            b[2] <= width
                && b[3] <= height
                && lines.iter().enumerate().all(|(k, l)| k == line || l.is_none_or(|l| !intersects(&l, b)))
                && placed.iter().all(|(_, p)| !intersects(&p.bounds(), b))
        };
        let beside = at(right + GAP, ((top + bottom - bh as f32) / 2.0).max(0.0));
        let below = at(left, bottom + GAP);
        let [x, y, ..] = if free(&beside) {
            beside
        } else if free(&below) {
            below
        } else {
            let mut margin = at(width + GAP, beside[1]);
            while let Some((_, p)) = placed.iter().find(|(_, p)| intersects(&p.bounds(), &margin)) {
                margin = at(margin[0], p.bottom() as f32 + 1.0);
            }
            margin
        };
        placed.push((line, Label { text, scale, x: x as u32, y: y as u32, width: bw, height: bh }));
    }
    placed.into_iter().map(|(_, l)| l).collect()
}

fn label_text(f: &Finding) -> String {
    let approved = f.approved.as_deref().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    match approved {
        Some(t) if !t.is_empty() && f.kind != FindingKind::ForeignText => {
            let cut: String = t.chars().take(MAX_LABEL_CHARS).collect();
            let more = if t.chars().count() > MAX_LABEL_CHARS { "…" } else { "" };
            format!("approved: {cut}{more}")
        }
        // Foreign text, or an insertion: the read text has nothing approved to set against.
        _ => "not in the approved text".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Outcome, Policy};

    const GREY: Rgb<u8> = Rgb([128, 128, 128]);

    fn line(quad: Quad) -> Line {
        Line {
            text: "甲方".into(),
            score: 0.98,
            quad,
            chars: vec![],
            flags: Default::default(),
            steps: vec![],
            seal_ink: vec![],
        }
    }

    fn finding(line: usize, approved: Option<&str>, tolerated: bool) -> Finding {
        Finding {
            kind: if approved.is_some() { FindingKind::CriticalChange } else { FindingKind::ForeignText },
            approved: approved.map(str::to_string),
            approved_span: approved.map(|_| [0, 1]),
            observed: Some("陆".into()),
            line: Some(line),
            quad: None,
            confidence: 0.98,
            tolerated,
            evidence: Vec::new(),
        }
    }

    fn verdict(findings: Vec<Finding>) -> Verdict {
        Verdict {
            outcome: Outcome::Mismatch,
            reason: None,
            similarity: 0.9,
            coverage: 1.0,
            covered_span: None,
            findings,
            rereads: Vec::new(),
            policy: Policy::default(),
        }
    }

    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    /// Reddish pixels in `[x0, x1) × [y0, y1)`: anti-aliased text is not exactly [`RED`].
    fn red_in(image: &RgbImage, [x0, x1]: [u32; 2], [y0, y1]: [u32; 2]) -> usize {
        let red = |p: &Rgb<u8>| p[0] > 150 && p[1] < 120 && p[2] < 120;
        image.enumerate_pixels().filter(|&(x, y, p)| (x0..x1).contains(&x) && (y0..y1).contains(&y) && red(p)).count()
    }

    fn close(a: Point, b: Point) -> bool {
        (a[0] - b[0]).abs() < 1e-3 && (a[1] - b[1]).abs() < 1e-3
    }

    #[test]
    fn upright_boxes_take_the_colour_of_their_findings() {
        let image = RgbImage::from_pixel(200, 100, GREY);
        let lines = [
            line(rect(10.0, 10.0, 90.0, 30.0)),
            line(rect(10.0, 50.0, 90.0, 70.0)),
            line(rect(100.0, 50.0, 180.0, 70.0)),
        ];
        let v = verdict(vec![finding(0, Some("伍"), false), finding(2, Some("己"), true), finding(7, None, false)]);
        let out = annotate(&image, &lines, &v, 0.0, None);
        assert_eq!(out.dimensions(), (200, 100));
        for y in 9..=11 {
            assert_eq!(*out.get_pixel(50, y), RED, "three pixels thick at y {y}");
        }
        assert_eq!(*out.get_pixel(90, 20), RED);
        assert_eq!(*out.get_pixel(50, 50), GREEN);
        assert_eq!(*out.get_pixel(140, 70), AMBER);
        assert_eq!(*out.get_pixel(50, 20), GREY, "the line itself stays visible");
        assert_eq!(*out.get_pixel(195, 5), GREY);
    }

    #[test]
    fn a_page_read_downwards_is_turned_counter_clockwise() {
        // Lines run top to bottom: the engine calls that a page turned 90° clockwise.
        let mut image = RgbImage::from_pixel(60, 100, GREY);
        image.put_pixel(5, 5, Rgb([0, 0, 255]));
        let down = [[27.0, 10.0], [27.0, 90.0], [12.0, 90.0], [12.0, 10.0]];
        let out = annotate(&image, &[line(down)], &verdict(vec![finding(0, Some("伍"), false)]), 90.0, None);
        assert_eq!(out.dimensions(), (100, 60));
        let (_, frame) = upright(&image, 90.0);
        // The line now reads left to right, its top edge at the top.
        assert!(close(frame.apply(down[0]), [10.0, 32.0]), "{:?}", frame.apply(down[0]));
        assert!(close(frame.apply(down[1]), [90.0, 32.0]));
        assert!(close(frame.apply(down[2]), [90.0, 47.0]));
        assert_eq!(*out.get_pixel(50, 32), RED);
        assert_eq!(*out.get_pixel(5, 54), Rgb([0, 0, 255]), "(x, y) lands at (y, w-1-x)");
    }

    #[test]
    fn upside_down_page_maps_points_through_the_centre() {
        let mut image = RgbImage::from_pixel(40, 30, GREY);
        image.put_pixel(3, 4, Rgb([0, 0, 255]));
        let (turned, frame) = upright(&image, 180.0);
        assert!(close(frame.apply([3.0, 4.0]), [36.0, 25.0]));
        assert_eq!(*turned.get_pixel(36, 25), Rgb([0, 0, 255]));
        // Near-quarter angles take the exact path too.
        assert!(close(upright(&image, 180.0004).1.apply([3.0, 4.0]), [36.0, 25.0]));
    }

    #[test]
    fn oblique_page_is_turned_onto_a_larger_canvas_without_clipping() {
        let image = RgbImage::from_fn(80, 40, |x, _| if x < 40 { Rgb([0, 0, 255]) } else { GREY });
        let (turned, frame) = upright(&image, 30.0);
        let (w, h) = turned.dimensions();
        assert!(w > 80 && h > 40, "{w}×{h}");
        for corner in [[0.0, 0.0], [79.0, 0.0], [79.0, 39.0], [0.0, 39.0]] {
            let [x, y] = frame.apply(corner);
            assert!(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32, "{corner:?} → {x}, {y}");
        }
        let [x, y] = frame.apply([20.0, 20.0]);
        assert_eq!(*turned.get_pixel(x.round() as u32, y.round() as u32), Rgb([0, 0, 255]));
        assert_eq!(*turned.get_pixel(0, 0), WHITE, "corners are filled white");
    }

    #[test]
    fn wild_input_does_not_panic() {
        let image = RgbImage::from_pixel(50, 50, GREY);
        let lines = [
            line([[f32::NAN, 0.0], [1e30, 5.0], [-1e30, 1e30], [0.0, f32::INFINITY]]),
            line(rect(-50.0, -50.0, 200.0, 10.0)),
        ];
        let v = verdict(vec![finding(0, Some("伍"), false), finding(1, Some("伍"), false)]);
        let font = find_font(None).ok().flatten();
        let out = annotate(&image, &lines, &v, f32::NAN, font.as_ref());
        assert!(out.width() >= 50 && out.width() < 1000 && out.height() < 1000, "{:?}", out.dimensions());
        assert_eq!(annotate(&RgbImage::new(0, 0), &lines, &v, 33.0, None).dimensions(), (0, 0));
    }

    #[test]
    fn a_missing_or_broken_explicit_font_is_an_error() {
        let missing = find_font(Some(Path::new("/nonexistent/font.ttc")));
        assert!(matches!(missing, Err(AnnotateError::Read { .. })), "{missing:?}");
        let not_a_font = find_font(Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml").as_path()));
        assert!(matches!(not_a_font, Err(AnnotateError::Invalid { .. })), "{not_a_font:?}");
    }

    #[test]
    fn labels_go_beside_below_or_into_a_margin_never_over_text() {
        let Some(font) = find_font(None).expect("system fonts load") else {
            eprintln!("no CJK font on this machine: label drawing not checked");
            return;
        };
        assert_ne!(ab_glyph::Font::glyph_id(&font.face, '伍').0, 0, "{} lacks CJK", font.path().display());
        let image = RgbImage::from_pixel(300, 200, GREY);
        let lines = [
            line(rect(10.0, 20.0, 110.0, 44.0)),
            line(rect(200.0, 70.0, 290.0, 94.0)),
            line(rect(150.0, 110.0, 290.0, 130.0)),
            line(rect(150.0, 152.0, 290.0, 172.0)),
        ];
        let beside_first = ([115, 195], [10, 55]);
        let below_third = ([152, 288], [134, 150]);
        let flagged = |third: bool| {
            let mut findings = vec![finding(0, Some("伍万元"), false), finding(1, None, false)];
            findings.extend(third.then(|| finding(2, Some("伍"), false)));
            verdict(findings)
        };

        let bare = annotate(&image, &lines, &flagged(true), 0.0, None);
        assert_eq!(bare.dimensions(), (300, 200));
        assert_eq!(red_in(&bare, beside_first.0, beside_first.1), 0);
        assert_eq!(red_in(&bare, below_third.0, below_third.1), 0);

        let out = annotate(&image, &lines[..3], &flagged(true), 0.0, Some(&font));
        assert!(red_in(&out, beside_first.0, beside_first.1) > 20, "label beside the first line");
        assert!(red_in(&out, below_third.0, below_third.1) > 20, "no room beside the third line: below it");
        // "not in the approved text" fits neither beside nor below the second line.
        assert!(out.width() > 300, "canvas grows to the right: {:?}", out.dimensions());
        assert_eq!(out.height(), 200);
        assert!(red_in(&out, [300, out.width()], [0, 200]) > 20);
        assert_eq!(*out.get_pixel(150, 190), GREY);

        // With a line below the third, its label goes to the margin instead of covering it.
        let out = annotate(&image, &lines, &flagged(true), 0.0, Some(&font));
        assert_eq!(red_in(&out, below_third.0, below_third.1), 0);
        assert_eq!(*out.get_pixel(220, 160), GREY, "the fourth line stays visible");
        assert!(red_in(&out, [300, out.width()], [100, 140]) > 20, "third label in the margin");
    }
}
