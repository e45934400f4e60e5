use proptest::prelude::*;

use super::*;
use crate::read::page::{Char, LineEnd, LineFlags};
use crate::read::recognise::ctc_decode;
use crate::runtime::dictionary::Dictionary;

const CONTRACT: &str = "土地流转合同
甲方（流出方）：诸暨市枫桥镇东溪村村民委员会
乙方（流入方）：王建国，身份证号码330681198805123456，联系电话13857512345
根据《中华人民共和国农村土地承包法》和有关法律法规的规定，甲乙双方本着平等、自愿、有偿的原则，经协商一致，订立本合同。
第一条 流转土地位于东溪村南畈，面积共计二十亩，四至界限详见附图。
第二条 流转期限为五年，自2024年3月15日起至2029年3月14日止。
第三条 租金为每年人民币伍万元整（¥50,000.00），乙方应于每年3月31日前一次性付清。
第四条 乙方不得改变土地的农业用途，不得在流转土地上建设永久性建筑。
第五条 乙方应当合理利用土地，保护土地肥力，不得掠夺性经营，不得撂荒。
第六条 合同期满后，乙方在同等条件下享有优先续租权，续租应于期满前三个月书面提出。
第七条 任何一方违约，应向对方支付违约金人民币壹万元整（¥10,000.00）。
第八条 本合同一式三份，甲乙双方各执一份，村民委员会存档一份，自双方签字盖章之日起生效。
甲方（盖章）：东溪村村民委员会
乙方（签字）：王建国
签订日期：2024年3月15日";

/// Lines of at most `width` characters per paragraph, probabilities from `prob` (given the
/// character's index in `text`).
fn capture_with(text: &str, width: usize, prob: impl Fn(usize) -> f32) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut at = 0;
    for para in text.split('\n') {
        let chars: Vec<char> = para.chars().collect();
        for chunk in chars.chunks(width.max(1)) {
            let y = lines.len() as f32 * 40.0;
            let n = chunk.len() as f32;
            let chars: Vec<Char> = chunk
                .iter()
                .enumerate()
                .map(|(k, c)| Char {
                    text: c.to_string(),
                    prob: prob(at + k),
                    span: [k as f32 / n, (k + 1) as f32 / n],
                    imprint_cover: 0.0,
                })
                .collect();
            at += chunk.len();
            let score = chars.iter().map(|c| c.prob).sum::<f32>() / n;
            lines.push(Line {
                text: chunk.iter().collect(),
                score,
                quad: [[10.0, y], [10.0 + 30.0 * n, y], [10.0 + 30.0 * n, y + 32.0], [10.0, y + 32.0]],
                chars,
                flags: LineFlags::default(),
                steps: vec![],
                seal_ink: vec![],
            });
        }
        at += 1; // the newline
    }
    lines
}

fn capture(text: &str) -> Vec<Line> {
    capture_with(text, 24, |_| 0.98)
}

/// Char offset of the `nth` occurrence of `needle` in `hay`.
fn char_at(hay: &str, needle: &str, nth: usize) -> usize {
    let byte = hay.match_indices(needle).nth(nth).expect("needle present").0;
    hay[..byte].chars().count()
}

fn kinds(v: &Verdict) -> Vec<FindingKind> {
    v.findings.iter().map(|f| f.kind).collect()
}

fn decisive(v: &Verdict) -> Vec<&Finding> {
    v.findings.iter().filter(|f| !f.tolerated).collect()
}

fn check(lines: &[Line], approved: &str) -> Verdict {
    compare(lines, approved, &Policy::default())
}

#[test]
fn faithful_capture_matches_and_covers_everything() {
    let v = check(&capture(CONTRACT), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(v.findings.is_empty());
    assert_eq!(v.covered_span, Some([0, CONTRACT.chars().count()]));
    assert!((v.coverage - 1.0).abs() < 1e-6);
    assert!((v.similarity - 1.0).abs() < 1e-6);
}

#[test]
fn band_capture_with_cut_lines_and_seal_ring_matches() {
    // The band starts mid-sentence in 第二条 and ends inside 第六条.
    let start = char_at(CONTRACT, "年，自2024年", 0);
    let end = char_at(CONTRACT, "续租应于", 0);
    let band: String = CONTRACT.chars().skip(start).take(end - start).collect();
    let mut lines = capture(&band);
    // The first line is cut at its start: a half-visible character read as garbage.
    lines[0].text.insert(0, '口');
    lines[0].chars.insert(0, Char { text: "口".into(), prob: 0.3, span: [0.0, 0.05], imprint_cover: 0.0 });
    lines[0].flags.cut = true;
    // The last line is cut at its end: its last two characters misread.
    let last = lines.last_mut().unwrap();
    last.flags.cut = true;
    let n = last.chars.len();
    for (c, bad) in last.chars[n - 2..].iter_mut().zip(["卄", "丷"]) {
        (c.text, c.prob) = (bad.to_string(), 0.6);
    }
    // The seal's ring text lands between two lines.
    let mut ring = capture("诸暨市枫桥镇东溪村村民委员会合同专用章").remove(0);
    ring.flags.seal_ring = true;
    lines.insert(3, ring);

    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(decisive(&v).is_empty());
    let [s, e] = v.covered_span.unwrap();
    assert_eq!(s, start);
    assert!(e < end && e > end - 4, "span end {e} vs band end {end}");
    assert!(v.coverage > 0.2 && v.coverage < 0.6);
}

#[test]
fn pieces_of_the_seal_ring_read_as_lines_fault_nothing() {
    // A short line read off the imprint, before the signatures.
    let with = |piece: &str| {
        let mut lines = capture(CONTRACT);
        let at = lines.len() - 2;
        lines.insert(at, capture(piece).remove(0));
        check(&lines, CONTRACT)
    };
    for piece in ["溪村民委", "东桥村股份"] {
        let v = with(piece);
        assert_eq!(v.outcome, Outcome::Match, "{piece}: {:?}", v.findings);
        assert!(v.findings.is_empty(), "{piece}: {:?}", v.findings);
    }
    // Single characters of it, each a line, side by side in the reading (tune-0009).
    let mut lines = capture(CONTRACT);
    let at = lines.len() - 2;
    lines.insert(at, capture("镇").remove(0));
    lines.insert(at, capture("桥").remove(0));
    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    // Other words are added text, and a numeral is never ring text.
    for piece in ["不予续租", "溪村三委"] {
        let v = with(piece);
        assert_eq!(v.outcome, Outcome::Mismatch, "{piece}: {:?}", v.findings);
        assert!(kinds(&v).contains(&FindingKind::Insertion), "{piece}: {:?}", v.findings);
    }
}

/// Every line loses its last `lost` characters to the frame's edge and is flagged `cut`.
fn strip(text: &str, lost: usize) -> Vec<Line> {
    let mut lines = capture(text);
    for l in &mut lines {
        let keep = l.chars.len().saturating_sub(lost).max(1);
        l.chars.truncate(keep);
        l.text = l.chars.iter().map(|c| c.text.as_str()).collect();
        l.flags.cut = true;
    }
    lines
}

#[test]
fn lines_cut_by_the_frame_are_judged_on_what_they_show() {
    let start = char_at(CONTRACT, "第四条", 0);
    let end = char_at(CONTRACT, "第七条", 0);
    let prose: String = CONTRACT.chars().skip(start).take(end - start).collect();
    let v = check(&strip(&prose, 4), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(decisive(&v).is_empty());

    // 第三条's amount runs past the frame on its line: what the frame hides neither
    // confirms nor contradicts the approved text.
    let start = char_at(CONTRACT, "第二条", 0);
    let band: String = CONTRACT.chars().skip(start).take(end - start).collect();
    let v = check(&strip(&band, 8), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);

    // But a changed amount the cut line does show is a change.
    let forged = band.replace("伍万", "陆万");
    let cut = strip(&forged, 8);
    assert!(cut.iter().any(|l| l.text.contains("陆万")), "the change is on the cut lines");
    let v = check(&cut, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert!(kinds(&v).contains(&FindingKind::CriticalChange));

    // And so is a plain swap it shows, read surely; read unsurely, it is framing noise.
    let swapped = strip(&band.replace("合理利用", "合法利用"), 8);
    let v = check(&swapped, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
    assert!(decisive(&v).iter().any(|f| f.observed.as_deref() == Some("法")), "{:?}", v.findings);
    let mut unsure = swapped.clone();
    for c in unsure.iter_mut().flat_map(|l| l.chars.iter_mut()).filter(|c| c.text == "法") {
        c.prob = 0.9;
    }
    let v = check(&unsure, CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
}

#[test]
fn another_document_is_foreign_even_when_the_frame_cuts_every_line() {
    let notice = "关于召开村民代表大会的通知\n各村民小组：经村两委研究，定于十二月五日上午九时在村文化礼堂召开村民代表大会，审议村级财务收支情况。";
    let v = check(&strip(notice, 2), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
    assert!(kinds(&v).iter().all(|&k| k == FindingKind::ForeignText));
}

#[test]
fn change_in_second_copy_of_repeated_clause_is_located_there() {
    let clause = "乙方不得改变土地的农业用途，不得在流转土地上建设永久性建筑。";
    let approved = CONTRACT.replace("第八条", &format!("第八条 重申：{clause}\n第九条"));
    assert_eq!(approved.matches(clause).count(), 2);
    let second = char_at(&approved, clause, 1);
    let observed = format!(
        "{}{}",
        approved.chars().take(second).collect::<String>(),
        approved.chars().skip(second).collect::<String>().replacen("永久性", "临时性", 1)
    );
    // Alone, and inside a long register (the anchored path).
    assert_second_copy_change(&observed, &approved, second + char_at(clause, "永久", 0));
    let register = long_document(1500, 700);
    let offset = char_at(&register, CONTRACT, 0);
    let long = register.replacen(CONTRACT, &approved, 1);
    assert_second_copy_change(&observed, &long, offset + second + char_at(clause, "永久", 0));
}

fn assert_second_copy_change(observed: &str, approved: &str, at: usize) {
    let v = check(&capture(observed), approved);
    assert_eq!(v.outcome, Outcome::Mismatch);
    let f = decisive(&v)[0];
    assert_eq!(f.kind, FindingKind::Substitution);
    assert_eq!(f.observed.as_deref(), Some("临时"));
    assert_eq!(f.approved.as_deref(), Some("永久"));
    assert_eq!(f.approved_span, Some([at, at + 2]));
}

#[test]
fn one_changed_digit_is_a_critical_change() {
    let observed = CONTRACT.replace("330681198805123456", "330681198805128456");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert_eq!(kinds(&v), [FindingKind::CriticalChange]);
    let at = char_at(CONTRACT, "330681198805123456", 0) + 14;
    assert_eq!(v.findings[0].approved_span, Some([at, at + 1]));
    assert_eq!(v.findings[0].observed.as_deref(), Some("8"));
}

#[test]
fn changed_capital_amount_is_a_critical_change() {
    let observed = CONTRACT.replace("伍万元整", "陆万元整");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert_eq!(kinds(&v), [FindingKind::CriticalChange]);
    assert_eq!(v.findings[0].approved.as_deref(), Some("伍"));
}

#[test]
fn added_clause_is_an_insertion() {
    let added = "乙方可在流转土地上建设养殖用房。";
    let observed = CONTRACT.replace("第五条", &format!("{added}\n第五条"));
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    let f = decisive(&v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::Insertion);
    assert_eq!(f[0].observed.as_deref(), Some(added));
    assert!(f[0].line.is_some() && f[0].quad.is_some());
}

#[test]
fn removed_clause_is_a_deletion() {
    let removed = "第五条 乙方应当合理利用土地，保护土地肥力，不得掠夺性经营，不得撂荒。\n";
    let observed = CONTRACT.replace(removed, "");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    let f = decisive(&v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::Deletion);
    // An equal-cost deletion may slide by the `第` that 第五条 and 第六条 share; offsets are
    // into the text as submitted, whitespace included.
    let at = char_at(CONTRACT, removed, 0);
    let [s, e] = f[0].approved_span.unwrap();
    assert!(s == at || s == at + 1, "deletion starts at {s}, clause at {at}");
    let solid = |t: &str| t.chars().filter(|c| !c.is_whitespace()).count();
    assert_eq!(solid(f[0].approved.as_deref().unwrap()), solid(removed));
    assert_eq!(e - s, f[0].approved.as_deref().unwrap().chars().count());
    assert!(f[0].observed.is_none());
}

#[test]
fn empty_approved_text_is_a_mismatch_or_unreadable_never_a_panic() {
    let v = check(&capture(CONTRACT), "");
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert!(kinds(&v).iter().all(|k| *k == FindingKind::ForeignText));
    assert!(v.covered_span.is_none());
    for approved in ["", " \n\u{c}\u{3000}", "，。、；：！"] {
        assert_eq!(check(&[], approved).outcome, Outcome::Unreadable);
        assert_eq!(check(&capture("  "), approved).outcome, Outcome::Unreadable);
    }
    assert_eq!(check(&capture("，。、"), "，。、").outcome, Outcome::Unreadable);
}

/// A long document of `n` filler clauses with the contract embedded after `before` of them.
fn long_document(n: usize, before: usize) -> String {
    let names = ["张", "李", "陈", "刘", "周", "吴", "徐", "孙", "朱", "何"];
    let crops = ["水稻", "茶叶", "香榧", "苗木", "蔬菜", "葡萄"];
    let mut doc = String::new();
    for k in 0..n {
        if k == before {
            doc.push_str(CONTRACT);
            doc.push('\u{c}');
        }
        doc.push_str(&format!(
            "第{}号备案：{}{}承包{}组耕地{}亩种植{}，期限{}年，年租金{}元，联系电话138{:08}。\n",
            k + 1,
            names[k % 10],
            names[(k / 10) % 10],
            k % 17 + 1,
            k % 23 + 2,
            crops[k % 6],
            k % 9 + 3,
            (k * 37) % 9000 + 800,
            k * 7919 % 100_000_000,
        ));
    }
    doc
}

#[test]
fn capture_of_a_document_a_hundred_times_longer() {
    let doc = long_document(1700, 1200);
    assert!(doc.chars().count() > 100 * CONTRACT.chars().count() / 2);
    let band_start = char_at(&doc, "第三条", 0);
    let band_end = char_at(&doc, "甲方（盖章）", 0);
    let band: String = doc.chars().skip(band_start).take(band_end - band_start).collect();
    let v = check(&capture(&band), &doc);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert_eq!(v.covered_span, Some([band_start, band_end - 1]));
    assert!(v.coverage < 0.01);

    let forged = band.replace("¥10,000.00", "¥1,000.00");
    let v = check(&capture(&forged), &doc);
    assert_eq!(v.outcome, Outcome::Mismatch);
    let f = decisive(&v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::CriticalChange);
    let at = char_at(&doc, "¥10,000.00", 0);
    let [s, e] = f[0].approved_span.unwrap();
    assert!(s >= at && e <= at + 10, "{s}..{e} outside the amount at {at}");
}

#[test]
fn unreadable_amount_is_critical_unverifiable() {
    let amount = char_at(CONTRACT, "¥50,000.00", 0);
    let lines = capture_with(CONTRACT, 24, |k| if (amount + 1..amount + 10).contains(&k) { 0.25 } else { 0.98 });
    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Unreadable);
    assert_eq!(kinds(&v), [FindingKind::CriticalUnverifiable]);
    assert_eq!(v.findings[0].approved.as_deref(), Some("¥50,000.00"));

    // Under the imprint an amount read exactly as approved vouches as elsewhere (hiding a
    // change would take reading the changed digit as the approved one); read with less than
    // `min_agree_prob` it does not.
    let under_imprint = |prob: f32| {
        let mut lines =
            capture_with(CONTRACT, 24, |k| if (amount + 1..amount + 10).contains(&k) { prob } else { 0.98 });
        let line = lines.iter().position(|l| l.text.contains("50,000")).unwrap();
        lines[line].chars.iter_mut().for_each(|c| c.imprint_cover = 0.6);
        check(&lines, CONTRACT)
    };
    assert_eq!(under_imprint(0.5).outcome, Outcome::Match);
    let v = under_imprint(0.25);
    assert_eq!(v.outcome, Outcome::Unreadable);
    assert_eq!(v.reason, Some(Unreadable::Imprint));
    assert!(kinds(&v).contains(&FindingKind::CriticalUnverifiable));

    // A changed amount read unconfidently is not excused either.
    let forged = CONTRACT.replace("50,000.00", "80,000.00");
    let v = check(&capture_with(&forged, 24, |k| if k == amount + 1 { 0.5 } else { 0.98 }), CONTRACT);
    assert_eq!(v.outcome, Outcome::Unreadable);
    assert_eq!(kinds(&v), [FindingKind::CriticalUnverifiable]);
}

#[test]
fn a_written_amounts_closing_zheng_vouches_for_nothing() {
    // 整 read unsurely (here re-read from a weak second choice) leaves the sum as printed.
    let zheng = char_at(CONTRACT, "伍万元整", 0) + 3;
    let v = check(&capture_with(CONTRACT, 24, |k| if k == zheng { 0.2 } else { 0.98 }), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);

    // The numerals still do.
    let v = check(&capture_with(CONTRACT, 24, |k| if k == zheng - 3 { 0.2 } else { 0.98 }), CONTRACT);
    assert_eq!(v.outcome, Outcome::Unreadable);
    assert_eq!(kinds(&v), [FindingKind::CriticalUnverifiable]);
}

#[test]
fn mixed_width_punctuation_matches() {
    let observed = CONTRACT
        .replace('（', "(")
        .replace('）', ")")
        .replace('：', ":")
        .replace(['，', '、'], ",")
        .replace('。', ".")
        .replace('《', "〈")
        .replace("50,000.00", "５０，０００．００")
        .replace(' ', "");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(v.findings.is_empty());
}

#[test]
fn confusable_swap_is_tolerated_in_prose_but_not_in_an_amount() {
    let observed = CONTRACT.replacen("土地肥力", "士地肥力", 1);
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert_eq!(kinds(&v), [FindingKind::Substitution]);
    assert!(v.findings[0].tolerated);

    let observed = CONTRACT.replace("¥50,000.00", "¥5O,OOO.OO");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert!(kinds(&v).iter().all(|k| *k == FindingKind::CriticalChange));
}

#[test]
fn different_document_is_foreign_text() {
    let other = "关于东溪村二〇二四年度村级财务公开的通知
各村民小组：根据镇党委要求，现将本村上半年财务收支情况予以公开，请广大村民监督。
一、集体经营性收入主要来自厂房出租和山林承包。
二、公益事业支出包括道路硬化、路灯维护和垃圾清运。
如有疑问，请于公示期内向村务监督委员会反映。";
    let v = check(&capture(other), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert!(!v.findings.is_empty());
    assert!(kinds(&v).iter().all(|k| *k == FindingKind::ForeignText));
    assert!(v.covered_span.is_none());
}

#[test]
fn lines_of_another_document_around_a_band_are_foreign_text() {
    let start = char_at(CONTRACT, "第三条", 0);
    let end = char_at(CONTRACT, "第六条", 0);
    let band: String = CONTRACT.chars().skip(start).take(end - start).collect();
    let observed = format!("村务公开栏：本月低保名单公示如下\n{band}\n道路硬化工程验收合格，请村民监督");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    let foreign: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ForeignText)
        .filter_map(|f| f.observed.as_deref())
        .collect();
    assert_eq!(foreign, ["村务公开栏:本月低保名单公示如下", "道路硬化工程验收合格,请村民监督"]);
    assert!(v.findings.iter().all(|f| f.kind == FindingKind::ForeignText));
    let [s, e] = v.covered_span.unwrap();
    assert_eq!((s, e), (start, end - 1));
}

#[test]
fn isolated_ocr_noise_in_prose_matches() {
    let observed = CONTRACT.replace("掠夺性", "掠夸性").replace("优先续租", "优光续租").replace("永久性", "永欠性");
    let v = check(&capture_with(&observed, 24, |_| 0.92), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert_eq!(v.findings.len(), 3);
    assert!(v.findings.iter().all(|f| f.tolerated && f.kind == FindingKind::Substitution));
    assert!(v.similarity > 0.99 && v.similarity < 1.0);
}

#[test]
fn swapped_name_read_confidently_is_a_mismatch() {
    let observed = CONTRACT.replace("王建国", "李建军");
    let v = check(&capture(&observed), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch);
    assert!(decisive(&v).iter().all(|f| f.kind == FindingKind::Substitution));
}

#[test]
fn too_little_text_is_unreadable() {
    let v = check(&capture("第四条 乙方不得改变"), CONTRACT);
    assert_eq!(v.outcome, Outcome::Unreadable);
}

#[test]
fn degenerate_lines_do_not_panic() {
    let mut lines = capture(CONTRACT);
    // No per-character data: the line score stands in for every character.
    for l in &mut lines {
        l.chars.clear();
    }
    assert_eq!(check(&lines, CONTRACT).outcome, Outcome::Match);
    lines[0].score = f32::NAN;
    lines[1].flags.imprint_cover = f32::NAN;
    lines[2].text.clear();
    let _ = check(&lines, CONTRACT);
    let _ = check(&capture(&"。".repeat(3000)), &"，".repeat(50_000));
    let _ = check(&capture(&"土".repeat(3000)), &"土".repeat(100_000));
}

#[test]
fn verdict_serialises_with_the_agreed_names() {
    let observed = CONTRACT.replace("伍万元整", "陆万元整");
    let json = serde_json::to_value(check(&capture(&observed), CONTRACT)).unwrap();
    assert_eq!(json["outcome"], "MISMATCH");
    assert_eq!(json["findings"][0]["kind"], "critical_change");
    assert!(json["findings"][0]["box"].is_array());
    assert_eq!(json["policy"]["min_char_prob"], serde_json::json!(0.9f32));
}

#[test]
fn extra_critical_pattern_makes_a_tolerated_change_decisive() {
    let observed = capture_with(&CONTRACT.replacen("南畈", "南坂", 1), 24, |_| 0.95);
    assert_eq!(check(&observed, CONTRACT).outcome, Outcome::Match);
    let strict = Policy::with_overrides(&PolicyOverrides {
        critical_patterns: vec!["东溪村南畈".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(compare(&observed, CONTRACT, &strict).outcome, Outcome::Mismatch);
}

#[test]
fn a_one_character_change_read_with_certainty_is_not_noise() {
    let swapped = CONTRACT.replacen("每年", "每月", 1);
    let at = char_at(&swapped, "每月", 0) + 1;
    let sure = capture_with(&swapped, 24, |k| if k == at { 0.995 } else { 0.95 });
    let v = check(&sure, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
    assert_eq!(decisive(&v)[0].approved.as_deref(), Some("年"));
    // The same misread at an ordinary probability is tolerated noise.
    let unsure = capture_with(&swapped, 24, |k| if k == at { 0.93 } else { 0.95 });
    assert_eq!(check(&unsure, CONTRACT).outcome, Outcome::Match);
}

#[test]
fn stricter_policies_never_turn_a_verdict_into_match() {
    let amount = char_at(CONTRACT, "¥50,000.00", 0);
    let noisy = CONTRACT.replace("掠夺性", "掠夸性").replace("优先续租", "优光续租");
    let captures = [
        capture(CONTRACT),
        capture_with(&noisy, 24, |k| if k % 7 == 0 { 0.93 } else { 0.97 }),
        capture_with(CONTRACT, 24, |k| if k == amount + 2 { 0.91 } else { 0.98 }),
        capture(&CONTRACT.replace("王建国", "王建军")),
        doubted("掠夺性", &[(0, &[('惊', 0.55), ('掠', 0.40)]), (1, &[('夸', 0.50), ('夺', 0.45)])]),
        doubted("¥50,000", &[(1, &[('6', 0.75), ('5', 0.12)])]),
    ];
    let stricter = [
        r#"{"min_agree_prob": 0.95}"#,
        r#"{"max_noise_prob": 0.5}"#,
        r#"{"min_char_prob": 0.95}"#,
        r#"{"max_imprint_cover": 0.0, "max_noise_share": 0.001}"#,
        r#"{"max_noise_weight": 0.2, "min_covered_chars": 400}"#,
        r#"{"min_aligned_share": 0.99, "critical_patterns": ["王建国"]}"#,
        r#"{"max_reread_loss": 0.2, "max_critical_reread_loss": 0.0}"#,
        r#"{"max_reread_prob": 0.5}"#,
        r#"{"min_agree_prob": 0.5, "critical_patterns": ["掠夺性"]}"#,
    ];
    for overrides in stricter {
        let policy = Policy::with_overrides(&serde_json::from_str(overrides).unwrap()).unwrap();
        for lines in &captures {
            let (default, strict) = (check(lines, CONTRACT), compare(lines, CONTRACT, &policy));
            if default.outcome != Outcome::Match {
                assert_ne!(strict.outcome, Outcome::Match, "{overrides}");
            }
        }
    }
    // And the stricter ones do bite.
    let strict = Policy::with_overrides(&serde_json::from_str(stricter[0]).unwrap()).unwrap();
    assert_eq!(check(&captures[2], CONTRACT).outcome, Outcome::Match);
    assert_eq!(compare(&captures[2], CONTRACT, &strict).outcome, Outcome::Unreadable);
}

/// `line` as the recogniser reads it through real CTC steps: each character over a step of
/// its own, then a blank step. `doubts` replaces the candidates at some characters' steps
/// (by char index; the first candidate is what greedy decoding keeps).
fn stepped(line: &Line, doubts: &[(usize, &[(char, f32)])]) -> Line {
    let text: Vec<char> = line.text.chars().collect();
    let mut entries: Vec<char> = text.clone();
    entries.extend(doubts.iter().flat_map(|d| d.1.iter().map(|c| c.0)));
    entries.sort_unstable();
    entries.dedup();
    let dictionary = Dictionary::parse(&entries.iter().map(|c| format!("{c}\n")).collect::<String>());
    let class = |c: char| 1 + entries.binary_search(&c).expect("in the dictionary");
    let mut probs = ndarray::Array2::<f32>::zeros((2 * text.len(), dictionary.classes()));
    for (k, &c) in text.iter().enumerate() {
        let plain = [(c, 0.97)];
        let candidates = doubts.iter().find(|d| d.0 == k).map_or(&plain[..], |d| d.1);
        for &(c, p) in candidates {
            probs[(2 * k, class(c))] = p;
        }
        probs[(2 * k, 0)] = 1.0 - candidates.iter().map(|c| c.1).sum::<f32>();
        (probs[(2 * k + 1, 0)], probs[(2 * k + 1, class(c))]) = (0.98, 0.02);
    }
    let reading = ctc_decode(probs.view(), &dictionary, 1.0);
    Line { text: reading.text, score: reading.score, chars: reading.chars, steps: reading.steps, ..line.clone() }
}

/// The capture of CONTRACT with the line holding `needle` read through CTC steps, with
/// `doubts` at the needle's characters (by index into the needle).
fn doubted(needle: &str, doubts: &[(usize, &[(char, f32)])]) -> Vec<Line> {
    let mut lines = capture(CONTRACT);
    let l = lines.iter().position(|l| l.text.contains(needle)).expect("needle on one line");
    let at = lines[l].text[..lines[l].text.find(needle).unwrap()].chars().count();
    let doubts: Vec<(usize, &[(char, f32)])> = doubts.iter().map(|&(k, c)| (at + k, c)).collect();
    lines[l] = stepped(&lines[l], &doubts);
    lines
}

#[test]
fn a_difference_the_recogniser_nearly_read_as_approved_is_reread() {
    // 掠夺 read 惊夸, each a close first choice over the approved character.
    let blurred = doubted("掠夺性", &[(0, &[('惊', 0.55), ('掠', 0.40)]), (1, &[('夸', 0.50), ('夺', 0.45)])]);
    assert!(blurred.iter().any(|l| l.text.contains("惊夸性")), "greedy decoding keeps the first choices");
    let v = check(&blurred, CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Match, 1), "{:?}", v.findings);
    // The evidence: what was read first, where, and at what cost.
    let r = &v.rereads[0];
    let line = blurred.iter().position(|l| l.text.contains("惊夸性")).unwrap();
    let at = CONTRACT.find("掠夺性").map(|b| CONTRACT[..b].chars().count()).unwrap();
    assert_eq!((r.line, r.read.as_str(), r.approved.as_str(), r.approved_span), (line, "惊夸", "掠夺", [at, at + 2]));
    assert!(r.loss > 0.0 && r.loss <= 1.0, "{}", r.loss);
    let no_reread = Policy::with_overrides(&PolicyOverrides { max_reread_loss: Some(0.0), ..Default::default() });
    let v = compare(&blurred, CONTRACT, &no_reread.unwrap());
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Unreadable, 0), "two unconfident differences");

    // Steps that cannot spell the reading (too few of them) measure nothing.
    let mut cut_short = blurred.clone();
    for line in cut_short.iter_mut().filter(|l| !l.steps.is_empty()) {
        line.steps.truncate(3);
    }
    let v = check(&cut_short, CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Unreadable, 0), "{:?}", v.findings);

    // Printed 惊夸: the approved characters are nowhere near.
    let changed = doubted("掠夺性", &[(0, &[('惊', 0.98), ('掠', 0.001)]), (1, &[('夸', 0.98), ('夺', 0.001)])]);
    let v = check(&changed, CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Mismatch, 0), "{:?}", v.findings);
}

#[test]
fn a_character_read_surely_is_not_reread() {
    // Under a policy that tolerates no difference, 掠 read 惊 with 掠 a distant second:
    // within the loss limit either way, but at 0.96 printed as read.
    let strict =
        Policy::with_overrides(&PolicyOverrides { max_noise_weight: Some(0.5), ..Default::default() }).unwrap();
    let sure = doubted("掠夺性", &[(0, &[('惊', 0.96), ('掠', 0.035)])]);
    let v = compare(&sure, CONTRACT, &strict);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Mismatch, 0), "{:?}", v.findings);
    assert!(v.findings.iter().any(|f| f.approved.as_deref() == Some("掠")), "{:?}", v.findings);
    // Read less surely, the same second choice is re-read.
    let unsure = doubted("掠夺性", &[(0, &[('惊', 0.90), ('掠', 0.035)])]);
    let v = compare(&unsure, CONTRACT, &strict);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Match, 1), "{:?}", v.findings);
    // A symbol is as sure as all its spellings: `A` at 0.80 beside `a` at 0.16 is read at 0.96.
    let spelt_twice = doubted("掠夺性", &[(0, &[('A', 0.80), ('a', 0.16), ('掠', 0.03)])]);
    let v = compare(&spelt_twice, CONTRACT, &strict);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Mismatch, 0), "{:?}", v.findings);
}

#[test]
fn a_pause_lost_to_the_blank_is_reread() {
    // The `，` after 五年 read as blank, with the pause a close second; under a policy that
    // tolerates no lost character, not even a pause, only re-reading lets the capture match.
    let lines = doubted("五年，自", &[(2, &[('，', 0.30)])]);
    assert!(lines.iter().any(|l| l.text.contains("五年自")));
    let strict = Policy::with_overrides(&PolicyOverrides { max_noise_weight: Some(0.4), ..Default::default() });
    let v = compare(&lines, CONTRACT, &strict.unwrap());
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Match, 1), "{:?}", v.findings);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    let at = CONTRACT.find("五年，自").map(|b| CONTRACT[..b].chars().count()).unwrap() + 2;
    let r = &v.rereads[0];
    assert_eq!((r.read.as_str(), r.approved.as_str(), r.approved_span), ("", "，", [at, at + 1]));
}

#[test]
fn a_digit_is_reread_only_from_a_close_second_choice() {
    // ¥50,000.00: the 5 read as 6.
    let doubt = |six: f32, five: f32| doubted("¥50,000", &[(1, &[('6', six), ('5', five)])]);
    let v = check(&doubt(0.55, 0.40), CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Match, 1), "{:?}", v.findings);
    // A weak second choice is re-read but cannot vouch for the amount.
    let v = check(&doubt(0.75, 0.12), CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Unreadable, 1), "{:?}", v.findings);
    assert_eq!(v.findings[0].kind, FindingKind::CriticalUnverifiable);
    // A forged 6 printed clearly stays a change, though 5 is still among the candidates.
    let v = check(&doubt(0.95, 0.01), CONTRACT);
    assert_eq!((v.outcome, v.rereads.len()), (Outcome::Mismatch, 0), "{:?}", v.findings);
    assert_eq!(v.findings[0].kind, FindingKind::CriticalChange);
}

fn prose_and_digits() -> impl Strategy<Value = Vec<(bool, String)>> {
    let prose = "[甲乙方土地流转合同租金人民币村委会承包期限年月日签订生效本条款应于前付清]{4,30}";
    prop::collection::vec(prop_oneof![prose.prop_map(|s| (false, s)), "[0-9]{1,18}".prop_map(|s| (true, s))], 2..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn confident_change_in_a_digit_run_never_matches(
        parts in prose_and_digits(),
        pick in any::<prop::sample::Index>(),
        pos in any::<prop::sample::Index>(),
        // Not `〇`: it is the digit zero written in Chinese, the same value as `0`.
        with in prop::sample::select(vec!['0', '1', '3', '5', '8', '9', 'O', 'l', 'S', '年']),
        width in 1usize..24,
    ) {
        let runs: Vec<usize> = parts.iter().enumerate().filter(|(_, p)| p.0).map(|(k, _)| k).collect();
        prop_assume!(!runs.is_empty());
        let target = runs[pick.index(runs.len())];
        let mut digits: Vec<char> = parts[target].1.chars().collect();
        let at = pos.index(digits.len());
        prop_assume!(digits[at] != with);
        digits[at] = with;
        let approved: String = parts.iter().map(|p| p.1.as_str()).collect();
        let observed: String =
            parts.iter().enumerate().map(|(k, p)| if k == target { digits.iter().collect() } else { p.1.clone() }).collect();
        // The same text inside a long register goes through the anchored path.
        let filler = long_document(500, 500);
        let register = format!("{filler}{approved}{filler}");
        for doc in [&approved, &register] {
            let v = compare(&capture_with(&observed, width, |_| 0.99), doc, &Policy::default());
            prop_assert_ne!(v.outcome, Outcome::Match, "{} -> {}: {:?}", approved, observed, v.findings);
            // Control: the unchanged text does match once there is enough of it.
            let v = compare(&capture_with(&approved, width, |_| 0.99), doc, &Policy::default());
            if approved.chars().count() >= 40 {
                prop_assert_eq!(v.outcome, Outcome::Match, "unchanged {}: {:?}", approved, v.findings);
            }
        }
    }
}

#[test]
fn a_chinese_years_century_is_not_critical_but_its_year_is() {
    let doc = CONTRACT.replace("签订日期：2024年3月15日", "二〇二四年三月十五日");
    let at = char_at(&doc, "二〇二四", 0);
    // The large printed 〇 read as `O` at 0.5, or dropped: noise, not an unverifiable date.
    let read_o = capture_with(&doc.replace("二〇二四", "二O二四"), 24, |k| if k == at + 1 { 0.5 } else { 0.98 });
    let v = check(&read_o, &doc);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    let v = check(&capture(&doc.replace("二〇二四", "二二四")), &doc);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    // The year itself still counts: 二〇二五 read surely is a change, unsurely unverifiable.
    let v = check(&capture(&doc.replace("二〇二四", "二〇二五")), &doc);
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Mismatch, vec![FindingKind::CriticalChange]));
    let unsure = capture_with(&doc.replace("二〇二四", "二〇二五"), 24, |k| if k == at + 3 { 0.5 } else { 0.98 });
    assert_eq!(check(&unsure, &doc).outcome, Outcome::Unreadable);
}

#[test]
fn a_capital_three_read_in_its_older_form_is_the_same_amount() {
    let doc = CONTRACT.replace("伍万元整", "叁万元整");
    let v = check(&capture_with(&doc.replace("叁万元整", "参万元整"), 24, |_| 0.99), &doc);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    // Another numeral read as surely is still a change.
    let v = check(&capture_with(&doc.replace("叁万元整", "肆万元整"), 24, |_| 0.99), &doc);
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Mismatch, vec![FindingKind::CriticalChange]));
    // A forged 叁 read 参 opening a line the frame cuts at its start is in plain view as a
    // 叁 would be: 参 beside a unit is a critical token too.
    let forged = CONTRACT.replace("人民币伍万元整", "人民币\n参万元整");
    let mut lines = capture_with(&forged, 24, |_| 0.99);
    let l = lines.iter().position(|l| l.text.starts_with("参万元整")).unwrap();
    lines[l].flags.cut = true;
    lines[l].flags.cut_end = Some(LineEnd::Start);
    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
}

#[test]
fn a_character_is_as_sure_as_every_candidate_spelling_its_symbol() {
    // test-0007: a forged 叁 read 参 at 0.83 with 叁 itself at 0.16, the same numeral at 0.99.
    let v = check(&doubted("伍万元整", &[(0, &[('参', 0.83), ('叁', 0.16)])]), CONTRACT);
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Mismatch, vec![FindingKind::CriticalChange]), "{:?}", v.findings);
    // Beside another character, 参 at 0.83 is a reading the recogniser doubts.
    let v = check(&doubted("伍万元整", &[(0, &[('参', 0.83), ('叠', 0.16)])]), CONTRACT);
    let unverifiable = vec![FindingKind::CriticalUnverifiable];
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Unreadable, unverifiable), "{:?}", v.findings);
}

#[test]
fn the_yen_sign_read_as_a_letter_is_noise_but_a_digit_so_read_is_not() {
    // tune-0194: `¥` read `V` at 0.98, the surest the recogniser reads it.
    for letter in ["V", "Y"] {
        let v = check(&capture_with(&CONTRACT.replace("¥50", &format!("{letter}50")), 24, |_| 0.98), CONTRACT);
        assert_eq!(v.outcome, Outcome::Match, "{letter}: {:?}", v.findings);
    }
    let v = check(&capture_with(&CONTRACT.replace("¥50", "¥5O"), 24, |_| 0.98), CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
}

#[test]
fn a_title_holding_an_amount_read_with_a_letter_for_the_yen_sign_is_still_the_title() {
    // The title, then a band the frame cuts at its first line: the text between is framing.
    let doc = format!("收款收据¥8,000.00元整\n{CONTRACT}");
    let start = char_at(CONTRACT, "第五条", 0);
    let band: String = CONTRACT.chars().skip(start).collect();
    let mut lines = capture("收款收据V8,000.00元整");
    let mut shown = capture(&band);
    shown[0].flags.cut = true;
    lines.extend(shown);
    let v = check(&lines, &doc);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    // A digit so read is another title.
    lines[0] = capture("收款收据¥6,000.00元整").remove(0);
    let v = check(&lines, &doc);
    assert_ne!(v.outcome, Outcome::Match, "{:?}", v.findings);
}

#[test]
fn a_cut_line_testifies_at_the_end_inside_the_frame() {
    // The frame cuts 甲方's line at its end; its start, with 甲方 swapped for 乙方 and read
    // surely, is in plain view.
    let at = char_at(CONTRACT, "甲方（流出方）", 0);
    let forged = CONTRACT.replacen("甲方（流出方）", "乙方（流出方）", 1);
    let mut lines = capture_with(&forged, 24, |_| 0.99);
    let l = lines.iter().position(|l| l.text.starts_with("乙方（流出方）")).unwrap();
    let keep = lines[l].chars.len() - 4;
    lines[l].chars.truncate(keep);
    lines[l].text = lines[l].chars.iter().map(|c| c.text.as_str()).collect();
    lines[l].flags.cut = true;
    lines[l].flags.cut_end = Some(LineEnd::End);
    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
    assert!(decisive(&v).iter().any(|f| f.approved_span.is_some_and(|[s, _]| s == at)), "{:?}", v.findings);
    // Cut at its start instead (and read whole to its end), the same line's first
    // characters may be sliced misreads.
    let mut lines = capture_with(&forged, 24, |_| 0.99);
    lines[l].flags.cut = true;
    lines[l].flags.cut_end = Some(LineEnd::Start);
    assert_eq!(check(&lines, CONTRACT).outcome, Outcome::Match);
}

#[test]
fn text_missing_past_the_end_a_cut_line_shows_is_a_deletion() {
    // tune-0085: a clause removed from the end of a line read whole to blank paper, before
    // a line the frame cuts at its other end. Only the end the frame cuts hides text.
    let removed = "，续租应于期满前三个月书面提出";
    assert!(CONTRACT.contains(removed));
    let mut lines = capture_with(&CONTRACT.replacen(removed, "", 1), 24, |_| 0.99);
    let l = lines.iter().position(|l| l.text == "权。").unwrap() + 1;
    lines[l].flags.cut = true;
    lines[l].flags.cut_end = Some(LineEnd::End);
    let v = check(&lines, CONTRACT);
    assert_eq!(v.outcome, Outcome::Mismatch, "{:?}", v.findings);
    // Cut at its start, the next line may hide it.
    lines[l].flags.cut_end = Some(LineEnd::Start);
    assert_eq!(check(&lines, CONTRACT).outcome, Outcome::Match);
}

#[test]
fn a_lost_pause_weighs_half_a_character() {
    // The paragraph's closing `。` lost and the next line's first character misread: one
    // character's worth and a half, still noise.
    let misread = |text: &str| {
        let at = char_at(text, "园一条", 0);
        capture_with(text, 24, |k| if k == at { 0.6 } else { 0.98 })
    };
    let text = CONTRACT.replacen("订立本合同。\n第一条", "订立本合同\n园一条", 1);
    let v = check(&misread(&text), CONTRACT);
    assert_eq!(v.outcome, Outcome::Match, "{:?}", v.findings);
    assert!(v.findings.iter().any(|f| f.tolerated && f.approved.as_deref().is_some_and(|a| a.contains('。'))));
    // A character of value lost with it is more than noise.
    let text = CONTRACT.replacen("订立本合同。\n第一条", "订立本合\n园一条", 1);
    let v = check(&misread(&text), CONTRACT);
    assert_eq!(v.outcome, Outcome::Unreadable, "{:?}", v.findings);
}

#[test]
fn digits_missing_where_a_star_arm_lies_beside_equal_ones_are_unverifiable() {
    // tune-0163: `2026` read `26`, the `20` under an arm of the star before the line's
    // box. The alignment may place the gap after the `2` read, where the line has no room.
    let doc = CONTRACT.replace("签订日期：2024年3月15日", "2026年5月6日");
    let mut lines = capture(&doc.replace("2026年5月6日", "26年5月6日"));
    let l = lines.iter().position(|l| l.text == "26年5月6日").unwrap();
    let v = check(&lines, &doc);
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Mismatch, vec![FindingKind::CriticalChange]), "{:?}", v.findings);
    // Seal ink at a tenth of the line's height over the line height before its box.
    let cells = ((lines[l].length_in_heights() + 6.0) / 0.25).ceil() as usize;
    lines[l].seal_ink = (0..cells).map(|k| if (8..12).contains(&k) { 0.1 } else { 0.0 }).collect();
    let v = check(&lines, &doc);
    let unverifiable = vec![FindingKind::CriticalUnverifiable];
    assert_eq!((v.outcome, kinds(&v)), (Outcome::Unreadable, unverifiable), "{:?}", v.findings);
}
