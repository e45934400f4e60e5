//! The evaluation's HTML report: one self-contained page (inline CSS and SVG, captures as JPEG
//! data URIs, no script), so that it opens as it is wherever it is attached or mailed, with
//! the candidates side by side.

use std::collections::BTreeSet;
use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::figures::p_value_text;
use super::summary::{CandidateSummary, Disagreement, Figures, ROTATIONS, Summary, Verdicts, blur_band};
use crate::compare::Outcome;
use crate::present::html::{Esc, STYLE, table};

/// A cell with no figure: the candidate has none for that row.
const NONE: &str = "–";
const OUTCOMES: [Outcome; 3] = [Outcome::Match, Outcome::Mismatch, Outcome::Unreadable];
const PLOT_SIZE: (u32, u32) = (640, 400);

/// Writes the report: header, the candidates' tables, the plots and the disagreements.
pub fn write_html(summary: &Summary, disagreements: &[Disagreement], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(out, "<title>sealcheck evaluation</title><style>{STYLE}</style></head><body>")?;
    header(summary, out)?;
    if summary.candidates.iter().any(|c| c.verdicts.is_some()) {
        verdict_section(summary, out)?;
    }
    writeln!(out, "<h2>Recognition</h2>")?;
    side_by_side(summary, &recognition_rows(summary), out)?;
    writeln!(out, "<h2>Speed</h2>")?;
    side_by_side(summary, &speed_rows(summary), out)?;
    failures(summary, out)?;
    comparisons(summary, out)?;
    writeln!(out, "<h2>Plots</h2><div class=\"row\">")?;
    for plot in drawn(summary) {
        writeln!(out, "<figure id=\"{}\">{}<figcaption>{}</figcaption></figure>", plot.id, plot.svg, plot.caption)?;
    }
    writeln!(out, "</div>")?;
    disagreement_section(disagreements, out)?;
    writeln!(out, "</body></html>")
}

/// The plots as SVG documents, named for files (`accuracy-by-blur`, `recall-by-rotation`,
/// `reliability`); a plot with nothing to show (no verdicts, say) is left out.
pub fn plots(summary: &Summary) -> Vec<(&'static str, String)> {
    drawn(summary).into_iter().map(|plot| (plot.name, plot.svg)).collect()
}

fn pct(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The keys present, those named in `order` first and in its order, any others after.
fn ordered_keys<'a>(order: &[&str], present: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let present: BTreeSet<&str> = present.into_iter().map(String::as_str).collect();
    let known = order.iter().copied().filter(|key| present.contains(key));
    let others = present.iter().copied().filter(|key| !order.contains(key));
    known.chain(others).map(String::from).collect()
}

/// Blur bands from the sharpest, by their lower bounds; sorted as text `σ ≥ 1.5` would not
/// come last.
fn blur_order() -> [&'static str; 4] {
    [0.0, 0.5, 1.0, 1.5].map(blur_band)
}

/// A row of a table with a column per candidate, or a heading across it.
enum Row {
    Heading(String),
    Cells(String, Vec<String>),
}

fn row(label: impl Into<String>, summary: &Summary, cell: impl Fn(&CandidateSummary) -> String) -> Row {
    Row::Cells(label.into(), summary.candidates.iter().map(cell).collect())
}

/// A table with a column per candidate.
fn side_by_side(summary: &Summary, rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    write!(out, "<table><tr><th></th>")?;
    for candidate in &summary.candidates {
        write!(out, "<th>{}</th>", Esc(&candidate.name))?;
    }
    writeln!(out, "</tr>")?;
    let span = summary.candidates.len() + 1;
    for row in rows {
        match row {
            Row::Heading(text) => writeln!(out, "<tr><th class=\"group\" colspan=\"{span}\">{}</th></tr>", Esc(text))?,
            Row::Cells(label, cells) => {
                write!(out, "<tr><th>{}</th>", Esc(label))?;
                for cell in cells {
                    write!(out, "<td>{}</td>", Esc(cell))?;
                }
                writeln!(out, "</tr>")?;
            }
        }
    }
    writeln!(out, "</table>")
}

fn header(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h1>sealcheck evaluation</h1><p>Inputs:")?;
    for input in &summary.inputs {
        write!(out, " <code>{}</code>", Esc(input))?;
    }
    writeln!(out, "</p>")?;
    let rows: Vec<Vec<String>> = (summary.candidates.iter())
        .map(|c| {
            let failed = c.failures.len().to_string();
            vec![c.name.clone(), c.spec.clone(), c.model_set.clone(), c.profile.clone(), c.samples.to_string(), failed]
        })
        .collect();
    table(&["candidate", "spec", "model set", "profile", "samples", "failures"], &rows, out)
}

fn verdict_section(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Verdicts</h2>")?;
    side_by_side(summary, &verdict_rows(summary), out)?;
    writeln!(out, "<h3>Confusion: expected (rows) against judged (columns)</h3><div class=\"row\">")?;
    for candidate in &summary.candidates {
        if let Some(verdicts) = &candidate.verdicts {
            confusion(&candidate.name, verdicts, out)?;
        }
    }
    writeln!(out, "</div><h3>Cases judged otherwise than expected</h3>")?;
    let rows: Vec<Vec<String>> = (summary.candidates.iter())
        .flat_map(|c| c.verdicts.iter().flat_map(|v| &v.errors).map(move |e| (c, e)))
        .map(|(c, e)| {
            let finding = e.finding.clone().unwrap_or_else(|| NONE.into());
            vec![c.name.clone(), e.id.clone(), e.expected.to_string(), e.judged.to_string(), finding]
        })
        .collect();
    table(&["candidate", "case", "expected", "judged", "decisive finding"], &rows, out)
}

fn verdict_row(label: impl Into<String>, summary: &Summary, cell: impl Fn(&Verdicts) -> String) -> Row {
    row(label, summary, |c| c.verdicts.as_ref().map_or_else(|| NONE.into(), &cell))
}

fn verdict_rows(summary: &Summary) -> Vec<Row> {
    let verdicts = || summary.candidates.iter().filter_map(|c| c.verdicts.as_ref());
    let mut rows = vec![
        verdict_row("cases", summary, |v| v.cases.to_string()),
        verdict_row("accuracy", summary, |v| pct(v.accuracy)),
        Row::Heading("False accepts (judged MATCH), by tamper kind".into()),
    ];
    for kind in ordered_keys(&[], verdicts().flat_map(|v| v.false_accepts.keys())) {
        rows.push(verdict_row(kind.as_str(), summary, |v| {
            v.false_accepts.get(&kind).map_or_else(|| NONE.into(), |a| format!("{}/{}", a.accepted, a.cases))
        }));
    }
    rows.push(Row::Heading("False rejects of faithful captures".into()));
    rows.push(verdict_row("as MISMATCH", summary, |v| {
        format!("{}/{}", v.false_rejects.mismatch, v.false_rejects.faithful)
    }));
    rows.push(verdict_row("as UNREADABLE", summary, |v| {
        format!("{}/{}", v.false_rejects.unreadable, v.false_rejects.faithful)
    }));
    rows.push(Row::Heading("Accuracy by blur band".into()));
    for band in ordered_keys(&blur_order(), verdicts().flat_map(|v| v.by_blur.keys())) {
        rows.push(verdict_row(band.as_str(), summary, |v| match v.by_blur.get(&band) {
            Some(a) if a.cases > 0 => format!("{} ({}/{})", pct(a.correct as f64 / a.cases as f64), a.correct, a.cases),
            _ => NONE.into(),
        }));
    }
    rows
}

fn confusion(name: &str, verdicts: &Verdicts, out: &mut impl Write) -> io::Result<()> {
    write!(out, "<table><caption>{}</caption><tr><th></th>", Esc(name))?;
    for judged in OUTCOMES {
        write!(out, "<th>{judged}</th>")?;
    }
    writeln!(out, "</tr>")?;
    for expected in OUTCOMES {
        write!(out, "<tr><th>{expected}</th>")?;
        for judged in OUTCOMES {
            let cases = verdicts.confusion.get(&expected).and_then(|row| row.get(&judged)).copied().unwrap_or(0);
            write!(out, "<td>{cases}</td>")?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")
}

fn recognition_rows(summary: &Summary) -> Vec<Row> {
    let recognition = || summary.candidates.iter().map(|c| &c.recognition);
    let mut rows = figure_rows("overall", summary, |c| Some(&c.recognition.overall));
    for bucket in ordered_keys(&ROTATIONS, recognition().flat_map(|r| r.by_rotation.keys())) {
        rows.extend(figure_rows(&format!("rotation {bucket}"), summary, |c| c.recognition.by_rotation.get(&bucket)));
    }
    for band in ordered_keys(&blur_order(), recognition().flat_map(|r| r.by_blur.keys())) {
        rows.extend(figure_rows(&format!("blur {band}"), summary, |c| c.recognition.by_blur.get(&band)));
    }
    rows
}

/// A recognition figure's row: its label and how a cell shows it.
type Metric = (&'static str, fn(&Figures) -> String);

const METRICS: [Metric; 6] = [
    ("samples", |f| f.samples.to_string()),
    ("recall", |f| pct(f.recall)),
    ("precision", |f| pct(f.precision)),
    ("CER", |f| pct(f.cer)),
    ("line accuracy", |f| pct(f.line_accuracy)),
    ("order", |f| pct(f.order)),
];

/// A heading and a row per figure for one group of samples.
fn figure_rows<'s>(
    group: &str,
    summary: &'s Summary,
    figures: impl Fn(&'s CandidateSummary) -> Option<&'s Figures>,
) -> Vec<Row> {
    let rows = METRICS.into_iter().map(|(label, metric)| {
        Row::Cells(label.into(), summary.candidates.iter().map(|c| figures(c).map_or(NONE.into(), metric)).collect())
    });
    std::iter::once(Row::Heading(group.into())).chain(rows).collect()
}

fn speed_rows(summary: &Summary) -> Vec<Row> {
    let mut rows = vec![
        row("images/s", summary, |c| format!("{:.2}", c.speed.images_per_second)),
        row("images", summary, |c| c.speed.images.to_string()),
        row("workers", summary, |c| c.speed.workers.to_string()),
        Row::Heading("Latency mean / p50 / p95 (ms)".into()),
    ];
    let mut stages = ordered_keys(&[], summary.candidates.iter().flat_map(|c| c.speed.stages.keys()));
    stages.sort_by_key(|stage| stage == "total");
    for stage in stages {
        rows.push(row(stage.as_str(), summary, |c| {
            c.speed
                .stages
                .get(&stage)
                .map_or_else(|| NONE.into(), |p| format!("{:.1} / {:.1} / {:.1}", p.mean, p.p50, p.p95))
        }));
    }
    rows
}

fn failures(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Failures</h2>")?;
    let rows: Vec<Vec<String>> = (summary.candidates.iter())
        .flat_map(|c| c.failures.iter().map(|f| vec![c.name.clone(), f.id.clone(), f.error.clone()]))
        .collect();
    table(&["candidate", "case", "error"], &rows, out)
}

fn comparisons(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Paired comparisons</h2>")?;
    let cases = |ids: &[String]| if ids.is_empty() { "0".into() } else { format!("{}: {}", ids.len(), ids.join(", ")) };
    let rows: Vec<Vec<String>> = (summary.comparisons.iter())
        .map(|c| vec![format!("{} vs {}", c.a, c.b), cases(&c.only_a), cases(&c.only_b), p_value_text(c.p_value)])
        .collect();
    table(&["pair (a vs b)", "only a right", "only b right", "McNemar p"], &rows, out)
}

fn disagreement_section(disagreements: &[Disagreement], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Where the candidates disagree</h2>")?;
    if disagreements.is_empty() {
        return writeln!(out, "<p>None.</p>");
    }
    for case in disagreements {
        writeln!(out, "<h3>{}</h3><div class=\"row pics\">", Esc(&case.id))?;
        for (name, outcome, jpeg) in &case.pictures {
            let caption = format!("{name}: {outcome}");
            let data = STANDARD.encode(jpeg);
            write!(out, "<figure><img src=\"data:image/jpeg;base64,{data}\" alt=\"{}\">", Esc(&caption))?;
            writeln!(out, "<figcaption>{}</figcaption></figure>", Esc(&caption))?;
        }
        writeln!(out, "</div>")?;
    }
    Ok(())
}

struct Plot {
    /// For a file of its own.
    name: &'static str,
    /// The report's element id.
    id: &'static str,
    caption: &'static str,
    svg: String,
}

fn drawn(summary: &Summary) -> Vec<Plot> {
    let plots = [
        ("accuracy-by-blur", "plot-blur", "Verdict accuracy by blur band", blur_plot(summary)),
        ("recall-by-rotation", "plot-rotation", "Recall by rotation", rotation_plot(summary)),
        ("reliability", "plot-reliability", "Character probability against share correct", reliability_plot(summary)),
    ];
    plots.into_iter().filter_map(|(name, id, caption, svg)| Some(Plot { name, id, caption, svg: svg? })).collect()
}

/// Points per candidate, in the summary's order (so a candidate keeps its colour).
type Series<'a> = Vec<(&'a str, Vec<(f64, f64)>)>;
/// Drawing on the SVG backend (whose error type has no lifetime).
type Drawing = DrawResult<(), SVGBackend<'static>>;

/// The points of `value` at the categories' positions, where it has one.
fn by_category(categories: &[String], value: impl Fn(&String) -> Option<f64>) -> Vec<(f64, f64)> {
    categories.iter().enumerate().filter_map(|(i, key)| Some((i as f64, value(key)?))).collect()
}

fn blur_plot(summary: &Summary) -> Option<String> {
    let verdicts = || summary.candidates.iter().filter_map(|c| c.verdicts.as_ref());
    let bands = ordered_keys(&blur_order(), verdicts().flat_map(|v| v.by_blur.keys()));
    if bands.is_empty() {
        return None;
    }
    let accuracy = |v: &Verdicts, band: &String| v.by_blur.get(band).and_then(|a| ratio(a.correct, a.cases));
    let series: Series = (summary.candidates.iter())
        .map(|c| (c.name.as_str(), c.verdicts.as_ref().map_or(vec![], |v| by_category(&bands, |b| accuracy(v, b)))))
        .collect();
    Some(category_plot(&bands, ("blur band", "accuracy"), 0.0, &series))
}

fn rotation_plot(summary: &Summary) -> Option<String> {
    let buckets = ordered_keys(&ROTATIONS, summary.candidates.iter().flat_map(|c| c.recognition.by_rotation.keys()));
    if buckets.is_empty() {
        return None;
    }
    let series: Series = (summary.candidates.iter())
        .map(|c| (c.name.as_str(), by_category(&buckets, |b| c.recognition.by_rotation.get(b).map(|f| f.recall))))
        .collect();
    // From just below the lowest recall: buckets differ by a few points, not tens.
    let lowest = series.iter().flat_map(|(_, points)| points).map(|&(_, y)| y).fold(1.0, f64::min);
    Some(category_plot(&buckets, ("rotation", "recall"), (lowest - 0.02).max(0.0), &series))
}

/// Bins are drawn at their middle: the summary keeps counts, not the probabilities' mean.
fn reliability_plot(summary: &Summary) -> Option<String> {
    let series: Series = (summary.candidates.iter())
        .map(|c| {
            let bins =
                c.reliability.iter().filter_map(|b| Some((f64::from(b.from + b.to) / 2.0, ratio(b.correct, b.chars)?)));
            (c.name.as_str(), bins.collect())
        })
        .collect();
    if series.iter().all(|(_, points)| points.is_empty()) {
        return None;
    }
    Some(svg(|root| {
        let mut chart = chart(root).build_cartesian_2d(0.0..1.0, 0.0..1.01)?;
        chart.configure_mesh().x_desc("character probability").y_desc("share correct").draw()?;
        chart.draw_series(DashedLineSeries::new([(0.0, 0.0), (1.0, 1.0)], 6, 4, BLACK.mix(0.4).into()))?;
        lines(&mut chart, &series, SeriesLabelPosition::UpperLeft)
    }))
}

/// Categories along x, in order; y from `y_from` to 1.
fn category_plot(categories: &[String], (x_desc, y_desc): (&str, &str), y_from: f64, series: &Series) -> String {
    svg(|root| {
        // A tick per category: with as many labels as categories, the ticks fall on whole numbers.
        let mut chart = chart(root).build_cartesian_2d(-0.5..categories.len() as f64 - 0.5, y_from..1.01)?;
        let label = |x: &f64| match categories.get(x.round() as usize) {
            Some(name) if x.fract() == 0.0 => name.clone(),
            _ => String::new(),
        };
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh().x_labels(categories.len()).x_label_formatter(&label);
        mesh.x_desc(x_desc).y_desc(y_desc).draw()?;
        lines(&mut chart, series, SeriesLabelPosition::LowerLeft)
    })
}

fn chart<'a, 'b>(root: &'a DrawingArea<SVGBackend<'b>, Shift>) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder.margin(15).x_label_area_size(40).y_label_area_size(55);
    builder
}

/// A line with points per candidate, and the legend.
fn lines<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    series: &Series,
    legend: SeriesLabelPosition,
) -> Drawing {
    for (i, (name, points)) in series.iter().enumerate().filter(|(_, (_, points))| !points.is_empty()) {
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)).point_size(3))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart.configure_series_labels().position(legend).background_style(WHITE.mix(0.9)).border_style(BLACK).draw()
}

/// One plot as an SVG document.
fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawing) -> String {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, PLOT_SIZE).into_drawing_area();
        // Nothing here can fail: the backend writes to a String, and text needs no font file.
        let drawn = root.fill(&WHITE).and_then(|()| draw(&root)).and_then(|()| root.present());
        drawn.expect("an SVG drawn into a String");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Cursor;

    use super::*;
    use crate::eval::summary::{
        Accepts, Accuracy, Comparison, Failure, Latency, Recognition, Rejects, ReliabilityBin, SampleResult, Speed,
        VerdictError,
    };

    fn figures(recall: f64) -> Figures {
        Figures { samples: 2, chars: 40, recall, precision: 0.9, cer: 0.1, line_accuracy: 0.5, order: 0.8 }
    }

    fn verdicts(correct: usize) -> Verdicts {
        let confusion = [(Outcome::Match, 3), (Outcome::Unreadable, 1)];
        Verdicts {
            cases: 8,
            accuracy: 0.75,
            confusion: BTreeMap::from([(Outcome::Match, BTreeMap::from(confusion))]),
            false_accepts: BTreeMap::from([("substitution".into(), Accepts { cases: 2, accepted: 1 })]),
            false_rejects: Rejects { faithful: 4, mismatch: 0, unreadable: 1 },
            by_blur: blur_order().map(|band| (band.to_string(), Accuracy { cases: 2, correct })).into(),
            errors: vec![VerdictError {
                id: "case-1".into(),
                expected: Outcome::Match,
                judged: Outcome::Mismatch,
                finding: Some("substitution: <&> for x".into()),
            }],
        }
    }

    fn sample(id: &str) -> SampleResult {
        SampleResult {
            id: id.into(),
            image: format!("{id}.jpg"),
            rotation: Some("upright".into()),
            blur_sigma: Some(0.3),
            expected: Some(Outcome::Match),
            judged: Some(Outcome::Match),
            recalled: 18,
            chars: 20,
            total_ms: 12.0,
        }
    }

    fn candidate(name: &str, recall: f64, correct: usize) -> CandidateSummary {
        let stages = [
            ("decode".into(), Latency { mean: 2.2, p50: 2.0, p95: 3.0 }),
            ("total".into(), Latency { mean: 11.0, p50: 10.0, p95: 20.0 }),
        ];
        let reliability = (0..10)
            .map(|i| ReliabilityBin { from: i as f32 / 10.0, to: (i + 1) as f32 / 10.0, chars: i * 2, correct: i })
            .collect();
        CandidateSummary {
            name: name.into(),
            spec: format!("{name}=server"),
            model_set: "v5".into(),
            profile: "balanced".into(),
            samples: 2,
            failures: vec![Failure { id: "broken".into(), error: "cannot decode".into() }],
            recognition: Recognition {
                overall: figures(recall),
                by_rotation: ROTATIONS.map(|bucket| (bucket.to_string(), figures(recall))).into(),
                by_blur: blur_order().map(|band| (band.to_string(), figures(recall))).into(),
            },
            verdicts: Some(verdicts(correct)),
            speed: Speed { images: 2, seconds: 1.0, images_per_second: 2.0, workers: 1, stages: stages.into() },
            reliability,
            imprint_cover: None,
            results: vec![sample("case-1"), sample("case-2")],
        }
    }

    fn summary() -> Summary {
        let comparison = Comparison {
            a: "alpha".into(),
            b: "beta".into(),
            only_a: vec!["case-1".into()],
            only_b: vec![],
            p_value: 1.0,
        };
        Summary {
            inputs: vec!["eval-real".into()],
            candidates: vec![candidate("alpha", 0.95, 2), candidate("beta", 0.9, 1)],
            comparisons: vec![comparison],
        }
    }

    fn jpeg() -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbImage::new(4, 4).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
        bytes
    }

    fn html(summary: &Summary, disagreements: &[Disagreement]) -> String {
        let mut out = Vec::new();
        write_html(summary, disagreements, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn report_is_one_self_contained_page() {
        let pictures = vec![("alpha".into(), Outcome::Match, jpeg()), ("beta".into(), Outcome::Mismatch, jpeg())];
        let page = html(&summary(), &[Disagreement { id: "case-1".into(), pictures }]);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert_eq!(page.matches("<html").count(), 1);
        assert!(page.trim_end().ends_with("</html>"));
        for id in ["plot-blur", "plot-rotation", "plot-reliability"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id} missing");
        }
        assert!(!page.contains("<script"));
        // A JPEG's base64 begins with its start-of-image marker, FF D8 FF.
        assert_eq!(page.matches("src=\"data:image/jpeg;base64,/9j/").count(), 2);
        assert!(page.contains("substitution: &lt;&amp;&gt; for x"));
        assert!(!page.contains("<&>"));
        for name in ["alpha", "beta"] {
            assert!(page.contains(&format!("<th>{name}</th>")), "{name} has no column");
            assert!(page.contains(&format!("<caption>{name}</caption>")), "{name} has no confusion matrix");
        }
    }

    #[test]
    fn report_without_verdicts_leaves_them_out() {
        let mut summary = summary();
        summary.candidates.iter_mut().for_each(|c| c.verdicts = None);
        let page = html(&summary, &[]);
        assert!(!page.contains("<h2>Verdicts"));
        assert!(!page.contains("plot-blur"));
        assert!(page.contains("id=\"plot-rotation\""));
    }

    #[test]
    fn plots_are_svg_documents_labelled_by_category() {
        let plots = plots(&summary());
        let names: Vec<&str> = plots.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["accuracy-by-blur", "recall-by-rotation", "reliability"]);
        assert!(plots.iter().all(|(_, svg)| svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>")));
        assert!(plots[0].1.contains("σ &lt; 0.5") && plots[0].1.contains("σ ≥ 1.5"));
        assert!(ROTATIONS.iter().all(|bucket| plots[1].1.contains(bucket)));
        assert!(plots[1].1.contains("alpha") && plots[1].1.contains("beta"));
    }
}
