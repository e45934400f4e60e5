//! Whether the frame cuts a line, from the pixels.
//!
//! A box that comes near the frame's edge may run out of it: the character the edge slices
//! is often not detected, so the box stops short. But nearness is no evidence by itself: a
//! line may end just before the edge, and a box lengthened over blank paper (the second
//! look) reaches the edge whatever is printed. An end counts as cut only when ink at the
//! text's height reaches the edge. Blank paper between the text and the edge means the line
//! ends there, and where the approved text goes on, that paper is evidence of a deletion, so
//! its length is kept in the line's flags (`LineFlags::paper_to_edge`) for every end within
//! [`MEASURED_REACH`] of the edge.
//!
//! Ink is told from paper in the brightest channel: black toner is dark in all three, seal
//! ink is bright in red, so the imprint's ring never passes for text running on.

use image::RgbImage;

use super::geometry::LineAxes;
use super::imaging::pixel_at;
use super::page::{LineFlags, Point, Quad};

/// A box whose end comes this close to the frame's edge, in line heights, may run out of
/// it. On the tune split, half a line height flags 94 % of the lines the frame cuts
/// (against 74 % for a 2-pixel margin) and 2 % of whole lines.
const CUT_MARGIN: f32 = 0.5;

/// Blank paper at least this long (in line heights) between the text and the frame's edge
/// means the line ends inside the frame. A full-width comma leaves about 0.9 of a line
/// height blank before the next character, so anything shorter proves nothing.
const ENDS_BEFORE_EDGE: f32 = 1.0;

/// How far from the frame's edge (in line heights) an end's blank paper is measured: a
/// clause removed next to the edge leaves that much paper at most.
const MEASURED_REACH: f32 = 12.0;

/// Line heights a box runs past its own last ink at most: blank paper from the edge to
/// within this of the box's end is the line's own.
const BOX_MARGIN: f32 = 0.5;

/// Share of the line's height, about its centre line, searched for ink: the text's own
/// height, not the neighbouring lines'.
const BAND: f32 = 0.7;

/// A pixel is ink when its brightest channel is below this share of the paper's level
/// around it.
const INK_LEVEL: f32 = 0.6;

/// Ink pixels a column across the band needs to count as printed, so that noise and JPEG
/// ringing do not.
const MIN_INK: usize = 2;

/// The frame's verdict on a line's box: which ends it cuts, and how much blank paper lies
/// between an end near the edge and the edge where the line ends inside the frame.
pub fn frame_flags(quad: &Quad, image: &RgbImage) -> LineFlags {
    let axes = LineAxes::of(quad);
    let bounds = [image.width() as f32, image.height() as f32];
    let margin = (CUT_MARGIN * axes.height).max(2.0);
    let near = |k: usize| {
        let [x, y] = quad[k];
        x <= margin || y <= margin || x >= bounds[0] - 1.0 - margin || y >= bounds[1] - 1.0 - margin
    };
    // A long side along the edge: the frame slices the line lengthwise, its ends unknown.
    if (near(0) && near(1)) || (near(3) && near(2)) {
        return LineFlags::default().with_cut_ends((true, true));
    }
    // Each end's cut, and the blank paper between it and the edge when the line ends there.
    let end = |corners: [usize; 2], direction: f32| {
        let near = corners.iter().any(|&k| near(k));
        let from = if direction > 0.0 { axes.length } else { 0.0 };
        let reach = axes.to_edge(from, direction, bounds) / axes.height.max(1.0);
        if !near && reach > MEASURED_REACH {
            return (false, None);
        }
        let blank = blank_to_edge(image, &axes, from, direction, bounds);
        let ends_here = blank >= ENDS_BEFORE_EDGE && blank + BOX_MARGIN >= reach;
        (near && blank < ENDS_BEFORE_EDGE, ends_here.then_some(blank))
    };
    let ((cut_start, paper_start), (cut_end, paper_end)) = (end([0, 3], -1.0), end([1, 2], 1.0));
    LineFlags { paper_to_edge: [paper_start, paper_end], ..LineFlags::default() }.with_cut_ends((cut_start, cut_end))
}

/// Blank paper, in line heights, between the box's last ink towards its end at `from`, in
/// `direction` (±1 along the text), and the frame's edge there.
fn blank_to_edge(image: &RgbImage, axes: &LineAxes, from: f32, direction: f32, bounds: Point) -> f32 {
    let reach = axes.to_edge(from, direction, bounds);
    // Columns across the band, from the edge inwards over the whole box.
    let half = (BAND * axes.height / 2.0).max(1.0) as i32;
    let columns: Vec<Vec<f32>> = (0..(axes.length + reach).floor() as usize)
        .map(|k| {
            let t = from + direction * (reach - k as f32);
            (-half..=half).filter_map(|s| brightness(image, axes.at(t, s as f32))).collect()
        })
        .collect();
    // The paper's level at each column: the brightest within half a line height of it, so
    // that a vignette or a shadow darkening the frame's edge is paper, not ink.
    let brightest: Vec<f32> = columns.iter().map(|c| c.iter().copied().fold(0.0, f32::max)).collect();
    let window = (axes.height / 2.0).max(1.0) as usize;
    let printed = |k: usize| {
        let around = &brightest[k.saturating_sub(window)..(k + window + 1).min(brightest.len())];
        let paper = around.iter().copied().fold(0.0, f32::max);
        columns[k].iter().filter(|&&b| b < INK_LEVEL * paper).count() >= MIN_INK
    };
    let blank = (0..columns.len()).position(printed).unwrap_or(columns.len());
    blank as f32 / axes.height.max(1.0)
}

/// The brightest channel of the pixel at `p`, if it is inside the image.
fn brightness(image: &RgbImage, p: Point) -> Option<f32> {
    pixel_at(image, p).map(|rgb| f32::from(rgb.into_iter().max().unwrap_or(255)))
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    /// A white image `width`×80 with black "text" from x=40 to `text_end` at y 30..50: lines
    /// 20 pixels high, starting two line heights from the left edge.
    fn page(width: u32, text_end: u32) -> RgbImage {
        RgbImage::from_fn(width, 80, |x, y| {
            let stroke = (40..text_end).contains(&x) && (30..50).contains(&y) && x % 5 < 3;
            if stroke { Rgb([20, 20, 20]) } else { Rgb([235, 230, 220]) }
        })
    }

    fn line(from: f32, to: f32) -> Quad {
        [[from, 30.0], [to, 30.0], [to, 50.0], [from, 50.0]]
    }

    #[test]
    fn ink_reaching_the_edge_is_a_cut() {
        let flags = frame_flags(&line(40.0, 390.0), &page(400, 400));
        assert_eq!(flags.cut_ends(), (false, true));
        assert_eq!(flags.paper_to_edge[1], None);
        let start = flags.paper_to_edge[0].expect("the line starts inside the frame");
        assert!((1.9..2.1).contains(&start), "{start}");
    }

    #[test]
    fn paper_up_to_the_edge_ends_the_line_inside_the_frame() {
        // A box lengthened over 160 pixels (8 line heights) of blank paper to the edge.
        let flags = frame_flags(&line(40.0, 399.0), &page(400, 240));
        assert_eq!(flags.cut_ends(), (false, false));
        let blank = flags.paper_to_edge[1].expect("blank paper measured");
        assert!((7.5..8.5).contains(&blank), "{blank}");
    }

    #[test]
    fn red_ink_at_the_edge_is_not_text_running_on() {
        let mut image = page(400, 240);
        for x in 370..400 {
            for y in 25..55 {
                image.put_pixel(x, y, Rgb([200, 40, 50]));
            }
        }
        assert_eq!(frame_flags(&line(40.0, 399.0), &image).cut_ends(), (false, false));
    }

    #[test]
    fn text_beside_the_gap_is_not_the_line_s_own_paper() {
        // Another column of text between the line's end and the edge.
        let mut image = page(400, 140);
        for x in (300..360).filter(|x| x % 5 < 3) {
            for y in 30..50 {
                image.put_pixel(x, y, Rgb([20, 20, 20]));
            }
        }
        let flags = frame_flags(&line(40.0, 140.0), &image);
        assert_eq!(flags.cut_ends(), (false, false));
        assert_eq!(flags.paper_to_edge[1], None);
    }

    #[test]
    fn an_end_far_from_the_edge_is_not_measured() {
        let flags = frame_flags(&line(40.0, 140.0), &page(800, 140));
        assert_eq!(flags.cut_ends(), (false, false));
        assert_eq!(flags.paper_to_edge[1], None);
    }
}
