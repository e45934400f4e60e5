//! The verify report a person reads in a terminal: the outcome first, then each decisive
//! finding in context, so a changed character can be judged without opening the approved
//! file or the capture.

use std::io::{self, Write};

use unicode_normalization::UnicodeNormalization;

use super::html::Esc;
use crate::compare::{Evidence, Finding, FindingKind, Outcome, Unreadable, Verdict};
use crate::read::page::{Line, LineEnd};

/// Characters of context on each side of a finding: enough to recognise the clause.
const CONTEXT: usize = 12;
/// Longer marked text or unlocated lines are elided in the middle to keep one line each.
const MAX_SHOWN: usize = 36;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const APPROVED_MARK: &str = "\x1b[1;97;41m";
const READ_MARK: &str = "\x1b[1;31m";

/// Writes the report of `verdict` for a capture read as `lines` against `approved`.
///
/// `colour` adds ANSI styling; without it the differing characters are wrapped in `[ ]`,
/// so the report stays readable in logs and mail.
pub fn write_report(
    out: &mut impl Write,
    verdict: &Verdict,
    approved: &str,
    lines: &[Line],
    colour: bool,
) -> io::Result<()> {
    write_styled(out, verdict, approved, lines, Style(if colour { Markup::Ansi } else { Markup::Brackets }))
}

/// The same report as HTML, for a `<pre>` element: text escaped, the outcome and each
/// finding's heading in `<b>`, the differing characters in `<mark class="approved">` and
/// `<mark class="read">`.
pub fn report_html(verdict: &Verdict, approved: &str, lines: &[Line]) -> String {
    let mut out = Vec::new();
    write_styled(&mut out, verdict, approved, lines, Style(Markup::Html)).expect("writing to a Vec");
    let text = String::from_utf8(out).expect("the report is UTF-8");
    // Escaped whole, then the markers (private-use characters) become tags.
    let mut html = Esc(&text).to_string();
    for (marker, tag) in HTML_MARKERS {
        html = html.replace(marker, tag);
    }
    html
}

fn write_styled(
    out: &mut impl Write,
    verdict: &Verdict,
    approved: &str,
    lines: &[Line],
    style: Style,
) -> io::Result<()> {
    let outcome_code = match verdict.outcome {
        Outcome::Match => "\x1b[1;32m",
        Outcome::Mismatch => "\x1b[1;31m",
        Outcome::Unreadable => "\x1b[1;33m",
    };
    let reason = verdict.reason.map(|r| format!(" ({})", because(r))).unwrap_or_default();
    writeln!(
        out,
        "{}{reason}  similarity {:.3}, coverage {:.2}",
        style.paint(&verdict.outcome.to_string(), outcome_code),
        verdict.similarity,
        verdict.coverage
    )?;
    let approved: Vec<char> = approved.chars().collect();
    let (tolerated, mut decisive): (Vec<&Finding>, Vec<&Finding>) = verdict.findings.iter().partition(|f| f.tolerated);
    // In reading order: the verdict lists foreign text first.
    decisive.sort_by_key(|f| f.line.unwrap_or(usize::MAX));
    for finding in decisive {
        writeln!(out)?;
        write_finding(out, finding, &approved, lines, style)?;
    }
    if !tolerated.is_empty() {
        writeln!(out)?;
        writeln!(out, "tolerated as OCR noise:")?;
        for f in tolerated {
            let texts = if f.kind == FindingKind::ForeignText {
                quoted(f.observed.as_deref())
            } else {
                format!("{} → {}", quoted(f.approved.as_deref()), quoted(f.observed.as_deref()))
            };
            writeln!(out, "  {}: {texts}", heading(f))?;
        }
    }
    if !verdict.rereads.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "re-read as approved (the recogniser's near second choice; findings above are of the lines so re-read):"
        )?;
        for r in &verdict.rereads {
            writeln!(
                out,
                "  line {}: {} read as {}, the approved spelling {:.1} nats less likely",
                r.line + 1,
                quoted(Some(&r.approved)),
                quoted(Some(&r.read)),
                r.loss
            )?;
        }
    }
    let mut seconded =
        lines.iter().enumerate().filter_map(|(i, l)| Some((i, l.flags.second_opinion.as_deref()?, l))).peekable();
    if seconded.peek().is_some() {
        writeln!(out)?;
        writeln!(
            out,
            "read by another recogniser (the capture judged better so; findings above are of these readings):"
        )?;
        for (i, role, line) in seconded {
            writeln!(out, "  line {} ({role}): {}", i + 1, quoted(Some(&line.text)))?;
        }
    }
    Ok(())
}

/// A text in quotes, cleaned and shortened; `(nothing)` when there is none.
fn quoted(text: Option<&str>) -> String {
    match text.map(|s| clean(s.chars())) {
        Some(s) if !s.is_empty() => format!("\"{}\"", shorten(&s)),
        _ => "(nothing)".to_string(),
    }
}

fn describe(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Substitution => "changed text",
        FindingKind::Insertion => "inserted text",
        FindingKind::Deletion => "missing text",
        FindingKind::CriticalChange => "critical change (amount/date/ID/phone)",
        FindingKind::CriticalUnverifiable => "unverifiable critical token",
        FindingKind::ForeignText => "foreign text (not in the approved text)",
    }
}

fn because(reason: Unreadable) -> &'static str {
    match reason {
        Unreadable::Imprint => "the seal's imprint covers a critical token: a person should look at the paper",
        Unreadable::FrameCut => "the frame shows too little of the document: capture more of the page",
        Unreadable::Blur => "the print could not be read surely: capture it again, sharper",
        Unreadable::NoText => "no document text in the capture",
    }
}

/// What a measurement in the pixels says, in words.
fn measured(e: &Evidence) -> String {
    match *e {
        Evidence::PaperToEdge { end, line_heights } => {
            let end = if end == LineEnd::Start { "start" } else { "end" };
            format!("blank paper for {line_heights:.1} line heights from the line's {end} to the frame's edge")
        }
        Evidence::Room { room, needed } => {
            format!("room for {room:.1} characters where the approved text needs {needed:.1}")
        }
        Evidence::Imprint { cover } => format!("seal ink over {:.0}% of the place", cover * 100.0),
    }
}

fn heading(f: &Finding) -> String {
    let line = f.line.map(|l| format!(" on line {}", l + 1)).unwrap_or_default();
    format!("{}{line}, confidence {:.2}", describe(f.kind), f.confidence)
}

fn write_finding(out: &mut impl Write, f: &Finding, approved: &[char], lines: &[Line], style: Style) -> io::Result<()> {
    writeln!(out, "{}", style.paint(&heading(f), BOLD))?;
    let app =
        f.approved_span.filter(|_| f.kind != FindingKind::ForeignText).map(|span| Excerpt::around(approved, span));
    let observed = f.observed.as_deref().filter(|o| !o.is_empty());
    let line: Option<Vec<char>> = f.line.and_then(|l| lines.get(l)).map(|l| l.text.chars().collect());
    let read = line.as_ref().map(|chars| match observed.and_then(|o| locate(chars, o)) {
        Some(span) => Excerpt::around(chars, span),
        None => Excerpt::plain(chars),
    });
    let located = read.as_ref().is_some_and(|r| r.marked.is_some());
    // Start both marks in the same column, so the eye compares them directly.
    let (pad_app, pad_read) = match (&app, &read) {
        (Some(a), Some(r)) if located => {
            let (wa, wr) = (a.lead_width(), r.lead_width());
            (wr.saturating_sub(wa), wa.saturating_sub(wr))
        }
        _ => (0, 0),
    };
    if let Some(a) = &app {
        writeln!(out, "  approved: {:pad_app$}{}", "", a.render(style, APPROVED_MARK))?;
    }
    if let Some(r) = &read {
        writeln!(out, "  read:     {:pad_read$}{}", "", r.render(style, READ_MARK))?;
    }
    if let (false, Some(o)) = (located, observed) {
        writeln!(out, "  observed: {}", style.mark(&shorten(&clean(o.chars())), READ_MARK))?;
    }
    for e in &f.evidence {
        writeln!(out, "  measured: {}", measured(e))?;
    }
    Ok(())
}

/// A window of text around a marked span.
struct Excerpt {
    before: String,
    /// `None`: nothing is marked (the finding could not be located in the line).
    marked: Option<String>,
    after: String,
    cut_left: bool,
    cut_right: bool,
}

impl Excerpt {
    /// `span` is `[start, end)` in chars; out-of-range or reversed spans are clamped.
    fn around(chars: &[char], span: [usize; 2]) -> Excerpt {
        let end = span[1].min(chars.len());
        let start = span[0].min(end);
        let from = start.saturating_sub(CONTEXT);
        let to = end.saturating_add(CONTEXT).min(chars.len());
        Excerpt {
            before: clean(chars[from..start].iter().copied()),
            marked: Some(shorten(&clean(chars[start..end].iter().copied()))),
            after: clean(chars[end..to].iter().copied()),
            cut_left: from > 0,
            cut_right: to < chars.len(),
        }
    }

    fn plain(chars: &[char]) -> Excerpt {
        let text = clean(chars.iter().copied());
        Excerpt { before: shorten(&text), marked: None, after: String::new(), cut_left: false, cut_right: false }
    }

    /// Display width up to the mark.
    fn lead_width(&self) -> usize {
        usize::from(self.cut_left) + width(&self.before)
    }

    fn render(&self, style: Style, code: &str) -> String {
        let marked = match self.marked.as_deref() {
            // An insertion point: the read text has something where the approved has nothing.
            Some("") => style.mark("‸", code),
            Some(m) => style.mark(m, code),
            None => String::new(),
        };
        let ellipsis = |cut: bool| if cut { "…" } else { "" };
        format!("{}{}{marked}{}{}", ellipsis(self.cut_left), self.before, self.after, ellipsis(self.cut_right))
    }
}

/// How emphasis and marks are written.
#[derive(Clone, Copy, PartialEq)]
enum Markup {
    /// Marks in `[ ]`, no emphasis: for logs and mail.
    Brackets,
    /// ANSI colours, for a terminal.
    Ansi,
    /// Private-use markers that [`report_html`] turns into tags once the text is escaped.
    Html,
}

/// [`Markup::Html`]'s markers and the tags they become.
const HTML_MARKERS: [(&str, &str); 5] = [
    ("\u{E000}", "<b>"),
    ("\u{E001}", "</b>"),
    ("\u{E002}", "<mark class=\"approved\">"),
    ("\u{E003}", "<mark class=\"read\">"),
    ("\u{E004}", "</mark>"),
];

#[derive(Clone, Copy)]
struct Style(Markup);

impl Style {
    fn paint(self, text: &str, code: &str) -> String {
        match self.0 {
            Markup::Brackets => text.to_string(),
            Markup::Ansi => format!("{code}{text}{RESET}"),
            Markup::Html => format!("\u{E000}{text}\u{E001}"),
        }
    }

    fn mark(self, text: &str, code: &str) -> String {
        match self.0 {
            Markup::Brackets => format!("[{text}]"),
            Markup::Ansi => self.paint(text, code),
            Markup::Html if code == APPROVED_MARK => format!("\u{E002}{text}\u{E004}"),
            Markup::Html => format!("\u{E003}{text}\u{E004}"),
        }
    }
}

/// Where `observed` sits in a line, as a char span of the line.
///
/// `observed` is NFKC with whitespace dropped (as the comparison folds it), so the line is
/// folded the same way, remembering each folded char's source.
pub(crate) fn locate(line: &[char], observed: &str) -> Option<[usize; 2]> {
    let folded: Vec<(char, usize)> = line
        .iter()
        .enumerate()
        .flat_map(|(k, &c)| std::iter::once(c).nfkc().map(move |n| (n, k)))
        .filter(|&(n, _)| !blank(n))
        .collect();
    let needle: Vec<char> = observed.chars().filter(|&c| !blank(c)).collect();
    if needle.is_empty() {
        return None;
    }
    let at = folded.windows(needle.len()).position(|w| w.iter().map(|p| p.0).eq(needle.iter().copied()))?;
    Some([folded[at].1, folded[at + needle.len() - 1].1 + 1])
}

/// What the comparison drops when folding text (see `compare::normalise`).
fn blank(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Control characters (line breaks of the approved text) as spaces, so that every part of
/// the report stays on its own terminal line.
fn clean(chars: impl Iterator<Item = char>) -> String {
    chars.map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `text` with its middle elided when it is longer than [`MAX_SHOWN`] chars.
fn shorten(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_SHOWN {
        return text.to_string();
    }
    let keep = (MAX_SHOWN - 1) / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(n - keep).collect();
    format!("{head}…{tail}")
}

/// Terminal columns: East Asian wide characters take two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Policy, Reread, compare};
    use crate::read::page::Quad;

    const APPROVED: &str = "甲方支付人民币伍万元整（¥50,000.00）给乙方。";
    const QUAD: Quad = [[0.0, 0.0], [100.0, 0.0], [100.0, 20.0], [0.0, 20.0]];

    fn line(text: &str) -> Line {
        Line {
            text: text.into(),
            score: 0.98,
            quad: QUAD,
            chars: vec![],
            flags: Default::default(),
            steps: vec![],
            seal_ink: vec![],
        }
    }

    fn report(verdict: &Verdict, approved: &str, lines: &[Line], colour: bool) -> String {
        let mut out = Vec::new();
        write_report(&mut out, verdict, approved, lines, colour).expect("writing to a Vec");
        String::from_utf8(out).expect("the report is UTF-8")
    }

    fn finding(
        kind: FindingKind,
        approved: Option<(&str, [usize; 2])>,
        observed: Option<&str>,
        line: Option<usize>,
    ) -> Finding {
        Finding {
            kind,
            approved: approved.map(|(t, _)| t.to_string()),
            approved_span: approved.map(|(_, s)| s),
            observed: observed.map(str::to_string),
            line,
            quad: None,
            confidence: 0.97,
            tolerated: false,
            evidence: Vec::new(),
        }
    }

    fn verdict(findings: Vec<Finding>) -> Verdict {
        Verdict {
            outcome: Outcome::Mismatch,
            reason: None,
            similarity: 0.5,
            coverage: 1.0,
            covered_span: None,
            findings,
            rereads: Vec::new(),
            policy: Policy::default(),
        }
    }

    #[test]
    fn changed_capital_amount_is_shown_in_context_and_marked() {
        let lines = [line(&APPROVED.replace('伍', "陆"))];
        let v = compare(&lines, APPROVED, &Policy::default());
        assert_eq!(v.outcome, Outcome::Mismatch);
        assert!(v.findings.iter().any(|f| f.kind == FindingKind::CriticalChange));
        let text = report(&v, APPROVED, &lines, false);
        assert!(text.starts_with("MISMATCH  similarity "), "{text}");
        assert!(text.contains("critical change (amount/date/ID/phone) on line 1"), "{text}");
        assert!(text.contains("  approved: 甲方支付人民币[伍]万元整（¥50,000.…"), "{text}");
        assert!(text.contains("  read:     甲方支付人民币[陆]万元整（¥50,000.…"), "{text}");
        assert!(!text.contains('\x1b'), "no escapes without colour: {text:?}");

        let coloured = report(&v, APPROVED, &lines, true);
        assert!(coloured.starts_with("\x1b[1;31mMISMATCH\x1b[0m"), "{coloured:?}");
        assert!(coloured.contains(&format!("{APPROVED_MARK}伍{RESET}")), "{coloured:?}");
        assert!(coloured.contains(&format!("{READ_MARK}陆{RESET}")), "{coloured:?}");
        assert!(!coloured.contains("[伍]"));
    }

    #[test]
    fn context_is_cut_by_chars_and_marks_line_up() {
        // 30 chars of 3-byte CJK: byte offsets would split characters.
        let approved: String = "一二三四五六七八九十".repeat(3);
        let f = finding(FindingKind::Substitution, Some(("五", [14, 15])), Some("X"), Some(0));
        let text = report(&verdict(vec![f]), &approved, &[line("四X六")], false);
        assert!(text.contains("  approved: …三四五六七八九十一二三四[五]六七八九十一二三四五六七…"), "{text}");
        // The read mark starts in the approved mark's column: the ellipsis and 12 wide chars
        // against one wide char.
        assert!(text.contains(&format!("  read:     {}四[X]六\n", " ".repeat(23))), "{text}");
    }

    #[test]
    fn spans_at_the_ends_and_insertion_points() {
        let approved = "ab";
        let findings = vec![
            finding(FindingKind::Deletion, Some(("a", [0, 1])), None, None),
            finding(FindingKind::Insertion, Some(("", [2, 2])), Some("c"), Some(0)),
            // Out of range from a stale or hand-edited verdict: clamped, never a panic.
            finding(FindingKind::Substitution, Some(("?", [7, 3])), Some("q"), Some(9)),
        ];
        let text = report(&verdict(findings), approved, &[line("abc")], false);
        assert!(text.contains("missing text, confidence 0.97\n  approved: [a]b\n"), "{text}");
        assert!(text.contains("  approved: ab[‸]\n  read:     ab[c]\n"), "{text}");
        assert!(text.contains("on line 10, confidence 0.97\n  approved: ab[‸]\n  observed: [q]\n"), "{text}");
        // Nothing approved at all.
        let text =
            report(&verdict(vec![finding(FindingKind::Deletion, Some(("", [0, 0])), None, None)]), "", &[], false);
        assert!(text.contains("  approved: [‸]"), "{text}");
    }

    #[test]
    fn foreign_text_shows_only_the_read_line() {
        let f = finding(FindingKind::ForeignText, None, Some("广告"), Some(1));
        let text = report(&verdict(vec![f]), APPROVED, &[line("甲方"), line("本店 广告 招租")], false);
        assert!(text.contains("foreign text (not in the approved text) on line 2"), "{text}");
        assert!(text.contains("  read:     本店 [广告] 招租\n"), "{text}");
        assert!(!text.contains("approved:"), "{text}");
    }

    #[test]
    fn observed_is_located_through_width_and_whitespace_folding() {
        // The comparison reports NFKC without whitespace; the line keeps full-width digits.
        let chars: Vec<char> = "金额 ５０,\u{200B} ０００元".chars().collect();
        assert_eq!(locate(&chars, "50,000"), Some([3, 11]));
        assert_eq!(locate(&chars, "60"), None);
        assert_eq!(locate(&chars, ""), None);
    }

    #[test]
    fn unlocated_observation_is_shown_separately() {
        let f = finding(FindingKind::Substitution, Some(("伍", [7, 8])), Some("陆"), Some(0));
        let text = report(&verdict(vec![f]), APPROVED, &[line("别的内容")], false);
        assert!(text.contains("  read:     别的内容\n  observed: [陆]\n"), "{text}");
    }

    #[test]
    fn tolerated_findings_are_listed_briefly_after_the_decisive_ones() {
        let mut noise = finding(FindingKind::Substitution, Some(("己", [3, 4])), Some("已"), Some(0));
        noise.tolerated = true;
        let mut stray = finding(FindingKind::ForeignText, None, Some("丷"), Some(0));
        stray.tolerated = true;
        let decisive = finding(FindingKind::CriticalChange, Some(("伍", [7, 8])), Some("陆"), Some(0));
        let text = report(&verdict(vec![noise, stray, decisive]), APPROVED, &[line("x")], false);
        let (head, tail) = text.split_once("tolerated as OCR noise:\n").expect("a tolerated section");
        assert!(head.contains("critical change"), "{text}");
        assert!(tail.contains("  changed text on line 1, confidence 0.97: \"己\" → \"已\"\n"), "{text}");
        assert!(
            tail.contains("  foreign text (not in the approved text) on line 1, confidence 0.97: \"丷\"\n"),
            "{text}"
        );
    }

    #[test]
    fn rereads_say_what_was_read_first() {
        let mut v = verdict(vec![]);
        v.outcome = Outcome::Match;
        let reread = |read: &str, approved: &str, at: usize| Reread {
            line: 0,
            read: read.into(),
            approved: approved.into(),
            approved_span: [at, at + approved.chars().count()],
            loss: 0.42,
        };
        v.rereads = vec![reread("佰", "伍", 7), reread("", "。", 28)];
        let text = report(&v, APPROVED, &[line("x")], false);
        let (_, tail) = text.split_once("re-read as approved").expect("a re-read section");
        assert!(
            tail.contains("\n  line 1: \"伍\" read as \"佰\", the approved spelling 0.4 nats less likely\n"),
            "{text}"
        );
        assert!(
            tail.contains("\n  line 1: \"。\" read as (nothing), the approved spelling 0.4 nats less likely\n"),
            "{text}"
        );
        assert!(!report(&verdict(vec![]), APPROVED, &[line("x")], false).contains("re-read"));
    }

    #[test]
    fn lines_read_by_another_recogniser_are_named() {
        let mut seconded = line("甲方支付人民币伍万元整");
        seconded.flags.second_opinion = Some("v6_rec".into());
        let text = report(&verdict(vec![]), APPROVED, &[line("x"), seconded], false);
        let (_, tail) = text.split_once("read by another recogniser").expect("a section for them");
        assert!(tail.contains("\n  line 2 (v6_rec): \"甲方支付人民币伍万元整\"\n"), "{text}");
        assert!(!report(&verdict(vec![]), APPROVED, &[line("x")], false).contains("another recogniser"));
    }

    #[test]
    fn long_marks_are_elided_and_line_breaks_flattened() {
        let approved = format!("开头\n{}结尾", "长".repeat(100));
        let f = finding(FindingKind::Deletion, Some(("", [3, 103])), None, Some(0));
        let text = report(&verdict(vec![f]), &approved, &[line("开头结尾")], false);
        let marked = format!("[{}…{}]", "长".repeat(17), "长".repeat(17));
        assert!(text.contains(&format!("  approved: 开头 {marked}结尾\n")), "{text}");
    }
}
