//! The library's report types to their proto messages and back.
//!
//! Each conversion destructures the library's struct whole, without `..`: a field added to
//! a report type does not compile until it has its proto field here, so the service never
//! silently drops what `sealcheck verify --json` prints. The way back lets `sealcheck
//! client` rebuild the report a server sent and print it with the local command's code.

use regex::Regex;

use super::pb;
use crate::compare::{Evidence, Finding, FindingKind, Outcome, Policy, PolicyOverrides, Reread, Unreadable, Verdict};
use crate::read::page::{Char, Line, LineEnd, LineFlags, Page, Point, Quad, Timings};
use crate::runtime::backend::Execution;
use crate::verify::{Approved, Provenance, Report};

/// A response that does not hold what its message promises.
#[derive(Debug, thiserror::Error)]
#[error("the server's response is malformed: {0}")]
pub struct Malformed(&'static str);

type Back<T> = Result<T, Malformed>;

fn required<T>(field: Option<T>, name: &'static str) -> Back<T> {
    field.ok_or(Malformed(name))
}

impl From<&Report> for pb::Report {
    fn from(report: &Report) -> Self {
        let Report { provenance, verdict, approved_text, page } = report;
        pb::Report {
            provenance: Some(provenance.into()),
            verdict: Some(verdict.into()),
            approved_text: approved_text.to_string(),
            page: Some(page.into()),
        }
    }
}

impl TryFrom<pb::Report> for Report {
    type Error = Malformed;

    fn try_from(report: pb::Report) -> Back<Self> {
        let pb::Report { provenance, verdict, approved_text, page } = report;
        Ok(Report {
            provenance: required(provenance, "report.provenance")?.try_into()?,
            verdict: required(verdict, "report.verdict")?.try_into()?,
            approved_text: approved_text.into(),
            page: required(page, "report.page")?.try_into()?,
        })
    }
}

/// A document as the proto carries it inline.
impl From<Approved> for pb::approved_document::Document {
    fn from(approved: Approved) -> Self {
        match approved {
            Approved::Text(text) => pb::approved_document::Document::Text(text),
            Approved::Pages(images) => pb::approved_document::Document::Pages(pb::ApprovedPages { images }),
        }
    }
}

impl From<&Provenance> for pb::Provenance {
    fn from(provenance: &Provenance) -> Self {
        let Provenance { image_sha256, model_set, model_sha256, version, runtime, model_execution } = provenance;
        pb::Provenance {
            image_sha256: image_sha256.clone(),
            model_set: model_set.clone(),
            model_sha256: model_sha256.clone().into_iter().collect(),
            version: version.clone(),
            runtime: runtime.clone(),
            model_execution: executions_to_pb(model_execution),
        }
    }
}

impl TryFrom<pb::Provenance> for Provenance {
    type Error = Malformed;

    fn try_from(provenance: pb::Provenance) -> Back<Self> {
        let pb::Provenance { image_sha256, model_set, model_sha256, version, runtime, model_execution } = provenance;
        let model_execution = model_execution
            .into_iter()
            .map(|(role, e)| {
                let bad = |_| Malformed("provenance.model_execution");
                Ok((
                    role,
                    Execution {
                        backend: e.backend.parse().map_err(bad)?,
                        precision: e.precision.parse().map_err(bad)?,
                    },
                ))
            })
            .collect::<Back<_>>()?;
        Ok(Provenance {
            image_sha256,
            model_set,
            model_sha256: model_sha256.into_iter().collect(),
            version,
            runtime,
            model_execution,
        })
    }
}

/// Each model file's backend and precision, by role, as the proto carries them.
pub fn executions_to_pb<'a>(
    executions: impl IntoIterator<Item = (&'a String, &'a Execution)>,
) -> std::collections::HashMap<String, pb::ModelExecution> {
    executions
        .into_iter()
        .map(|(role, e)| {
            (role.clone(), pb::ModelExecution { backend: e.backend.to_string(), precision: e.precision.to_string() })
        })
        .collect()
}

impl From<&Verdict> for pb::Verdict {
    fn from(verdict: &Verdict) -> Self {
        let Verdict { outcome, reason, similarity, coverage, covered_span, findings, rereads, policy } = verdict;
        let reason =
            REASONS.iter().find(|(r, _)| Some(*r) == *reason).map_or(pb::UnreadableReason::Unspecified, |&(_, p)| p);
        pb::Verdict {
            reason: reason.into(),
            outcome: pb::Outcome::from(*outcome).into(),
            similarity: *similarity,
            coverage: *coverage,
            covered_span: covered_span.map(span),
            findings: findings.iter().map(Into::into).collect(),
            rereads: rereads.iter().map(Into::into).collect(),
            policy: Some(policy.into()),
        }
    }
}

impl TryFrom<pb::Verdict> for Verdict {
    type Error = Malformed;

    fn try_from(verdict: pb::Verdict) -> Back<Self> {
        let pb::Verdict { outcome, reason, similarity, coverage, covered_span, findings, rereads, policy } = verdict;
        Ok(Verdict {
            reason: REASONS.iter().find(|(_, p)| *p as i32 == reason).map(|&(r, _)| r),
            outcome: pb::Outcome::try_from(outcome).map_err(|_| Malformed("verdict.outcome"))?.try_into()?,
            similarity,
            coverage,
            covered_span: covered_span.map(unspan),
            findings: findings.into_iter().map(TryInto::try_into).collect::<Back<_>>()?,
            rereads: rereads.into_iter().map(TryInto::try_into).collect::<Back<_>>()?,
            policy: required(policy, "verdict.policy")?.try_into()?,
        })
    }
}

impl From<Outcome> for pb::Outcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Match => pb::Outcome::Match,
            Outcome::Mismatch => pb::Outcome::Mismatch,
            Outcome::Unreadable => pb::Outcome::Unreadable,
        }
    }
}

impl TryFrom<pb::Outcome> for Outcome {
    type Error = Malformed;

    fn try_from(outcome: pb::Outcome) -> Back<Self> {
        match outcome {
            pb::Outcome::Match => Ok(Outcome::Match),
            pb::Outcome::Mismatch => Ok(Outcome::Mismatch),
            pb::Outcome::Unreadable => Ok(Outcome::Unreadable),
            pb::Outcome::Unspecified => Err(Malformed("verdict.outcome")),
        }
    }
}

/// The reasons for UNREADABLE in both encodings, written once for both directions.
const REASONS: [(Unreadable, pb::UnreadableReason); 4] = [
    (Unreadable::Imprint, pb::UnreadableReason::Imprint),
    (Unreadable::FrameCut, pb::UnreadableReason::FrameCut),
    (Unreadable::Blur, pb::UnreadableReason::Blur),
    (Unreadable::NoText, pb::UnreadableReason::NoText),
];

/// The finding kinds in both encodings, written once for both directions.
const KINDS: [(FindingKind, pb::FindingKind); 6] = [
    (FindingKind::Substitution, pb::FindingKind::Substitution),
    (FindingKind::Insertion, pb::FindingKind::Insertion),
    (FindingKind::Deletion, pb::FindingKind::Deletion),
    (FindingKind::CriticalChange, pb::FindingKind::CriticalChange),
    (FindingKind::CriticalUnverifiable, pb::FindingKind::CriticalUnverifiable),
    (FindingKind::ForeignText, pb::FindingKind::ForeignText),
];

impl From<&Finding> for pb::Finding {
    fn from(finding: &Finding) -> Self {
        let Finding { kind, approved, approved_span, observed, line, quad, confidence, tolerated, evidence } = finding;
        let kind = KINDS.iter().find(|(k, _)| k == kind).map_or(pb::FindingKind::Unspecified, |&(_, p)| p);
        pb::Finding {
            kind: kind.into(),
            approved: approved.clone(),
            approved_span: approved_span.map(span),
            observed: observed.clone(),
            line: line.map(|l| l as u64),
            r#box: quad.as_ref().map(quad_to_pb),
            confidence: *confidence,
            tolerated: *tolerated,
            evidence: evidence.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<pb::Finding> for Finding {
    type Error = Malformed;

    fn try_from(finding: pb::Finding) -> Back<Self> {
        let pb::Finding { kind, approved, approved_span, observed, line, r#box, confidence, tolerated, evidence } =
            finding;
        let kind = KINDS.iter().find(|(_, p)| *p as i32 == kind).map(|&(k, _)| k);
        Ok(Finding {
            kind: required(kind, "finding.kind")?,
            approved,
            approved_span: approved_span.map(unspan),
            observed,
            line: line.map(|l| l as usize),
            quad: r#box.map(quad_from_pb).transpose()?,
            confidence,
            tolerated,
            evidence: evidence.into_iter().map(TryInto::try_into).collect::<Back<_>>()?,
        })
    }
}

impl From<&Evidence> for pb::Evidence {
    fn from(evidence: &Evidence) -> Self {
        use pb::evidence::Measured;
        let measured = match *evidence {
            Evidence::PaperToEdge { end, line_heights } => {
                Measured::PaperToEdge(pb::evidence::PaperToEdge { end: line_end_to_pb(Some(end)).into(), line_heights })
            }
            Evidence::Room { room, needed } => Measured::Room(pb::evidence::Room { room, needed }),
            Evidence::Imprint { cover } => Measured::Imprint(pb::evidence::Imprint { cover }),
        };
        pb::Evidence { measured: Some(measured) }
    }
}

impl TryFrom<pb::Evidence> for Evidence {
    type Error = Malformed;

    fn try_from(evidence: pb::Evidence) -> Back<Self> {
        use pb::evidence::Measured;
        Ok(match required(evidence.measured, "evidence.measured")? {
            Measured::PaperToEdge(p) => Evidence::PaperToEdge {
                end: required(line_end_from_pb(p.end), "evidence.paper_to_edge.end")?,
                line_heights: p.line_heights,
            },
            Measured::Room(r) => Evidence::Room { room: r.room, needed: r.needed },
            Measured::Imprint(i) => Evidence::Imprint { cover: i.cover },
        })
    }
}

impl From<&Reread> for pb::Reread {
    fn from(reread: &Reread) -> Self {
        let Reread { line, read, approved, approved_span, loss } = reread;
        pb::Reread {
            line: *line as u64,
            read: read.clone(),
            approved: approved.clone(),
            approved_span: Some(span(*approved_span)),
            loss: *loss,
        }
    }
}

impl TryFrom<pb::Reread> for Reread {
    type Error = Malformed;

    fn try_from(reread: pb::Reread) -> Back<Self> {
        let pb::Reread { line, read, approved, approved_span, loss } = reread;
        let approved_span = unspan(required(approved_span, "reread.approved_span")?);
        Ok(Reread { line: line as usize, read, approved, approved_span, loss })
    }
}

impl From<&Policy> for pb::Policy {
    fn from(policy: &Policy) -> Self {
        let Policy {
            min_char_prob,
            min_agree_prob,
            max_imprint_cover,
            min_covered_prob,
            min_covered_chars,
            max_noise_weight,
            max_noise_prob,
            max_noise_share,
            max_reread_loss,
            max_critical_reread_loss,
            max_reread_prob,
            min_aligned_share,
            critical_patterns,
            compiled: _,
        } = policy;
        pb::Policy {
            min_char_prob: *min_char_prob,
            min_agree_prob: *min_agree_prob,
            max_imprint_cover: *max_imprint_cover,
            min_covered_prob: *min_covered_prob,
            min_covered_chars: *min_covered_chars as u64,
            max_noise_weight: *max_noise_weight,
            max_noise_prob: *max_noise_prob,
            max_noise_share: *max_noise_share,
            max_reread_loss: *max_reread_loss,
            max_critical_reread_loss: *max_critical_reread_loss,
            max_reread_prob: *max_reread_prob,
            min_aligned_share: *min_aligned_share,
            critical_patterns: critical_patterns.clone(),
        }
    }
}

impl TryFrom<pb::Policy> for Policy {
    type Error = Malformed;

    /// The policy a server applied, as it reported it: not checked against the defaults,
    /// since it judges nothing here (the server checked the overrides).
    fn try_from(policy: pb::Policy) -> Back<Self> {
        let pb::Policy {
            min_char_prob,
            min_agree_prob,
            max_imprint_cover,
            min_covered_prob,
            min_covered_chars,
            max_noise_weight,
            max_noise_prob,
            max_noise_share,
            max_reread_loss,
            max_critical_reread_loss,
            max_reread_prob,
            min_aligned_share,
            critical_patterns,
        } = policy;
        let compiled = critical_patterns
            .iter()
            .map(|p| Regex::new(p))
            .collect::<Result<_, _>>()
            .map_err(|_| Malformed("policy.critical_patterns"))?;
        Ok(Policy {
            min_char_prob,
            min_agree_prob,
            max_imprint_cover,
            min_covered_prob,
            min_covered_chars: min_covered_chars as usize,
            max_noise_weight,
            max_noise_prob,
            max_noise_share,
            max_reread_loss,
            max_critical_reread_loss,
            max_reread_prob,
            min_aligned_share,
            critical_patterns,
            compiled,
        })
    }
}

impl From<pb::PolicyOverrides> for PolicyOverrides {
    fn from(overrides: pb::PolicyOverrides) -> Self {
        let pb::PolicyOverrides {
            min_char_prob,
            min_agree_prob,
            max_imprint_cover,
            min_covered_prob,
            min_covered_chars,
            max_noise_weight,
            max_noise_prob,
            max_noise_share,
            max_reread_loss,
            max_critical_reread_loss,
            max_reread_prob,
            min_aligned_share,
            critical_patterns,
        } = overrides;
        PolicyOverrides {
            min_char_prob,
            min_agree_prob,
            max_imprint_cover,
            min_covered_prob,
            // Saturating: a count beyond usize still tightens as far as it can.
            min_covered_chars: min_covered_chars.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            max_noise_weight,
            max_noise_prob,
            max_noise_share,
            max_reread_loss,
            max_critical_reread_loss,
            max_reread_prob,
            min_aligned_share,
            critical_patterns,
        }
    }
}

impl From<&Page> for pb::Page {
    fn from(page: &Page) -> Self {
        let Page { width, height, rotation_degrees, lines, timings } = page;
        pb::Page {
            width: *width,
            height: *height,
            rotation_degrees: *rotation_degrees,
            lines: lines.iter().map(Into::into).collect(),
            timing_ms: Some(timings.into()),
        }
    }
}

impl TryFrom<pb::Page> for Page {
    type Error = Malformed;

    fn try_from(page: pb::Page) -> Back<Self> {
        let pb::Page { width, height, rotation_degrees, lines, timing_ms } = page;
        Ok(Page {
            width,
            height,
            rotation_degrees,
            lines: lines.into_iter().map(TryInto::try_into).collect::<Back<_>>()?,
            timings: required(timing_ms, "page.timing_ms")?.into(),
        })
    }
}

impl From<&Line> for pb::Line {
    fn from(line: &Line) -> Self {
        // `steps` and `seal_ink` are working data, not part of the report (nor serialised).
        let Line { text, score, quad, chars, flags, steps: _, seal_ink: _ } = line;
        pb::Line {
            text: text.clone(),
            score: *score,
            r#box: Some(quad_to_pb(quad)),
            chars: chars.iter().map(Into::into).collect(),
            flags: Some(flags.into()),
        }
    }
}

impl TryFrom<pb::Line> for Line {
    type Error = Malformed;

    fn try_from(line: pb::Line) -> Back<Self> {
        let pb::Line { text, score, r#box, chars, flags } = line;
        Ok(Line {
            text,
            score,
            quad: quad_from_pb(required(r#box, "line.box")?)?,
            chars: chars.into_iter().map(Into::into).collect(),
            flags: flags.map(Into::into).unwrap_or_default(),
            steps: Vec::new(),
            seal_ink: Vec::new(),
        })
    }
}

impl From<&Char> for pb::Char {
    fn from(c: &Char) -> Self {
        let Char { text, prob, span: [span_start, span_end], imprint_cover } = c;
        let (prob, imprint_cover) = (*prob, *imprint_cover);
        pb::Char { text: text.clone(), prob, span_start: *span_start, span_end: *span_end, imprint_cover }
    }
}

impl From<pb::Char> for Char {
    fn from(c: pb::Char) -> Self {
        let pb::Char { text, prob, span_start, span_end, imprint_cover } = c;
        Char { text, prob, span: [span_start, span_end], imprint_cover }
    }
}

impl From<&LineFlags> for pb::LineFlags {
    fn from(flags: &LineFlags) -> Self {
        let LineFlags { cut, cut_end, paper_to_edge, seal_ring, imprint_cover, lengthened, lifted, second_opinion } =
            flags;
        pb::LineFlags {
            cut: *cut,
            cut_end: line_end_to_pb(*cut_end).into(),
            seal_ring: *seal_ring,
            imprint_cover: *imprint_cover,
            lengthened: *lengthened,
            second_opinion: second_opinion.clone(),
            paper_to_edge_start: paper_to_edge[0],
            paper_to_edge_end: paper_to_edge[1],
            lifted: *lifted,
        }
    }
}

impl From<pb::LineFlags> for LineFlags {
    fn from(flags: pb::LineFlags) -> Self {
        let pb::LineFlags {
            cut,
            cut_end,
            seal_ring,
            imprint_cover,
            lengthened,
            second_opinion,
            paper_to_edge_start,
            paper_to_edge_end,
            lifted,
        } = flags;
        let cut_end = line_end_from_pb(cut_end);
        let paper_to_edge = [paper_to_edge_start, paper_to_edge_end];
        LineFlags { cut, cut_end, paper_to_edge, seal_ring, imprint_cover, lengthened, lifted, second_opinion }
    }
}

/// `From` both ways between a library struct and its proto message whose fields have the
/// same names and types, each side destructured whole.
macro_rules! same_fields {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl From<&$name> for pb::$name {
            fn from(value: &$name) -> Self {
                let $name { $($field),+ } = value.clone();
                pb::$name { $($field),+ }
            }
        }

        impl From<pb::$name> for $name {
            fn from(value: pb::$name) -> Self {
                let pb::$name { $($field),+ } = value;
                $name { $($field),+ }
            }
        }
    };
}

same_fields!(Timings {
    decode,
    detect,
    crop,
    classify,
    orient_retry,
    recognise,
    model,
    second_look,
    under_imprint,
    second_opinion,
    compare,
    total,
});

fn line_end_to_pb(end: Option<LineEnd>) -> pb::LineEnd {
    match end {
        None => pb::LineEnd::Unspecified,
        Some(LineEnd::Start) => pb::LineEnd::Start,
        Some(LineEnd::End) => pb::LineEnd::End,
    }
}

fn line_end_from_pb(end: i32) -> Option<LineEnd> {
    match pb::LineEnd::try_from(end) {
        Ok(pb::LineEnd::Start) => Some(LineEnd::Start),
        Ok(pb::LineEnd::End) => Some(LineEnd::End),
        Ok(pb::LineEnd::Unspecified) | Err(_) => None,
    }
}

fn span([start, end]: [usize; 2]) -> pb::Span {
    pb::Span { start: start as u64, end: end as u64 }
}

fn unspan(span: pb::Span) -> [usize; 2] {
    [span.start as usize, span.end as usize]
}

fn quad_to_pb(quad: &Quad) -> pb::Quad {
    pb::Quad { corners: quad.iter().map(|&[x, y]| pb::Point { x, y }).collect() }
}

fn quad_from_pb(quad: pb::Quad) -> Back<Quad> {
    let corners: Vec<Point> = quad.corners.into_iter().map(|p| [p.x, p.y]).collect();
    corners.try_into().map_err(|_| Malformed("a box without four corners"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::backend::{Backend, Precision};

    #[test]
    fn a_report_survives_the_trip_through_its_proto_message() {
        let finding = Finding {
            kind: FindingKind::CriticalChange,
            approved: Some("2024".into()),
            approved_span: Some([3, 7]),
            observed: None,
            line: Some(0),
            quad: Some([[0.0, 1.0], [2.0, 1.0], [2.0, 3.0], [0.0, 3.0]]),
            confidence: 0.5,
            tolerated: false,
            evidence: vec![
                Evidence::PaperToEdge { end: LineEnd::Start, line_heights: 3.5 },
                Evidence::Room { room: 0.5, needed: 2.0 },
                Evidence::Imprint { cover: 0.75 },
            ],
        };
        let line = Line {
            text: "村民".into(),
            score: 0.9,
            quad: [[0.0, 1.0], [2.0, 1.0], [2.0, 3.0], [0.0, 3.0]],
            chars: vec![Char { text: "村".into(), prob: 0.9, span: [0.0, 0.5], imprint_cover: 0.25 }],
            flags: LineFlags {
                cut: true,
                cut_end: Some(LineEnd::End),
                second_opinion: Some("v4_rec".into()),
                paper_to_edge: [None, Some(2.5)],
                lifted: true,
                ..Default::default()
            },
            steps: Vec::new(),
            seal_ink: Vec::new(),
        };
        let reread = Reread { line: 0, read: "十".into(), approved: "一".into(), approved_span: [1, 2], loss: 2.5 };
        let report = Report {
            provenance: Provenance {
                image_sha256: "ab".into(),
                model_set: "default".into(),
                model_sha256: [("det".to_string(), "cd".to_string())].into(),
                version: "0.1.0".into(),
                runtime: "onnxruntime-openvino==1.24.1".into(),
                model_execution: [
                    ("det".to_string(), Execution { backend: Backend::OpenVino, precision: Precision::F32 }),
                    ("rec".to_string(), Execution { backend: Backend::Cpu, precision: Precision::F32 }),
                    ("v4_rec".to_string(), Execution { backend: Backend::OpenVino, precision: Precision::Bf16 }),
                ]
                .into(),
            },
            verdict: Verdict {
                outcome: Outcome::Mismatch,
                reason: None,
                similarity: 0.75,
                coverage: 0.5,
                covered_span: Some([0, 9]),
                findings: vec![finding],
                rereads: vec![reread],
                policy: Policy::default(),
            },
            approved_text: "甲乙丙".into(),
            page: Page {
                width: 10,
                height: 20,
                rotation_degrees: 180.0,
                lines: vec![line],
                timings: Timings { total: 12.5, ..Default::default() },
            },
        };
        let back = Report::try_from(pb::Report::from(&report)).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&report).unwrap());
    }
}
