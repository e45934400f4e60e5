//! DB post-processing: from a text probability map to boxes.
//!
//! Binarise, dilate 2×2, take the contours, fit each with its minimum-area rectangle,
//! score it by the mean probability inside, grow it back out by `area × ratio / perimeter`
//! (the model was trained on shrunk text regions), and scale it to the image.

use image::GrayImage;
use imageproc::contours::{BorderType, find_contours};
use ndarray::ArrayView2;

use crate::read::config::DetConfig;
use crate::read::geometry::{RotatedRect, dist, min_area_rect, order_box, order_clockwise};
use crate::read::page::{Point, Quad};

/// Boxes whose short side is below this are noise, before and after growing.
const MIN_SIDE: f32 = 3.0;

/// Turn a probability map into boxes in the pixels of a `width`×`height` image.
pub fn boxes(map: ArrayView2<f32>, config: &DetConfig, width: u32, height: u32) -> Vec<Quad> {
    let (map_h, map_w) = map.dim();
    let mut bitmap = GrayImage::from_fn(map_w as u32, map_h as u32, |x, y| {
        image::Luma([u8::from(map[[y as usize, x as usize]] > config.thresh)])
    });
    if config.dilate {
        bitmap = dilate_2x2(&bitmap);
    }
    let scale = [width as f32 / map_w as f32, height as f32 / map_h as f32];
    find_contours::<i32>(&bitmap)
        .into_iter()
        .filter(|c| config.hole_contours || c.border_type == BorderType::Outer)
        .take(config.max_candidates)
        .filter_map(|contour| {
            let points: Vec<Point> = contour.points.iter().map(|p| [p.x as f32, p.y as f32]).collect();
            let rect = min_area_rect(&points);
            if rect.short_side() < MIN_SIDE {
                return None;
            }
            let corners = order_box(&rect.corners());
            if box_score(map, &corners) < config.box_thresh {
                return None;
            }
            let grown = unclip(&corners, rect.area() * config.unclip_ratio / rect.perimeter());
            if grown.short_side() < MIN_SIDE + 2.0 {
                return None;
            }
            let scaled = order_box(&grown.corners()).map(|[x, y]| {
                [
                    (x * scale[0]).round_ties_even().clamp(0.0, width as f32),
                    (y * scale[1]).round_ties_even().clamp(0.0, height as f32),
                ]
            });
            let quad = order_clockwise(&scaled)
                .map(|[x, y]| [x.clamp(0.0, (width.max(1) - 1) as f32), y.clamp(0.0, (height.max(1) - 1) as f32)]);
            let big_enough = dist(quad[0], quad[1]) as u32 > 3 && dist(quad[0], quad[3]) as u32 > 3;
            big_enough.then_some(quad)
        })
        .collect()
}

/// Grow a box by `d` as the reference's polygon offset does: on integer coordinates
/// (corners truncated, results rounded), each edge moved out by `d`, refitted with the
/// minimum-area rectangle. The round joins' arcs lie inside that rectangle, so the edge
/// points alone determine it.
fn unclip(corners: &Quad, d: f32) -> RotatedRect {
    let v = corners.map(|p| p.map(f32::trunc));
    let signed: f32 = (0..4).map(|i| v[i][0] * v[(i + 1) % 4][1] - v[(i + 1) % 4][0] * v[i][1]).sum();
    let mut points = Vec::with_capacity(8);
    for i in 0..4 {
        let (a, b) = (v[i], v[(i + 1) % 4]);
        let len = dist(a, b);
        if len == 0.0 {
            continue;
        }
        let e = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
        let n = if signed >= 0.0 { [e[1], -e[0]] } else { [-e[1], e[0]] };
        for p in [a, b] {
            points.push([(p[0] + d * n[0]).round(), (p[1] + d * n[1]).round()]);
        }
    }
    min_area_rect(&points)
}

/// A pixel is set when it or its left, upper or upper-left neighbour is: OpenCV's
/// `dilate` with a 2×2 kernel and its default anchor.
fn dilate_2x2(bitmap: &GrayImage) -> GrayImage {
    let (w, h) = bitmap.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let at = |dx: u32, dy: u32| x >= dx && y >= dy && bitmap.get_pixel(x - dx, y - dy)[0] != 0;
        image::Luma([u8::from(at(0, 0) || at(1, 0) || at(0, 1) || at(1, 1))])
    })
}

/// Mean probability over the pixels inside the quad (edges included), within the quad's
/// bounding box clipped to the map.
fn box_score(map: ArrayView2<f32>, quad: &Quad) -> f32 {
    let (h, w) = map.dim();
    let clip_x = |v: f32| (v as i64).clamp(0, w as i64 - 1) as usize;
    let clip_y = |v: f32| (v as i64).clamp(0, h as i64 - 1) as usize;
    let xs = quad.map(|p| p[0]);
    let ys = quad.map(|p| p[1]);
    let min = |v: [f32; 4]| v.iter().copied().fold(f32::INFINITY, f32::min);
    let max = |v: [f32; 4]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (x0, x1) = (clip_x(min(xs).floor()), clip_x(max(xs).ceil()));
    let (y0, y1) = (clip_y(min(ys).floor()), clip_y(max(ys).ceil()));
    // The polygon in integer coordinates relative to the box, as the reference fills it.
    let poly: Vec<Point> = quad.iter().map(|p| [(p[0] - x0 as f32).trunc(), (p[1] - y0 as f32).trunc()]).collect();
    let (mut sum, mut count) = (0f64, 0usize);
    for y in y0..=y1 {
        let Some((left, right)) = row_span(&poly, (y - y0) as f32) else { continue };
        if right < 0.0 {
            continue;
        }
        let from = x0 + left.max(0.0).ceil() as usize;
        let to = (x0 + right.floor() as usize).min(x1);
        for x in from..=to {
            sum += f64::from(map[[y, x]]);
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { (sum / count as f64) as f32 }
}

/// Where the horizontal line at `y` crosses the convex polygon, if it does.
fn row_span(poly: &[Point], y: f32) -> Option<(f32, f32)> {
    let mut span: Option<(f32, f32)> = None;
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let (lo, hi) = if a[1] <= b[1] { (a, b) } else { (b, a) };
        if y < lo[1] || y > hi[1] {
            continue;
        }
        let xs: &[f32] =
            if hi[1] == lo[1] { &[lo[0], hi[0]] } else { &[lo[0] + (y - lo[1]) / (hi[1] - lo[1]) * (hi[0] - lo[0])] };
        for &x in xs {
            span = Some(span.map_or((x, x), |(l, r)| (l.min(x), r.max(x))));
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::config::{EngineConfig, Profile};
    use ndarray::Array2;

    fn config() -> DetConfig {
        EngineConfig::new(Profile::Reference).det
    }

    /// A map with rectangles of probability `p` on a zero background.
    fn map(w: usize, h: usize, rects: &[(usize, usize, usize, usize, f32)]) -> Array2<f32> {
        let mut m = Array2::zeros((h, w));
        for &(x0, y0, x1, y1, p) in rects {
            m.slice_mut(ndarray::s![y0..y1, x0..x1]).fill(p);
        }
        m
    }

    #[test]
    fn one_rectangle_becomes_one_grown_box() {
        // 40×10 text region at (20,30); the map is the image's size.
        let m = map(100, 80, &[(20, 30, 60, 40, 0.9)]);
        let found = boxes(m.view(), &config(), 100, 80);
        assert_eq!(found.len(), 1);
        let [tl, tr, br, bl] = found[0];
        // The dilated region spans x 20..=60, y 30..=40 (40×10 between pixel centres);
        // d = 400·1.6/100 = 6.4, and the grown corners round to whole pixels.
        assert_eq!(tl, [14.0, 24.0]);
        assert_eq!(tr, [66.0, 24.0]);
        assert_eq!(br, [66.0, 46.0]);
        assert_eq!(bl, [14.0, 46.0]);
    }

    #[test]
    fn boxes_scale_to_the_image() {
        let m = map(100, 80, &[(20, 30, 60, 40, 0.9)]);
        let found = boxes(m.view(), &config(), 200, 40);
        assert_eq!(found[0][0], [28.0, 12.0]);
        assert_eq!(found[0][2], [132.0, 23.0]);
    }

    #[test]
    fn weak_and_tiny_regions_are_dropped() {
        let m = map(100, 80, &[(10, 10, 50, 20, 0.45), (70, 70, 72, 72, 0.95)]);
        assert!(boxes(m.view(), &config(), 100, 80).is_empty());
    }

    #[test]
    fn a_weak_region_passes_threshold_but_not_box_score() {
        // Above the binarisation threshold (0.3) but below the box threshold (0.5).
        let m = map(100, 80, &[(10, 10, 50, 20, 0.4)]);
        assert!(boxes(m.view(), &config(), 100, 80).is_empty());
        let mut c = config();
        c.box_thresh = 0.3;
        assert_eq!(boxes(m.view(), &c, 100, 80).len(), 1);
    }

    #[test]
    fn separate_regions_give_separate_boxes_and_boxes_stay_inside() {
        let m = map(100, 80, &[(0, 0, 30, 8, 0.9), (50, 40, 99, 79, 0.8)]);
        let found = boxes(m.view(), &config(), 100, 80);
        assert_eq!(found.len(), 2);
        for q in &found {
            assert!(q.iter().all(|p| p[0] >= 0.0 && p[0] <= 99.0 && p[1] >= 0.0 && p[1] <= 79.0), "{q:?}");
        }
    }

    #[test]
    fn a_tilted_region_gives_a_tilted_box() {
        let mut m = Array2::<f32>::zeros((100, 100));
        for t in 0..60 {
            for k in 0..6 {
                m[[20 + t + k, 20 + t]] = 0.9;
            }
        }
        let found = boxes(m.view(), &config(), 100, 100);
        assert_eq!(found.len(), 1);
        let [tl, tr, ..] = found[0];
        let angle = (tr[1] - tl[1]).atan2(tr[0] - tl[0]).to_degrees().abs();
        assert!((35.0..55.0).contains(&angle) || (125.0..145.0).contains(&angle), "{angle}");
    }

    #[test]
    fn dilation_extends_right_and_down() {
        let mut b = GrayImage::new(4, 4);
        b.put_pixel(1, 1, image::Luma([1]));
        let d = dilate_2x2(&b);
        let set: Vec<(u32, u32)> = d.enumerate_pixels().filter(|p| p.2[0] != 0).map(|p| (p.0, p.1)).collect();
        assert_eq!(set, vec![(1, 1), (2, 1), (1, 2), (2, 2)]);
    }

    #[test]
    fn box_score_is_the_mean_inside() {
        let m = map(20, 20, &[(0, 0, 10, 20, 1.0)]);
        let s = box_score(m.view(), &[[5.0, 5.0], [14.0, 5.0], [14.0, 9.0], [5.0, 9.0]]);
        assert!((s - 0.5).abs() < 1e-6, "{s}");
    }
}
