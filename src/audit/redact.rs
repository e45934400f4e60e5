//! Identity-card and phone numbers masked in what a report shows, except where a finding
//! lies: the auditor must see the changed digits, not the rest of a villager's number.
//!
//! Text is masked character for character (`＊`), so the findings' spans into the approved
//! text and the lines still point where they did; the capture's pixels are covered over
//! each masked character's cell, located from its span along its line's box.

use std::sync::LazyLock;

use image::{Rgb, RgbImage};
use imageproc::drawing::draw_polygon_mut;
use imageproc::point::Point;
use regex::Regex;

use crate::present::report::locate;
use crate::read::page::{Line, Quad};
use crate::verify::Report;

/// What stands in for a masked character.
pub const MASK: char = '＊';

/// An identity-card number, a mobile number, a landline number with its area code.
static NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{17}[\dXx]|1[3-9]\d{9}|0\d{2,3}-\d{7,8}").expect("the pattern compiles"));

const COVER: Rgb<u8> = Rgb([128, 128, 128]);

/// Mask the numbers in `report`'s approved text and lines, keeping the characters its
/// findings lie on; returns, per line, which of its characters ([`Line::chars`]) were
/// masked, for [`cover`].
pub fn redact(report: &mut Report) -> Vec<Vec<bool>> {
    let findings = &report.verdict.findings;
    let keep: Vec<[usize; 2]> = findings.iter().filter_map(|f| f.approved_span).collect();
    let (approved, _) = mask_text(&report.approved_text, &keep);
    report.approved_text = approved.into();
    let mut masks = Vec::with_capacity(report.page.lines.len());
    for (i, line) in report.page.lines.iter_mut().enumerate() {
        let chars: Vec<char> = line.text.chars().collect();
        let keep: Vec<[usize; 2]> = (findings.iter())
            .filter(|f| f.line == Some(i))
            .filter_map(|f| locate(&chars, f.observed.as_deref()?))
            .collect();
        let (text, masked) = mask_text(&line.text, &keep);
        line.text = text;
        masks.push(mask_chars(line, &masked));
    }
    masks
}

/// `text` with its numbers masked outside `keep` (char spans), and which chars were.
fn mask_text(text: &str, keep: &[[usize; 2]]) -> (String, Vec<bool>) {
    let chars: Vec<char> = text.chars().collect();
    let mut masked = vec![false; chars.len()];
    for m in NUMBERS.find_iter(text) {
        let (start, end) = (text[..m.start()].chars().count(), text[..m.end()].chars().count());
        // A run of digits longer than a number is some other figure.
        let digit_at = |k: Option<usize>| k.and_then(|k| chars.get(k)).is_some_and(char::is_ascii_digit);
        if digit_at(start.checked_sub(1)) || digit_at(Some(end)) {
            continue;
        }
        for (k, flag) in masked.iter_mut().enumerate().take(end).skip(start) {
            *flag = !keep.iter().any(|span| (span[0]..span[1]).contains(&k));
        }
    }
    let text = chars.iter().zip(&masked).map(|(&c, &m)| if m { MASK } else { c }).collect();
    (text, masked)
}

/// Which of `line`'s recognised characters hold a masked character of its text, each
/// masked in turn; when they do not spell the text, every one of them is.
fn mask_chars(line: &mut Line, masked_text: &[bool]) -> Vec<bool> {
    let spelled: usize = line.chars.iter().map(|c| c.text.chars().count()).sum();
    let any = masked_text.iter().any(|&m| m);
    let mut at = 0;
    let mut masks = Vec::with_capacity(line.chars.len());
    for c in &mut line.chars {
        let n = c.text.chars().count();
        let hit = if spelled == masked_text.len() { masked_text[at..at + n].iter().any(|&m| m) } else { any };
        at += n;
        if hit {
            c.text = MASK.to_string();
        }
        masks.push(hit);
    }
    masks
}

/// Paint over each masked character's cell in `image` (the capture as read, before it is
/// turned upright).
pub fn cover(image: &mut RgbImage, lines: &[Line], masks: &[Vec<bool>]) {
    for (line, masked) in lines.iter().zip(masks) {
        for (c, _) in line.chars.iter().zip(masked).filter(|(_, m)| **m) {
            let cell = cell(&line.quad, c.span);
            if cell.first() != cell.last() && cell[0] != cell[1] {
                draw_polygon_mut(image, &cell, COVER);
            }
        }
    }
}

/// The part of a line's box between fractions `span` of its length, widened by a pixel.
fn cell(quad: &Quad, [from, to]: [f32; 2]) -> [Point<i32>; 4] {
    let at = |a: [f32; 2], b: [f32; 2], t: f32| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    let [tl, tr, br, bl] = *quad;
    let point = |p: [f32; 2]| Point::new(p[0].round() as i32, p[1].round() as i32);
    let (from, to) = ((from - 0.01).max(0.0), (to + 0.01).min(1.0));
    [point(at(tl, tr, from)), point(at(tl, tr, to)), point(at(bl, br, to)), point(at(bl, br, from))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_but_where_a_finding_lies() {
        let text = "身份证号：110101199003071234，电话13812345678，金额5000元，编号123456789012345678901";
        let (masked, _) = mask_text(text, &[]);
        assert!(masked.contains("身份证号：＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊，"), "{masked}");
        assert!(masked.contains("电话＊＊＊＊＊＊＊＊＊＊＊，"), "{masked}");
        assert!(masked.contains("金额5000元") && masked.contains("123456789012345678901"), "{masked}");
        assert_eq!(masked.chars().count(), text.chars().count(), "spans keep pointing where they did");
        // A finding on the last four digits of the identity number keeps them.
        let start = text.chars().position(|c| c == '1').unwrap();
        let (kept, _) = mask_text(text, &[[start + 14, start + 18]]);
        assert!(kept.contains("＊＊＊＊＊＊＊＊＊＊＊＊＊＊1234，"), "{kept}");
    }
}
