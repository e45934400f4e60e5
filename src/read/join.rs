//! Pieces of one line joined into one box before recognition.
//!
//! DB returns a line whose text is interrupted (by the seal imprint's ink, by blur that
//! thins a character's strokes) as two or more boxes, often overlapping by a character:
//! `……零星务工，2` and `2025年家庭……`. Read apart, the line loses what the recogniser
//! cannot make of a piece's clipped edge, reads the overlap twice (`2025年讯` then `年讯期`)
//! and leaves the compare layer a split line whose halves look like an insertion. Boxes
//! that lie on one text line, end to end or overlapping, are joined here; boxes across a
//! real gap (a signature row's two columns) stay apart.

use crate::read::geometry::{line_height, line_length, sub, text_direction};
use crate::read::page::{Point, Quad};

/// Most gap between two pieces of one line, in line heights: the space a lost character
/// or two leaves at the break is less than this, and the gap between two fields of a row
/// (`甲方（盖章）：` … `乙方（盖章）：`) is several characters.
const MAX_GAP: f32 = 0.5;
/// Most distance between the two pieces' centre lines, in line heights: neighbouring
/// lines sit a line height and more apart.
const MAX_OFFSET: f32 = 0.35;
/// Least ratio of the two pieces' heights: pieces of one line are printed at one size.
const MIN_HEIGHT_RATIO: f32 = 0.6;
/// Most degrees between the pieces' directions.
const MAX_ANGLE: f32 = 5.0;

/// A box's frame: centre, unit direction along the text, half length along it, height.
struct Frame {
    centre: Point,
    along: Point,
    half: f32,
    height: f32,
}

impl Frame {
    /// `quad`'s corners run clockwise from the text's own top-left.
    fn of(quad: &Quad) -> Self {
        let centre = [quad.iter().map(|p| p[0]).sum::<f32>() / 4.0, quad.iter().map(|p| p[1]).sum::<f32>() / 4.0];
        Frame { centre, along: text_direction(quad), half: line_length(quad) / 2.0, height: line_height(quad) }
    }

    /// A point's coordinates along the text and across it, from the centre.
    fn local(&self, p: Point) -> [f32; 2] {
        let d = sub(p, self.centre);
        let [ux, uy] = self.along;
        [d[0] * ux + d[1] * uy, -d[0] * uy + d[1] * ux]
    }

    fn global(&self, [a, c]: [f32; 2]) -> Point {
        let [ux, uy] = self.along;
        [self.centre[0] + a * ux - c * uy, self.centre[1] + a * uy + c * ux]
    }
}

/// Whether `b` continues the line of `a`: same direction, same height, on its centre line,
/// and at most [`MAX_GAP`] away along it.
fn continues(a: &Frame, b: &Frame) -> bool {
    let cos = (a.along[0] * b.along[0] + a.along[1] * b.along[1]).abs();
    let (low, high) = (a.height.min(b.height), a.height.max(b.height));
    let [along, across] = a.local(b.centre);
    cos >= MAX_ANGLE.to_radians().cos()
        && low >= MIN_HEIGHT_RATIO * high
        && across.abs() <= MAX_OFFSET * low
        && along.abs() - a.half - b.half <= MAX_GAP * high
}

/// Whether `a` and `b` are pieces of one line, in either order.
fn one_line(a: &Frame, b: &Frame) -> bool {
    continues(a, b) || continues(b, a)
}

/// Whether boxes `a` and `b` are pieces of one line, in either order.
pub fn pieces_of_one_line(a: &Quad, b: &Quad) -> bool {
    one_line(&Frame::of(a), &Frame::of(b))
}

/// Whether box `b` lies after box `a` along `a`'s text.
pub fn follows(a: &Quad, b: &Quad) -> bool {
    Frame::of(a).local(Frame::of(b).centre)[0] > 0.0
}

/// The box covering `a` and `b` in the frame of the longer one, corners from its top-left.
pub fn cover(a: &Quad, b: &Quad) -> Quad {
    let (fa, fb) = (Frame::of(a), Frame::of(b));
    let frame = if fa.half >= fb.half { fa } else { fb };
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for p in a.iter().chain(b) {
        let l = frame.local(*p);
        for k in 0..2 {
            lo[k] = lo[k].min(l[k]);
            hi[k] = hi[k].max(l[k]);
        }
    }
    [[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]].map(|l| frame.global(l))
}

/// `quads` (corners clockwise from the text's own top-left) with the pieces of each line
/// joined; the others are returned as they were, in their order.
pub fn join_pieces(mut quads: Vec<Quad>) -> Vec<Quad> {
    let mut frames: Vec<Frame> = quads.iter().map(Frame::of).collect();
    // A joined box may reach a piece checked before it grew: pass again until none joins.
    // Each join removes a box, so this ends, after at most one more pass than joins.
    let mut joined = true;
    while joined {
        joined = false;
        let mut a = 0;
        while a < quads.len() {
            let mut b = a + 1;
            while b < quads.len() {
                if one_line(&frames[a], &frames[b]) {
                    quads[a] = cover(&quads[a], &quads[b]);
                    frames[a] = Frame::of(&quads[a]);
                    quads.remove(b);
                    frames.remove(b);
                    joined = true;
                    b = a + 1;
                } else {
                    b += 1;
                }
            }
            a += 1;
        }
    }
    quads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::imaging::rotate_point;

    /// A box from x0 to x1 and y0 to y1 in a frame turned `degrees` clockwise.
    fn boxed(x0: f32, x1: f32, y0: f32, y1: f32, degrees: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(|p| rotate_point(p, degrees))
    }

    fn extent(q: &Quad, degrees: f32) -> [f32; 4] {
        let r = q.map(|p| rotate_point(p, -degrees));
        let (xs, ys) = (r.map(|p| p[0]), r.map(|p| p[1]));
        let min = |v: [f32; 4]| v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = |v: [f32; 4]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        [min(xs), max(xs), min(ys), max(ys)]
    }

    #[test]
    fn overlapping_and_adjacent_pieces_of_a_line_join() {
        for degrees in [0.0f32, 33.0, 90.0, 180.0, 271.0] {
            // A line broken in three (overlapping, then 8 px apart at a height of 30), and
            // the next line below it.
            let quads = vec![
                boxed(0.0, 400.0, 0.0, 30.0, degrees),
                boxed(380.0, 700.0, 1.0, 31.0, degrees),
                boxed(708.0, 760.0, 2.0, 30.0, degrees),
                boxed(0.0, 600.0, 45.0, 75.0, degrees),
            ];
            let joined = join_pieces(quads);
            assert_eq!(joined.len(), 2, "{degrees}");
            let e = extent(&joined[0], degrees);
            let want = [0.0, 760.0, 0.0, 31.0];
            assert!(e.iter().zip(want).all(|(a, b)| (a - b).abs() < 0.5), "{degrees}: {e:?}");
        }
    }

    #[test]
    fn a_piece_follows_along_the_text_whatever_the_turn() {
        for degrees in [0.0f32, 33.0, 90.0, 180.0, 271.0] {
            let (head, tail) = (boxed(0.0, 400.0, 0.0, 30.0, degrees), boxed(380.0, 700.0, 1.0, 31.0, degrees));
            assert!(follows(&head, &tail) && !follows(&tail, &head), "{degrees}");
        }
    }

    #[test]
    fn fields_apart_and_lines_apart_stay_apart() {
        let quads = vec![
            // A signature row: two fields 150 px (five heights) apart.
            boxed(0.0, 200.0, 0.0, 30.0, 0.0),
            boxed(350.0, 550.0, 0.0, 30.0, 0.0),
            // A line half a height lower than its neighbour's end, and a small print note.
            boxed(560.0, 700.0, 15.0, 45.0, 0.0),
            boxed(0.0, 300.0, 40.0, 52.0, 0.0),
        ];
        assert_eq!(join_pieces(quads.clone()), quads);
    }
}
