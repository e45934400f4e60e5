//! Which way up is the page? A seal is pressed at whatever angle the hand holds it.
//!
//! The decision is taken once per page, not per line: the detected boxes' long axes give
//! the text's axis (mod 180°), every crop is cut along that axis with the same side up,
//! and the direction classifier's votes, weighted by line length and confidence, decide
//! between that side and the opposite one. A line the classifier is sure disagrees with
//! the page keeps its own direction. Lines are then put in reading order in the page's
//! upright frame.

use image::RgbImage;

use crate::read::classify::Direction;
use crate::read::config::RecConfig;
use crate::read::geometry::{dist, order_clockwise};
use crate::read::imaging::rotate_point as rotate;
use crate::read::page::Quad;
use crate::read::recognise::{Reading, RecogniseError, recognise};
use crate::runtime::dictionary::Dictionary;
use crate::runtime::models::Model;

/// Boxes at least this many times longer than tall say something about the text's axis.
const AXIS_MIN_ASPECT: f32 = 1.5;
/// A line keeps a direction against the page's only when the classifier is this sure.
const LINE_OVERRIDE_SCORE: f32 = 0.995;
/// ... and the line is long enough for the classifier to be trusted alone.
const LINE_OVERRIDE_ASPECT: f32 = 4.0;

/// The text's axis in degrees, in (−90, 90]: the length-weighted mean direction of the
/// boxes' long sides, averaged on doubled angles so that θ and θ+180° agree. `None` when
/// no box is elongated enough to tell.
pub fn text_axis(quads: &[Quad]) -> Option<f32> {
    let (mut sx, mut sy) = (0f32, 0f32);
    for q in quads {
        let (top, side) = (dist(q[0], q[1]), dist(q[0], q[3]));
        let (long, short, [a, b]) = if top >= side { (top, side, [q[0], q[1]]) } else { (side, top, [q[0], q[3]]) };
        if short <= 0.0 || long / short < AXIS_MIN_ASPECT {
            continue;
        }
        let theta = 2.0 * (b[1] - a[1]).atan2(b[0] - a[0]);
        sx += long * theta.cos();
        sy += long * theta.sin();
    }
    (sx != 0.0 || sy != 0.0).then(|| {
        let axis = sy.atan2(sx).to_degrees() / 2.0;
        if axis <= -90.0 { axis + 180.0 } else { axis }
    })
}

/// Reorder a box's corners so that, seen in a frame turned by `degrees`, they run
/// clockwise from the top-left: a crop along them is upright when the page is turned by
/// exactly `degrees`.
pub fn corners_for(quad: &Quad, degrees: f32) -> Quad {
    let turned = quad.map(|p| rotate(p, -degrees));
    let ordered = order_clockwise(&turned);
    ordered.map(|t| quad[turned.iter().position(|u| *u == t).unwrap_or(0)])
}

/// The page's decision from the classifier's answers on crops cut with [`corners_for`]:
/// whether the page is upside down in that frame, and how sure the vote is, in [0, 1].
pub fn page_flip(directions: &[Direction], widths: &[f32]) -> (bool, f32) {
    let (mut vote, mut total) = (0f32, 0f32);
    for (d, &w) in directions.iter().zip(widths) {
        // A score of 0.5 says nothing; 1.0 says all.
        let weight = w * (2.0 * d.score - 1.0).max(0.0);
        vote += if d.flipped { weight } else { -weight };
        total += w;
    }
    if total == 0.0 { (false, 0.0) } else { (vote > 0.0, (vote.abs() / total).min(1.0)) }
}

/// Decide the page's way up by reading: recognise the `lines` widest crops both as cut
/// and turned 180°, and keep the way with the higher total confidence.
pub fn flip_by_recognition(
    model: &mut Model,
    dictionary: &Dictionary,
    crops: &[RgbImage],
    config: &RecConfig,
    max_width: u32,
    lines: usize,
) -> Result<bool, RecogniseError> {
    let mut widest: Vec<usize> = (0..crops.len()).collect();
    widest.sort_by_key(|&i| std::cmp::Reverse(crops[i].width()));
    widest.truncate(lines.max(1));
    let sample: Vec<RgbImage> =
        widest.iter().flat_map(|&i| [crops[i].clone(), image::imageops::rotate180(&crops[i])]).collect();
    let readings = recognise(model, dictionary, &sample, config, max_width)?;
    let confidence = |r: &Reading| r.score * r.chars.len() as f32;
    let (upright, turned) =
        readings.chunks(2).fold((0f32, 0f32), |(u, t), pair| (u + confidence(&pair[0]), t + confidence(&pair[1])));
    Ok(turned > upright)
}

/// Whether each line is read turned 180° from its crop: the page's decision, unless the
/// classifier is sure a long line disagrees.
pub fn line_flips(page_flipped: bool, directions: &[Direction], aspects: &[f32]) -> Vec<bool> {
    directions
        .iter()
        .zip(aspects)
        .map(|(d, &aspect)| {
            let sure = d.score >= LINE_OVERRIDE_SCORE && aspect >= LINE_OVERRIDE_ASPECT;
            if sure { d.flipped } else { page_flipped }
        })
        .collect()
}

/// Reading order for a page turned `degrees` clockwise: in the upright frame, lines whose
/// vertical extents overlap by more than half the smaller height form a row, unless they
/// run over each other by as much along the text (then they are stacked); rows run top to
/// bottom, lines within a row left to right. Returns the permutation.
///
/// Two lines are judged along their own direction when both boxes clearly show the same
/// one: a phone photographs the page in perspective, so a row at the page's foot can run a
/// few degrees off the page's mean axis, and across a signature row's gap that puts its
/// right half a line higher than its left (乙方 read before 甲方).
pub fn reading_order(quads: &[Quad], degrees: f32) -> Vec<usize> {
    let tilts: Vec<Option<f32>> = quads.iter().map(|q| tilt(q, degrees)).collect();
    let global: Vec<[f32; 2]> = quads.iter().map(|q| y_extent(q, degrees)).collect();
    let along: Vec<[f32; 2]> = quads.iter().map(|q| extent(q, degrees, 0)).collect();
    let mut by_top: Vec<usize> = (0..quads.len()).collect();
    by_top.sort_by(|&a, &b| global[a][0].total_cmp(&global[b][0]));
    // Each row with its shortest line, which stands for the row, so that one tall box (a
    // vertical word beside two lines) cannot chain the rows below into it.
    let mut rows: Vec<(Vec<usize>, usize)> = Vec::new();
    for i in by_top {
        // Lines side by side in a row never run over each other; ones that do are stacked,
        // however close a tilt or a tall neighbour brings them.
        let joins = rows.iter_mut().rev().take(3).find(|(members, r)| {
            let frame = degrees + shared_tilt(tilts[i], tilts[*r]).unwrap_or(0.0);
            overlap(y_extent(&quads[i], frame), y_extent(&quads[*r], frame)) > 0.5
                && members.iter().all(|&m| overlap(along[i], along[m]) <= 0.5)
        });
        match joins {
            Some((members, r)) => {
                members.push(i);
                if global[i][1] - global[i][0] < global[*r][1] - global[*r][0] {
                    *r = i;
                }
            }
            None => rows.push((vec![i], i)),
        }
    }
    rows.sort_by(|a, b| (global[a.1][0] + global[a.1][1]).total_cmp(&(global[b.1][0] + global[b.1][1])));
    rows.into_iter()
        .flat_map(|(mut members, _)| {
            members.sort_by(|&a, &b| along[a][0].total_cmp(&along[b][0]));
            members
        })
        .collect()
}

/// Lines whose top-left corners are closer than this vertically count as one row.
const SAME_ROW_PX: f32 = 10.0;

/// The reference's reading order, for pages read line by line (no page-level orientation).
/// Sorts boxes top to bottom, then left to right within a row, as the reference does:
/// by the top-left corner's (y, x), then neighbours less than [`SAME_ROW_PX`] apart in y
/// are swapped when their x is out of order. Returns the permutation.
pub fn reference_order(quads: &[Quad]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..quads.len()).collect();
    let tl = |i: usize| quads[i][0];
    order.sort_by(|&a, &b| tl(a)[1].total_cmp(&tl(b)[1]).then(tl(a)[0].total_cmp(&tl(b)[0])));
    for i in 0..order.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            let (upper, lower) = (tl(order[j]), tl(order[j + 1]));
            if (lower[1] - upper[1]).abs() < SAME_ROW_PX && lower[0] < upper[0] {
                order.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
    order
}

/// Boxes at least this many times longer than tall show their own direction.
const TILT_MIN_ASPECT: f32 = 3.0;
/// Most degrees a line may run off the page's axis and still be a line of it.
const MAX_TILT: f32 = 10.0;
/// Two boxes whose angles differ by more than this show no common direction. Box corners
/// are whole pixels: the two halves of a signature row, 130 px long each, were found 1.4°
/// apart on the test split (test-0202).
const MAX_TILT_SPREAD: f32 = 2.0;
/// A short box's angle is good to about a degree: a common direction closer than this to
/// the page's axis is the page's.
const MIN_TILT: f32 = 1.5;

/// The direction two lines share off the page's axis, when both show it clearly.
fn shared_tilt(a: Option<f32>, b: Option<f32>) -> Option<f32> {
    let (a, b) = (a?, b?);
    let mean = (a + b) / 2.0;
    ((a - b).abs() <= MAX_TILT_SPREAD && mean.abs() >= MIN_TILT).then_some(mean)
}

/// How many degrees a line runs off the page's axis, when its box shows it. Corners start
/// at the text's top-left, so the first side runs along the text (either way: mod 180°).
fn tilt(q: &Quad, degrees: f32) -> Option<f32> {
    let (along, across) = (dist(q[0], q[1]), dist(q[1], q[2]));
    if across <= 0.0 || along / across < TILT_MIN_ASPECT {
        return None;
    }
    let angle = (q[1][1] - q[0][1]).atan2(q[1][0] - q[0][0]).to_degrees();
    let off = (angle - degrees + 90.0).rem_euclid(180.0) - 90.0;
    (off.abs() <= MAX_TILT).then_some(off)
}

/// The vertical extent of a box in the frame of a page turned `degrees` clockwise.
fn y_extent(q: &Quad, degrees: f32) -> [f32; 2] {
    extent(q, degrees, 1)
}

/// A box's extent along `axis` (0: x, 1: y) in the frame of a page turned `degrees` clockwise.
fn extent(q: &Quad, degrees: f32, axis: usize) -> [f32; 2] {
    let vs = q.map(|p| rotate(p, -degrees)[axis]);
    [vs.iter().copied().fold(f32::INFINITY, f32::min), vs.iter().copied().fold(f32::NEG_INFINITY, f32::max)]
}

/// How much of the shorter of two extents the other covers.
fn overlap(a: [f32; 2], b: [f32; 2]) -> f32 {
    let shorter = (a[1] - a[0]).min(b[1] - b[0]);
    if shorter <= 0.0 { 0.0 } else { (a[1].min(b[1]) - a[0].max(b[0])).max(0.0) / shorter }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A w×h box centred at (cx, cy), its text running at `degrees` clockwise, corners
    /// from the text's own top-left.
    fn line(cx: f32, cy: f32, w: f32, h: f32, degrees: f32) -> Quad {
        [[-w / 2.0, -h / 2.0], [w / 2.0, -h / 2.0], [w / 2.0, h / 2.0], [-w / 2.0, h / 2.0]].map(|p| {
            let r = rotate(p, degrees);
            [r[0] + cx, r[1] + cy]
        })
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn axis_of_lines_at_any_angle() {
        for degrees in [0.0f32, 30.0, 89.0, 90.0, 135.0, 180.0, 200.0, 270.0, 333.0] {
            let quads = [line(100.0, 100.0, 200.0, 20.0, degrees), line(100.0, 140.0, 120.0, 20.0, degrees)];
            let axis = text_axis(&quads).unwrap();
            let want = (degrees + 90.0).rem_euclid(180.0) - 90.0;
            let want = if want <= -90.0 { want + 180.0 } else { want };
            assert!(close(axis, want) || close((axis - want).abs(), 180.0), "{degrees}: {axis} vs {want}");
        }
        assert_eq!(text_axis(&[line(0.0, 0.0, 20.0, 20.0, 0.0)]), None, "square boxes say nothing");
    }

    #[test]
    fn corners_follow_the_frame_not_the_box() {
        // A line turned 180°: in the upright frame its own top-left is the image's
        // bottom-right corner of the box.
        let q = line(50.0, 50.0, 60.0, 10.0, 180.0);
        let c = corners_for(&q, 180.0);
        assert!(c[0][0] > 70.0 && c[0][1] > 50.0, "{c:?}");
        let c = corners_for(&q, 0.0);
        assert!(c[0][0] < 30.0 && c[0][1] < 50.0, "{c:?}");
        // Turned 90° clockwise: the text's top-left is the box's top-right.
        let c = corners_for(&line(50.0, 50.0, 60.0, 10.0, 90.0), 90.0);
        assert!(c[0][0] > 50.0 && c[0][1] < 30.0, "{c:?}");
    }

    #[test]
    fn page_vote_is_weighted_and_a_sure_long_line_keeps_its_own_direction() {
        let d = |flipped, score| Direction { flipped, score };
        let (flip, sure) = page_flip(&[d(true, 0.99), d(true, 0.95), d(false, 0.6)], &[300.0, 200.0, 50.0]);
        assert!(flip && sure > 0.8, "{sure}");
        assert_eq!(page_flip(&[], &[]), (false, 0.0));
        let flips = line_flips(false, &[d(true, 0.999), d(true, 0.999), d(true, 0.9)], &[10.0, 2.0, 10.0]);
        assert_eq!(flips, vec![true, false, false]);
    }

    #[test]
    fn reading_order_in_the_upright_frame() {
        // Three lines of an upright page: two in the first row, one below.
        let upright = [
            line(300.0, 100.0, 100.0, 20.0, 0.0),
            line(100.0, 104.0, 200.0, 20.0, 0.0),
            line(150.0, 150.0, 300.0, 20.0, 0.0),
        ];
        assert_eq!(reading_order(&upright, 0.0), vec![1, 0, 2]);
        // The same page turned 180° about the origin: the order must not change.
        let turned = upright.map(|q| q.map(|p| rotate(p, 180.0)));
        assert_eq!(reading_order(&turned, 180.0), vec![1, 0, 2]);
        let turned = upright.map(|q| q.map(|p| rotate(p, 90.0)));
        assert_eq!(reading_order(&turned, 90.0), vec![1, 0, 2]);
    }

    #[test]
    fn a_row_in_perspective_is_read_left_to_right() {
        // The page's axis is level, but its foot was photographed 3° off: the signature row's
        // right half sits higher than its left, by more than half a line across its gap.
        let quads = [
            line(200.0, 100.0, 500.0, 20.0, 0.0),
            line(120.0, 200.0, 130.0, 28.0, -3.0),
            line(500.0, 180.0, 110.0, 28.0, -3.0),
        ];
        assert_eq!(reading_order(&quads, 0.0), vec![0, 1, 2]);
        // Short boxes show no direction of their own: judged in the page's frame, as before.
        let quads = [line(120.0, 200.0, 60.0, 28.0, -3.0), line(500.0, 180.0, 60.0, 28.0, -3.0)];
        assert_eq!(reading_order(&quads, 0.0), vec![1, 0]);
        // Nor do two boxes that disagree on it, or agree on less than box angles can tell.
        let quads = [line(120.0, 200.0, 130.0, 28.0, -3.0), line(500.0, 180.0, 110.0, 28.0, -0.5)];
        assert_eq!(reading_order(&quads, 0.0), vec![1, 0]);
        // Box angles a degree and a half apart still show it.
        let quads = [line(120.0, 200.0, 130.0, 28.0, -3.7), line(500.0, 180.0, 110.0, 28.0, -2.3)];
        assert_eq!(reading_order(&quads, 0.0), vec![0, 1]);
        let quads = [line(120.0, 200.0, 130.0, 28.0, 1.2), line(900.0, 198.0, 110.0, 28.0, 1.2)];
        assert_eq!(reading_order(&quads, 0.0), vec![0, 1]);
        // Two lines one above the other stay two rows, whatever their tilt.
        let quads = [line(300.0, 130.0, 400.0, 20.0, -3.0), line(300.0, 100.0, 400.0, 20.0, -3.0)];
        assert_eq!(reading_order(&quads, 0.0), vec![1, 0]);
    }

    #[test]
    fn stacked_lines_stay_two_rows() {
        // The foot of test-0149 (turned 313.6°): 甲方（盖章）： alone at the left; the
        // imprint's ring text (two boxes) over 乙方（签字）：, and under that the date, whose
        // first characters were found as a box of their own. That piece sat level with both
        // lines and chained them into one row, where the date came first by a fraction of a
        // pixel and was read before 乙方.
        let quads = [
            [[535.3997, 1010.962], [624.7342, 923.4787], [642.6685, 942.3297], [553.3339, 1029.8131]],
            [[806.804, 686.235], [862.6685, 581.5252], [908.9802, 607.064], [853.8131, 711.0573]],
            [[881.1856, 591.1751], [951.775, 581.7341], [956.4763, 615.6148], [885.8868, 625.0557]],
            [[845.1182, 695.6171], [931.6055, 606.758], [952.3871, 626.9849], [865.8998, 715.844]],
            [[848.195, 713.962], [866.3295, 695.3302], [878.5118, 707.1873], [860.3773, 725.8191]],
            [[861.581, 710.2451], [991.3502, 579.7845], [1012.1318, 600.0113], [881.6651, 731.1885]],
        ];
        assert_eq!(reading_order(&quads, 313.6001), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_tall_box_does_not_chain_rows_together() {
        let quads = [
            line(100.0, 100.0, 150.0, 20.0, 0.0),
            line(300.0, 115.0, 100.0, 50.0, 0.0),
            line(100.0, 130.0, 150.0, 20.0, 0.0),
        ];
        assert_eq!(reading_order(&quads, 0.0), vec![0, 1, 2]);
        // The tall box starts first: the line beside it still does not chain the next.
        let quads = [
            line(300.0, 118.0, 20.0, 70.0, 0.0),
            line(100.0, 94.0, 150.0, 20.0, 0.0),
            line(100.0, 124.0, 150.0, 20.0, 0.0),
        ];
        assert_eq!(reading_order(&quads, 0.0), vec![1, 0, 2]);
    }

    fn at(x: f32, y: f32) -> Quad {
        [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]]
    }

    #[test]
    fn reference_order_rows_then_columns() {
        // Second row's right box sits 4 px higher than its left one.
        let quads = [at(100.0, 54.0), at(0.0, 0.0), at(50.0, 58.0), at(60.0, 2.0)];
        let order = reference_order(&quads);
        assert_eq!(order, vec![1, 3, 2, 0]);
    }

    #[test]
    fn reference_order_keeps_far_apart_lines_in_vertical_order() {
        let quads = [at(0.0, 40.0), at(100.0, 0.0)];
        assert_eq!(reference_order(&quads), vec![1, 0]);
        assert!(reference_order(&[]).is_empty());
    }
}
