//! `sealcheck eval`: candidates side by side on the same labelled samples, as tables, a
//! JSON summary, an HTML report and paired comparisons.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use image::imageops::FilterType;
use sealcheck::compare::Outcome;
use sealcheck::eval::figures::{self, Named};
use sealcheck::eval::html;
use sealcheck::eval::run::{self, CandidateSpec, Run};
use sealcheck::eval::samples::{self, Sample};
use sealcheck::eval::summary::{Accepts, CandidateSummary, Disagreement, Figures, ROTATIONS, Summary, Verdicts};
use sealcheck::present::annotate;
use sealcheck::read::EngineConfig;
use sealcheck::read::decode::decode;
use sealcheck::runtime::backend::Library;
use sealcheck::runtime::models::load_runtime;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A labelled case manifest (the case format of testdata/README.md); repeatable.
    #[arg(long, value_name = "CASES.jsonl")]
    manifest: Vec<PathBuf>,
    /// A PPOCRLabel label file (image path, tab, JSON list of transcription and points):
    /// recognition figures only; repeatable.
    #[arg(long, value_name = "Label.txt")]
    labels: Vec<PathBuf>,
    /// A candidate, NAME=SPEC with SPEC a comma-separated list of models=DIR,
    /// profile=default|reference, backend=cpu|openvino, precision=f32|bf16 (per role joined
    /// by `+`: precision=det=f32+rec=bf16), policy.FIELD=VALUE (looser thresholds allowed);
    /// repeatable; one ONNX Runtime library serves them all. Default: one candidate, `default=profile=default`.
    #[arg(long, value_name = "NAME=SPEC")]
    candidate: Vec<CandidateSpec>,
    /// Workers per candidate. Default: the candidate's profile's.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Print the summary as one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report with the tables, plots and the captures the
    /// candidates judged differently.
    #[arg(long, value_name = "OUT.html")]
    html: Option<PathBuf>,
    /// Also write the report's plots as SVG files into DIR.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Compare two candidates' verdicts case by case, with an exact McNemar test;
    /// repeatable.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    compare: Vec<String>,
}

/// The long side of a capture pictured in the report: enough to read the boxes' colours
/// and labels, small enough for a report of every disagreement to stay a few megabytes.
const PICTURE_SIDE: u32 = 960;

pub fn run(args: &EvalArgs) -> anyhow::Result<u8> {
    let samples = load_samples(args)?;
    let candidates = match args.candidate.as_slice() {
        [] => vec!["default=profile=default".parse()?],
        given => given.to_vec(),
    };
    let pairs = comparisons(args, &candidates)?;
    // One library a process: the one that runs every candidate (a `cpu` candidate beside an
    // `openvino` one runs the OpenVINO library's CPU provider, as its figures then say).
    let configs = candidates.iter().map(CandidateSpec::engine_config).collect::<Result<Vec<_>, _>>()?;
    let library = configs.iter().map(|c| c.runtime.executions.library()).max().unwrap_or(Library::Cpu);
    let runtime = load_runtime(library)?;
    eprintln!("sealcheck: eval: ONNX Runtime from {}", runtime.name);
    let mut summaries = Vec::new();
    let mut runs = Vec::new();
    for candidate in &candidates {
        // One candidate at a time, each alone on the machine: its speed is its own.
        let verifier = candidate.verifier(args.workers).with_context(|| format!("candidate {}", candidate.name))?;
        eprintln!("sealcheck: eval: {} on {} samples, {} workers", candidate.name, samples.len(), verifier.workers());
        let done = run::run(&verifier, &samples);
        let named = Named {
            name: &candidate.name,
            spec: &candidate.spec,
            model_set: &verifier.models().name,
            profile: candidate.profile.as_str(),
        };
        summaries.push(figures::summarise(&named, &samples, &done));
        runs.push(done);
    }
    let comparisons = pairs
        .iter()
        .map(|&(a, b)| figures::compare(&candidates[a].name, &candidates[b].name, &samples, (&runs[a], &runs[b])));
    let inputs = args.manifest.iter().chain(&args.labels).map(|p| p.display().to_string()).collect();
    let summary = Summary { inputs, candidates: summaries, comparisons: comparisons.collect() };
    write_outputs(args, &summary, &samples, &candidates, &runs)?;
    Ok(if summary.candidates.iter().any(|c| !c.failures.is_empty()) { 2 } else { 0 })
}

fn load_samples(args: &EvalArgs) -> anyhow::Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for path in &args.manifest {
        samples.extend(samples::cases(path)?);
    }
    for path in &args.labels {
        samples.extend(samples::labels(path)?);
    }
    anyhow::ensure!(!samples.is_empty(), "nothing to evaluate: give --manifest or --labels");
    Ok(samples)
}

/// The candidates' indices for each `--compare A B`.
fn comparisons(args: &EvalArgs, candidates: &[CandidateSpec]) -> anyhow::Result<Vec<(usize, usize)>> {
    let index = |name: &String| {
        candidates.iter().position(|c| &c.name == name).with_context(|| format!("--compare: no candidate named {name}"))
    };
    args.compare.chunks(2).map(|pair| Ok((index(&pair[0])?, index(&pair[1])?))).collect()
}

fn write_outputs(
    args: &EvalArgs,
    summary: &Summary,
    samples: &[Sample],
    candidates: &[CandidateSpec],
    runs: &[Run],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(summary)?)?;
    } else {
        print_tables(&mut out, summary)?;
    }
    if let Some(dir) = &args.plots {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, svg) in html::plots(summary) {
            let path = dir.join(format!("{name}.svg"));
            std::fs::write(&path, svg).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if let Some(path) = &args.html {
        let pictured = disagreements(samples, candidates, runs)?;
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        );
        html::write_html(summary, &pictured, &mut file)?;
        file.flush()?;
    }
    Ok(())
}

/// The cases the candidates judged differently, each with every candidate's annotated
/// capture (a JPEG, its long side at most [`PICTURE_SIDE`]).
fn disagreements(samples: &[Sample], candidates: &[CandidateSpec], runs: &[Run]) -> anyhow::Result<Vec<Disagreement>> {
    let font = annotate::find_font(None)?;
    let mut pictured = Vec::new();
    for (k, sample) in samples.iter().enumerate() {
        let judged: Vec<Option<Outcome>> = runs.iter().map(|r| run::judged(&r.readings[k])).collect();
        if judged.iter().any(Option::is_none) || judged.windows(2).all(|w| w[0] == w[1]) {
            continue;
        }
        let (capture, _) = sample.load()?;
        let mut pictures = Vec::new();
        for (candidate, run) in candidates.iter().zip(runs) {
            let Ok(reading) = &run.readings[k] else { continue };
            let Some(verdict) = &reading.verdict else { continue };
            let config = EngineConfig::new(candidate.profile);
            let image = decode(&capture, config.limits.max_pixels, config.page.alpha)?;
            let drawn =
                annotate::annotate(&image, &reading.page.lines, verdict, reading.page.rotation_degrees, font.as_ref());
            let small = image::DynamicImage::ImageRgb8(drawn).resize(PICTURE_SIDE, PICTURE_SIDE, FilterType::Triangle);
            let mut jpeg = std::io::Cursor::new(Vec::new());
            small.write_to(&mut jpeg, image::ImageFormat::Jpeg)?;
            pictures.push((candidate.name.clone(), verdict.outcome, jpeg.into_inner()));
        }
        pictured.push(Disagreement { id: sample.id.clone(), pictures });
    }
    Ok(pictured)
}

/// A table row: a label, then one cell per candidate.
type Cell<'a> = &'a dyn Fn(&CandidateSummary) -> String;

fn row(out: &mut impl Write, summary: &Summary, label: &str, cell: Cell) -> std::io::Result<()> {
    write!(out, "{label:36}")?;
    for c in &summary.candidates {
        write!(out, "{:>16}", cell(c))?;
    }
    writeln!(out)
}

/// The headline figures, a column per candidate, then the comparisons and every error.
fn print_tables(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    row(out, summary, "", &|c| c.name.clone())?;
    row(out, summary, "samples (failed)", &|c| format!("{} ({})", c.samples, c.failures.len()))?;
    if summary.candidates.iter().any(|c| c.verdicts.is_some()) {
        print_verdicts(out, summary)?;
    }
    print_recognition(out, summary)?;
    row(out, summary, "imprint cover: lines, MAE, false / missed", &|c| {
        c.imprint_cover.map_or(NONE.into(), |i| {
            format!("{}, {:.3}, {} / {}", i.lines, i.mean_abs_error, i.false_cover, i.missed_cover)
        })
    })?;
    row(out, summary, "images/s", &|c| format!("{:.2}", c.speed.images_per_second))?;
    // The mean, which `bench` prints, is in --json and the report; the table keeps to its width.
    row(out, summary, "total ms p50 / p95", &|c| {
        c.speed.stages.get("total").map_or(NONE.into(), |p| format!("{:.0} / {:.0}", p.p50, p.p95))
    })?;
    print_comparisons(out, summary)?;
    print_errors(out, summary)
}

/// A cell with no figure: the candidate has none for that row.
const NONE: &str = "–";

fn print_verdicts(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    let verdict = |f: fn(&Verdicts) -> String| move |c: &CandidateSummary| c.verdicts.as_ref().map_or(NONE.into(), f);
    row(out, summary, "verdict accuracy", &verdict(|v| format!("{:.3}", v.accuracy)))?;
    row(out, summary, "false accepts (visible tampers)", &verdict(|v| accepts(v.all_false_accepts())))?;
    let kinds: BTreeSet<&String> =
        summary.candidates.iter().filter_map(|c| c.verdicts.as_ref()).flat_map(|v| v.false_accepts.keys()).collect();
    for kind in kinds {
        row(out, summary, &format!("  {kind}"), &|c| {
            c.verdicts.as_ref().and_then(|v| v.false_accepts.get(kind)).map_or(NONE.into(), |&a| accepts(a))
        })?;
    }
    let rejects = |v: &Verdicts| {
        let r = v.false_rejects;
        format!("{}+{}/{}", r.mismatch, r.unreadable, r.faithful)
    };
    row(out, summary, "false rejects: MISMATCH, UNREADABLE", &verdict(rejects))
}

/// False accepts as `accepted/cases`.
fn accepts(a: Accepts) -> String {
    format!("{}/{}", a.accepted, a.cases)
}

fn print_recognition(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    let overall = |f: fn(&Figures) -> f64| move |c: &CandidateSummary| format!("{:.3}", f(&c.recognition.overall));
    row(out, summary, "recall", &overall(|f| f.recall))?;
    row(out, summary, "precision", &overall(|f| f.precision))?;
    row(out, summary, "CER", &overall(|f| f.cer))?;
    row(out, summary, "line accuracy", &overall(|f| f.line_accuracy))?;
    row(out, summary, "reading order", &overall(|f| f.order))?;
    for bucket in ROTATIONS {
        row(out, summary, &format!("  recall {bucket}"), &|c| {
            c.recognition.by_rotation.get(bucket).map_or(NONE.into(), |f| format!("{:.3}", f.recall))
        })?;
    }
    Ok(())
}

fn print_comparisons(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    for c in &summary.comparisons {
        let p = figures::p_value_text(c.p_value);
        let (a, b) = (&c.a, &c.b);
        let (only_a, only_b) = (c.only_a.len(), c.only_b.len());
        writeln!(out, "\n{a} vs {b}: {only_a} cases only {a} judges right, {only_b} only {b}; exact McNemar p = {p}")?;
        writeln!(out, "  only {a}: {}", c.only_a.join(" "))?;
        writeln!(out, "  only {b}: {}", c.only_b.join(" "))?;
    }
    Ok(())
}

fn print_errors(out: &mut impl Write, summary: &Summary) -> std::io::Result<()> {
    for c in &summary.candidates {
        for e in c.verdicts.iter().flat_map(|v| &v.errors) {
            let finding = e.finding.as_deref().unwrap_or("no decisive finding");
            writeln!(out, "{}: {} expected {}, judged {}: {finding}", c.name, e.id, e.expected, e.judged)?;
        }
        for f in &c.failures {
            writeln!(out, "{}: {} failed: {}", c.name, f.id, f.error)?;
        }
    }
    Ok(())
}
