//! Plane geometry on float points: the minimum-area rectangle of a contour and the
//! corner orderings the pipeline relies on.

use crate::read::page::{Point, Quad};

/// A rotated rectangle: a centre, the unit direction of its first axis, and the half
/// lengths along that axis and the one perpendicular to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub center: Point,
    pub axis: Point,
    pub half: [f32; 2],
}

impl RotatedRect {
    pub fn corners(&self) -> Quad {
        let [ux, uy] = self.axis;
        let (nx, ny) = (-uy, ux);
        let at = |su: f32, sv: f32| {
            let (a, b) = (su * self.half[0], sv * self.half[1]);
            [self.center[0] + a * ux + b * nx, self.center[1] + a * uy + b * ny]
        };
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }

    pub fn short_side(&self) -> f32 {
        2.0 * self.half[0].min(self.half[1])
    }

    pub fn area(&self) -> f32 {
        4.0 * self.half[0] * self.half[1]
    }

    pub fn perimeter(&self) -> f32 {
        4.0 * (self.half[0] + self.half[1])
    }
}

pub fn sub(a: Point, b: Point) -> Point {
    [a[0] - b[0], a[1] - b[1]]
}

fn unit(v: Point) -> Point {
    let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
    if n == 0.0 { [0.0, 0.0] } else { [v[0] / n, v[1] / n] }
}

pub fn dist(a: Point, b: Point) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// A box's height across the text: the shorter of its mean side lengths (whichever corner
/// the box starts at).
pub fn line_height(quad: &Quad) -> f32 {
    let d = |a: usize, b: usize| dist(quad[a], quad[b]);
    ((d(0, 1) + d(2, 3)) / 2.0).min((d(1, 2) + d(3, 0)) / 2.0)
}

/// A box's length along the text: the mean of its top and bottom sides (corners clockwise
/// from the text's own top-left).
pub fn line_length(quad: &Quad) -> f32 {
    (dist(quad[0], quad[1]) + dist(quad[3], quad[2])) / 2.0
}

/// The unit direction a box's text runs in: its top and bottom sides averaged (corners
/// clockwise from the text's own top-left); zero for a degenerate box.
pub fn text_direction(quad: &Quad) -> Point {
    let [tl, tr, br, bl] = *quad;
    unit([tr[0] - tl[0] + br[0] - bl[0], tr[1] - tl[1] + br[1] - bl[1]])
}

/// A line's box (corners clockwise from the text's own top-left) lengthened along its text
/// by `before` and `after` pixels, each end stopping where a corner would leave the image
/// of size `bounds`.
pub fn lengthen(quad: &Quad, before: f32, after: f32, bounds: Point) -> Quad {
    let [tl, tr, br, bl] = *quad;
    let u = text_direction(quad);
    // How far `p` may move along `d` (at most `wanted`) and stay inside the image.
    let reach = |p: Point, d: Point, wanted: f32| {
        (0..2)
            .fold(wanted, |t, a| match d[a] {
                v if v > 0.0 => t.min((bounds[a] - p[a]) / v),
                v if v < 0.0 => t.min(p[a] / -v),
                _ => t,
            })
            .max(0.0)
    };
    let back = [-u[0], -u[1]];
    let b = reach(tl, back, before).min(reach(bl, back, before));
    let a = reach(tr, u, after).min(reach(br, u, after));
    let at = |p: Point, t: f32| [p[0] + u[0] * t, p[1] + u[1] * t];
    [at(tl, -b), at(tr, a), at(br, a), at(bl, -b)]
}

/// A box's own coordinates: along its text from the middle of its start side, and across it
/// from its centre line.
pub(crate) struct LineAxes {
    origin: Point,
    pub along: Point,
    pub length: f32,
    pub height: f32,
}

impl LineAxes {
    pub fn of(quad: &Quad) -> Self {
        let mid = |a: Point, b: Point| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        LineAxes {
            origin: mid(quad[0], quad[3]),
            along: text_direction(quad),
            length: line_length(quad),
            height: line_height(quad),
        }
    }

    pub fn at(&self, t: f32, s: f32) -> Point {
        let [u, v] = self.along;
        [self.origin[0] + u * t - v * s, self.origin[1] + v * t + u * s]
    }

    /// How far the centre line runs, from `t` in `direction` (±1), before it leaves an
    /// image of size `bounds`.
    pub fn to_edge(&self, t: f32, direction: f32, bounds: Point) -> f32 {
        let p = self.at(t, 0.0);
        (0..2).fold(f32::INFINITY, |reach, a| {
            let d = self.along[a] * direction;
            match d {
                d if d > 0.0 => reach.min((bounds[a] - 1.0 - p[a]) / d),
                d if d < 0.0 => reach.min(p[a] / -d),
                _ => reach,
            }
        })
    }
}

/// Convex hull by Andrew's monotone chain, counter-clockwise in a y-up frame.
fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut pts: Vec<Point> = points.to_vec();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: Point, a: Point, b: Point| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<Point> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> =
            if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The rectangle of least area enclosing `points` (rotating calipers over the hull), as
/// OpenCV's `minAreaRect` finds it.
pub fn min_area_rect(points: &[Point]) -> RotatedRect {
    let hull = convex_hull(points);
    let degenerate = |center: Point| RotatedRect { center, axis: [1.0, 0.0], half: [0.0, 0.0] };
    let Some(&first) = hull.first() else { return degenerate([0.0, 0.0]) };
    let mut best = degenerate(first);
    let mut best_area = f32::INFINITY;
    for i in 0..hull.len() {
        let edge = unit(sub(hull[(i + 1) % hull.len()], hull[i]));
        if edge == [0.0, 0.0] {
            continue;
        }
        let normal = [-edge[1], edge[0]];
        let project = |p: &Point, axis: Point| p[0] * axis[0] + p[1] * axis[1];
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let (u, v) = (project(p, edge), project(p, normal));
            (u0, u1, v0, v1) = (u0.min(u), u1.max(u), v0.min(v), v1.max(v));
        }
        let area = (u1 - u0) * (v1 - v0);
        if area < best_area {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            let center = [cu * edge[0] + cv * normal[0], cu * edge[1] + cv * normal[1]];
            best = RotatedRect { center, axis: edge, half: [(u1 - u0) / 2.0, (v1 - v0) / 2.0] };
            best_area = area;
        }
    }
    best
}

/// The detector's box order: sort by x, then within the left and right pairs by y, giving
/// top-left, top-right, bottom-right, bottom-left for a box that is roughly upright.
pub fn order_box(points: &Quad) -> Quad {
    let mut p = *points;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (tl, bl) = if p[1][1] > p[0][1] { (p[0], p[1]) } else { (p[1], p[0]) };
    let (tr, br) = if p[3][1] > p[2][1] { (p[2], p[3]) } else { (p[3], p[2]) };
    [tl, tr, br, bl]
}

/// The order the reference applies to final boxes: the left pair sorted by y gives
/// top-left and bottom-left, the right pair top-right and bottom-right.
pub fn order_clockwise(points: &Quad) -> Quad {
    let mut p = *points;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut left = [p[0], p[1]];
    let mut right = [p[2], p[3]];
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut q: Quad) -> Quad {
        q.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        q.map(|p| p.map(|v| (v * 1000.0).round() / 1000.0))
    }

    #[test]
    fn min_area_rect_of_an_axis_aligned_block() {
        let points: Vec<Point> =
            (0..=10).flat_map(|x| (0..=4).map(move |y| [x as f32 + 3.0, y as f32 + 2.0])).collect();
        let r = min_area_rect(&points);
        assert_eq!(sorted(r.corners()), [[3.0, 2.0], [3.0, 6.0], [13.0, 2.0], [13.0, 6.0]]);
        assert_eq!(r.short_side(), 4.0);
        assert_eq!(r.area(), 40.0);
        assert_eq!(r.perimeter(), 28.0);
    }

    #[test]
    fn min_area_rect_of_a_rotated_square() {
        let r = min_area_rect(&[[0.0, 5.0], [5.0, 0.0], [10.0, 5.0], [5.0, 10.0], [5.0, 5.0]]);
        assert!((r.area() - 50.0).abs() < 1e-3, "{r:?}");
        assert!((r.short_side() - 50f32.sqrt()).abs() < 1e-3);
    }

    #[test]
    fn box_orders() {
        let q = [[10.0, 10.0], [0.0, 0.0], [0.0, 10.0], [10.0, 0.0]];
        let upright = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(order_box(&q), upright);
        assert_eq!(order_clockwise(&q), upright);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert_eq!(min_area_rect(&[]).short_side(), 0.0);
        assert_eq!(min_area_rect(&[[1.0, 1.0]; 3]).short_side(), 0.0);
        assert_eq!(min_area_rect(&[[0.0, 0.0], [5.0, 0.0]]).short_side(), 0.0);
    }

    #[test]
    fn lengthening_follows_the_text_and_stops_at_the_image() {
        // Upright text from (10, 10) to (50, 20): 10 px before, 15 after.
        let q = [[10.0, 10.0], [50.0, 10.0], [50.0, 20.0], [10.0, 20.0]];
        assert_eq!(lengthen(&q, 10.0, 15.0, [100.0, 100.0]), [[0.0, 10.0], [65.0, 10.0], [65.0, 20.0], [0.0, 20.0]]);
        assert_eq!(lengthen(&q, 30.0, 80.0, [100.0, 100.0]), [[0.0, 10.0], [100.0, 10.0], [100.0, 20.0], [0.0, 20.0]]);
        // Text turned 180 degrees: its start is at the right, so "before" grows to the right.
        let turned = [[50.0, 20.0], [10.0, 20.0], [10.0, 10.0], [50.0, 10.0]];
        assert_eq!(lengthen(&turned, 5.0, 0.0, [100.0, 100.0])[0], [55.0, 20.0]);
        assert_eq!(lengthen(&turned, 5.0, 0.0, [100.0, 100.0])[1], [10.0, 20.0]);
    }
}
