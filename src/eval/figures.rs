//! A candidate's run turned into the figures of its [`CandidateSummary`], and two
//! candidates' verdicts compared case by case.

use std::collections::BTreeMap;

use crate::compare::{FindingKind, Outcome, Verdict};
use crate::eval::cases::RotationBucket;
use crate::eval::run::{Reading, Run, correct, judged};
use crate::eval::samples::Sample;
use crate::eval::score::{ReadingScore, reliability};
use crate::eval::summary::{
    Accepts, Accuracy, CandidateSummary, Comparison, Failure, Figures, ImprintCover, Latency, ROTATIONS, Recognition,
    ReliabilityBin, SampleResult, Speed, VerdictError, Verdicts, blur_band,
};
use crate::read::geometry::{dist, line_height};
use crate::read::page::{Line, Quad, Timings};

/// Who ran, as the summary names it.
pub struct Named<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub model_set: &'a str,
    pub profile: &'a str,
}

pub fn summarise(who: &Named, samples: &[Sample], run: &Run) -> CandidateSummary {
    let read = || samples.iter().zip(&run.readings).filter_map(|(s, r)| Some((s, r.as_ref().ok()?)));
    let failures = samples
        .iter()
        .zip(&run.readings)
        .filter_map(|(s, r)| r.as_ref().err().map(|e| Failure { id: s.id.clone(), error: e.clone() }))
        .collect();
    CandidateSummary {
        name: who.name.to_owned(),
        spec: who.spec.to_owned(),
        model_set: who.model_set.to_owned(),
        profile: who.profile.to_owned(),
        samples: read().count(),
        failures,
        recognition: recognition(read()),
        verdicts: verdicts(read()),
        speed: speed(read().map(|(_, r)| &r.page.timings), run),
        reliability: reliability_bins(read()),
        imprint_cover: imprint_cover(read()),
        results: samples.iter().zip(&run.readings).map(|(s, r)| sample_result(s, r)).collect(),
    }
}

/// The rotation bucket's name in the summary.
pub fn rotation_name(bucket: RotationBucket) -> &'static str {
    ROTATIONS[match bucket {
        RotationBucket::Upright => 0,
        RotationBucket::Quarter => 1,
        RotationBucket::Half => 2,
        RotationBucket::Oblique => 3,
    }]
}

fn texts(reading: &Reading) -> Vec<&str> {
    reading.page.lines.iter().map(|l| l.text.as_str()).collect()
}

fn add(score: &mut ReadingScore, sample: &Sample, reading: &Reading) {
    let (visible, in_frame) = (as_strs(&sample.visible), as_strs(&sample.in_frame));
    score.add_truth(&visible, &in_frame, &texts(reading));
}

fn as_strs(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

fn recognition<'a>(read: impl Iterator<Item = (&'a Sample, &'a Reading)>) -> Recognition {
    let (mut overall, mut by_rotation, mut by_blur) = (ReadingScore::default(), BTreeMap::new(), BTreeMap::new());
    for (sample, reading) in read.filter(|(s, _)| !s.visible.is_empty()) {
        add(&mut overall, sample, reading);
        if let Some(labelled) = &sample.case {
            let bucket = rotation_name(labelled.case.rotation_bucket());
            add(by_rotation.entry(bucket.to_owned()).or_default(), sample, reading);
        }
        if let Some(sigma) = sample.blur_sigma() {
            add(by_blur.entry(blur_band(sigma).to_owned()).or_default(), sample, reading);
        }
    }
    let each = |scores: BTreeMap<String, ReadingScore>| scores.into_iter().map(|(k, s)| (k, figures(&s))).collect();
    Recognition { overall: figures(&overall), by_rotation: each(by_rotation), by_blur: each(by_blur) }
}

fn figures(score: &ReadingScore) -> Figures {
    Figures {
        samples: score.cases,
        chars: score.chars().0,
        recall: score.recall(),
        precision: score.precision(),
        cer: score.cer(),
        line_accuracy: score.line_accuracy(),
        order: score.order(),
    }
}

fn verdicts<'a>(read: impl Iterator<Item = (&'a Sample, &'a Reading)>) -> Option<Verdicts> {
    let mut v = Verdicts::default();
    for (sample, reading) in read {
        let (Some(labelled), Some(verdict)) = (&sample.case, &reading.verdict) else { continue };
        let (case, judged) = (&labelled.case, verdict.outcome);
        v.cases += 1;
        *v.confusion.entry(case.expected).or_default().entry(judged).or_default() += 1;
        let right = judged == case.expected;
        if let Some(sigma) = sample.blur_sigma() {
            let band = v.by_blur.entry(blur_band(sigma).to_owned()).or_insert_with(Accuracy::default);
            band.cases += 1;
            band.correct += usize::from(right);
        }
        match (&case.tamper, case.expected) {
            (Some(t), Outcome::Mismatch) => {
                let kind = v.false_accepts.entry(t.kind.as_str().to_owned()).or_insert_with(Accepts::default);
                kind.cases += 1;
                kind.accepted += usize::from(judged == Outcome::Match);
            }
            (None, Outcome::Match) => {
                v.false_rejects.faithful += 1;
                v.false_rejects.mismatch += usize::from(judged == Outcome::Mismatch);
                v.false_rejects.unreadable += usize::from(judged == Outcome::Unreadable);
            }
            _ => {}
        }
        if !right {
            let finding = decisive(verdict);
            v.errors.push(VerdictError { id: case.id.clone(), expected: case.expected, judged, finding });
        }
    }
    let correct: usize = v.confusion.iter().map(|(expected, row)| row.get(expected).copied().unwrap_or(0)).sum();
    v.accuracy = correct as f64 / v.cases.max(1) as f64;
    (v.cases > 0).then_some(v)
}

fn imprint_cover<'a>(read: impl Iterator<Item = (&'a Sample, &'a Reading)>) -> Option<ImprintCover> {
    let centre = |q: &Quad| [q.iter().map(|p| p[0]).sum::<f32>() / 4.0, q.iter().map(|p| p[1]).sum::<f32>() / 4.0];
    let mut c = ImprintCover::default();
    let mut error = 0.0;
    for (sample, reading) in read {
        let Some(labelled) = &sample.case else { continue };
        for truth in &labelled.case.visible_lines {
            let at = centre(&truth.quad);
            let distance = |l: &&Line| dist(centre(&l.quad), at);
            let Some(line) = reading.page.lines.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))) else {
                continue;
            };
            if distance(&line) > line_height(&truth.quad) / 2.0 {
                continue;
            }
            let (label, estimate) = (truth.imprint_cover, line.flags.imprint_cover);
            c.lines += 1;
            error += f64::from((label - estimate).abs());
            c.false_cover += usize::from(label == 0.0 && estimate >= 0.5);
            c.missed_cover += usize::from(label >= 0.5 && estimate < 0.1);
        }
    }
    c.mean_abs_error = error / c.lines.max(1) as f64;
    (c.lines > 0).then_some(c)
}

/// The first finding that was not tolerated, in words.
fn decisive(verdict: &Verdict) -> Option<String> {
    let f = verdict.findings.iter().find(|f| !f.tolerated)?;
    let kind = match f.kind {
        FindingKind::Substitution => "substitution",
        FindingKind::Insertion => "insertion",
        FindingKind::Deletion => "deletion",
        FindingKind::CriticalChange => "critical change",
        FindingKind::CriticalUnverifiable => "critical unverifiable",
        FindingKind::ForeignText => "foreign text",
    };
    let (approved, observed) = (f.approved.as_deref().unwrap_or(""), f.observed.as_deref().unwrap_or(""));
    Some(format!("{kind}: approved {approved:?}, read {observed:?} at {:.2}", f.confidence))
}

/// How to read one stage's milliseconds off a page's timings.
type Stage = fn(&Timings) -> f64;

/// The stages a page's timings name, and how to read each.
const STAGES: [(&str, Stage); 11] = [
    ("decode", |t| t.decode),
    ("detect", |t| t.detect),
    ("crop", |t| t.crop),
    ("classify", |t| t.classify),
    ("recognise", |t| t.recognise),
    ("compare", |t| t.compare),
    ("second_look", |t| t.second_look),
    ("under_imprint", |t| t.under_imprint),
    ("second_opinion", |t| t.second_opinion),
    ("model", |t| t.model),
    ("total", |t| t.total),
];

fn speed<'a>(timings: impl Iterator<Item = &'a Timings>, run: &Run) -> Speed {
    let timings: Vec<&Timings> = timings.collect();
    let stages = STAGES
        .iter()
        .map(|(name, of)| {
            let mut ms: Vec<f64> = timings.iter().map(|t| of(t)).collect();
            ms.sort_by(f64::total_cmp);
            let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
            (name.to_string(), Latency { mean, p50: percentile(&ms, 0.5), p95: percentile(&ms, 0.95) })
        })
        .collect();
    let images = run.readings.len();
    Speed {
        images,
        seconds: run.seconds,
        images_per_second: images as f64 / run.seconds.max(1e-9),
        workers: run.workers,
        stages,
    }
}

/// The nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn reliability_bins<'a>(read: impl Iterator<Item = (&'a Sample, &'a Reading)>) -> Vec<ReliabilityBin> {
    let mut bins: Vec<ReliabilityBin> = (0..10)
        .map(|k| ReliabilityBin { from: k as f32 / 10.0, to: (k + 1) as f32 / 10.0, ..Default::default() })
        .collect();
    for (sample, reading) in read.filter(|(s, _)| !s.visible.is_empty()) {
        for (p, right) in reliability(&as_strs(&sample.visible), &reading.page.lines) {
            let bin = &mut bins[((p.clamp(0.0, 1.0) * 10.0) as usize).min(9)];
            bin.chars += 1;
            bin.correct += usize::from(right);
        }
    }
    bins
}

fn sample_result(sample: &Sample, reading: &Result<Reading, String>) -> SampleResult {
    let mut score = ReadingScore::default();
    if let Ok(reading) = reading {
        add(&mut score, sample, reading);
    }
    let (chars, recalled) = score.chars();
    SampleResult {
        id: sample.id.clone(),
        image: sample.image.display().to_string(),
        rotation: sample.case.as_ref().map(|c| rotation_name(c.case.rotation_bucket()).to_owned()),
        blur_sigma: sample.blur_sigma(),
        expected: sample.case.as_ref().map(|c| c.case.expected),
        judged: judged(reading),
        recalled,
        chars,
        total_ms: reading.as_ref().map_or(0.0, |r| r.page.timings.total),
    }
}

/// The cases one candidate judges as expected and the other does not, and the exact
/// McNemar test of the difference: under the hypothesis that both are as good, each
/// discordant case is a fair coin's toss.
pub fn compare(a: &str, b: &str, samples: &[Sample], runs: (&Run, &Run)) -> Comparison {
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    for ((sample, ra), rb) in samples.iter().zip(&runs.0.readings).zip(&runs.1.readings) {
        match (correct(sample, ra), correct(sample, rb)) {
            (Some(true), Some(false)) => only_a.push(sample.id.clone()),
            (Some(false), Some(true)) => only_b.push(sample.id.clone()),
            _ => {}
        }
    }
    let p_value = mcnemar(only_a.len(), only_b.len());
    Comparison { a: a.to_owned(), b: b.to_owned(), only_a, only_b, p_value }
}

/// The exact two-sided McNemar p-value for `b` and `c` discordant pairs: twice the binomial
/// tail of the smaller count at one half, at most 1.
pub fn mcnemar(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    // ln C(n, k) built up term by term, so that large n cannot overflow.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0;
    let mut tail = 0.0;
    for k in 0..=b.min(c) {
        if k > 0 {
            ln_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
        }
        tail += (ln_choose + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// A p-value as a reader wants it: three decimals, or its magnitude when smaller.
pub fn p_value_text(p: f64) -> String {
    if p >= 0.001 { format!("{p:.3}") } else { format!("{p:.1e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_is_exact_and_symmetric() {
        assert_eq!(mcnemar(0, 0), 1.0);
        assert_eq!(mcnemar(3, 3), 1.0);
        // 0 against 6: 2 × 0.5⁶.
        assert!((mcnemar(0, 6) - 0.03125).abs() < 1e-12);
        assert_eq!(mcnemar(6, 0), mcnemar(0, 6));
        // 1 against 9: 2 × (1 + 10) / 2¹⁰.
        assert!((mcnemar(1, 9) - 22.0 / 1024.0).abs() < 1e-12);
        assert!(mcnemar(200, 260) < 0.01 && mcnemar(200, 260) > 0.0, "large counts stay finite");
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let ms: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&ms, 0.5), 10.0);
        assert_eq!(percentile(&ms, 0.95), 19.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
    }
}
