//! Reading order of detected boxes.

use crate::page::Quad;

/// Lines whose top-left corners are closer than this vertically count as one row.
const SAME_ROW_PX: f32 = 10.0;

/// Sort boxes top to bottom, then left to right within a row, as the reference does:
/// by the top-left corner's (y, x), then neighbours less than [`SAME_ROW_PX`] apart in y
/// are swapped when their x is out of order. Returns the permutation.
pub fn reading_order(quads: &[Quad]) -> Vec<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32) -> Quad {
        [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]]
    }

    #[test]
    fn rows_then_columns() {
        // Second row's right box sits 4 px higher than its left one.
        let quads = [at(100.0, 54.0), at(0.0, 0.0), at(50.0, 58.0), at(60.0, 2.0)];
        let order = reading_order(&quads);
        assert_eq!(order, vec![1, 3, 2, 0]);
    }

    #[test]
    fn far_apart_lines_keep_vertical_order() {
        let quads = [at(0.0, 40.0), at(100.0, 0.0)];
        assert_eq!(reading_order(&quads), vec![1, 0]);
        assert!(reading_order(&[]).is_empty());
    }
}
