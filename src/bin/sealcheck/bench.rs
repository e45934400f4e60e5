//! `sealcheck bench`: speed and memory, each figure beside a baseline measured in the same
//! run, because these machines are too noisy for absolute timings to mean much.
//!
//! It prints, over the labelled split and `../shared/eval-real`: resident memory after 100
//! and after N images, each rescaled by a random factor so that input shapes keep
//! changing; time per stage; the pipeline's own work as a share of the time spent inside
//! the models; recognition's cost per line against batch size and width; one multi-thread
//! session against single-thread sessions in parallel, per stage; and images per second
//! against RapidOCR 1.4.4 (its timings come from `tools/baseline/timing.py`, which
//! `scripts/bench.sh` runs first) with each side's recall per rotation bucket.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use ndarray::Array4;
use sealcheck::eval::cases::{Case, Manifest, RotationBucket};
use sealcheck::eval::score::ReadingScore;
use sealcheck::read::decode::decode;
use sealcheck::runtime::config::RuntimeConfig;
use sealcheck::runtime::models::{Model, Sessions};
use sealcheck::runtime::pool::Pool;
use sealcheck::{Engine, ModelSet, Page};
use serde::Deserialize;

use crate::EngineArgs;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The labelled split to time and score.
    #[arg(long, value_name = "CASES.jsonl", default_value = "testdata/cases/test/cases.jsonl")]
    cases: PathBuf,
    /// Real photos and scans, with their manifest.jsonl; skipped when absent.
    #[arg(long, value_name = "DIR", default_value = "../shared/eval-real")]
    eval_real: PathBuf,
    /// A peer's timings and lines on the same images, one JSON object per image (`file`,
    /// `seconds`, `lines`), as tools/baseline/timing.py writes them; the file's stem names
    /// the peer. Repeatable: scripts/bench.sh gives RapidOCR 1.4.4 on ONNX Runtime and on
    /// OpenVINO.
    #[arg(long, value_name = "FILE.jsonl")]
    reference: Vec<PathBuf>,
    /// How many images the memory measurement reads (resident memory is taken after 100
    /// and after this many); 0 skips it.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    memory_images: usize,
    #[command(flatten)]
    engine: EngineArgs,
}

/// A capture of the labelled split, or an eval-real image (no truth lines).
struct Item {
    path: PathBuf,
    pixels: u64,
    case: Option<Case>,
}

/// One timed pass of the pool over a set of images.
struct Run {
    wall: Duration,
    pages: Vec<Page>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.pages.len() as f64 / self.wall.as_secs_f64()
    }
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let split = split_items(&args.cases)?;
    let real = real_items(&args.eval_real)?;
    let set = args.engine.model_set()?;
    let config = args.engine.config()?;
    let pool = args.engine.pool()?;
    let threads = config.runtime.threads_per_session(pool.workers());
    println!(
        "sealcheck {} · {:?} profile · {} workers × {} threads · {} cores",
        env!("CARGO_PKG_VERSION"),
        config.profile,
        pool.workers(),
        threads,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // Memory first, while the process holds nothing but the workers' sessions: the
    // sections below create and drop sessions and pages of their own, which the allocator
    // keeps, so that growth measured after them would mix their history in.
    if args.memory_images > 0 {
        let items: Vec<&Item> = split.iter().chain(&real).collect();
        memory(&pool, &items, args.memory_images)?;
    }

    let large: Vec<&Item> = split.iter().filter(|i| i.pixels >= 1_000_000).collect();
    let sets = [
        (format!("{} (all)", args.cases.display()), split.iter().collect::<Vec<_>>()),
        (format!("{} (≥ 1 MP)", args.cases.display()), large),
        (args.eval_real.display().to_string(), real.iter().collect()),
    ];
    let mut runs = Vec::new();
    for (name, items) in &sets {
        if items.is_empty() {
            continue;
        }
        shapes(&pool)?;
        let run = read_all(&pool, items)?;
        println!("\n== {name}: {} images, {:.2} images/s", items.len(), run.per_second());
        print_stages(&run.pages);
        let counts = shapes(&pool)?.iter().map(|(role, shapes)| format!("{role} {}", shapes.len())).collect::<Vec<_>>();
        println!("distinct input shapes met (workers together): {}", counts.join(" · "));
        runs.push((name.as_str(), items, run));
    }

    if !args.reference.is_empty() {
        compare_references(&args.reference, &runs)?;
    }

    println!("\n== recognition: ms per line by batch size and width (one session, {threads} threads)");
    per_line(&set, &config.runtime, threads)?;
    println!("\n== threads: one 2-thread session against two 1-thread sessions in parallel");
    session_threads(&set, &config.runtime)?;
    Ok(())
}

fn split_items(path: &Path) -> anyhow::Result<Vec<Item>> {
    let manifest = Manifest::load(path)?;
    Ok(manifest
        .cases
        .iter()
        .map(|c| Item {
            path: manifest.path_of(&c.image),
            pixels: u64::from(c.width.unwrap_or(0)) * u64::from(c.height.unwrap_or(0)),
            case: Some(c.clone()),
        })
        .collect())
}

fn real_items(dir: &Path) -> anyhow::Result<Vec<Item>> {
    #[derive(Deserialize)]
    struct Entry {
        file: PathBuf,
        width: u32,
        height: u32,
    }
    let manifest = dir.join("manifest.jsonl");
    if !manifest.is_file() {
        eprintln!("sealcheck: {} not found; eval-real is skipped", manifest.display());
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let e: Entry = serde_json::from_str(l).with_context(|| format!("{}: not an entry", manifest.display()))?;
            Ok(Item { path: dir.join(e.file), pixels: u64::from(e.width) * u64::from(e.height), case: None })
        })
        .collect()
}

/// Read every image on all workers, from the file as the reference does.
fn read_all(pool: &Pool<Engine>, items: &[&Item]) -> anyhow::Result<Run> {
    let paths: Vec<PathBuf> = items.iter().map(|i| i.path.clone()).collect();
    let start = Instant::now();
    let pages = pool
        .map(paths, |engine, path| crate::read_image(engine, &path))
        .map(|page| page?)
        .collect::<anyhow::Result<Vec<Page>>>()?;
    Ok(Run { wall: start.elapsed(), pages })
}

fn print_stages(pages: &[Page]) {
    let n = pages.len().max(1) as f64;
    let sum = |f: fn(&Page) -> f64| pages.iter().map(f).sum::<f64>();
    let stages: [(&str, f64); 6] = [
        ("decode", sum(|p| p.timings.decode)),
        ("detect", sum(|p| p.timings.detect)),
        ("crop", sum(|p| p.timings.crop)),
        ("classify", sum(|p| p.timings.classify)),
        ("recognise", sum(|p| p.timings.recognise)),
        ("total", sum(|p| p.timings.total)),
    ];
    let line = stages.iter().map(|(name, ms)| format!("{name} {:.0}", ms / n)).collect::<Vec<_>>().join(" · ");
    println!("ms per image (one worker's time): {line}");
    let model = sum(|p| p.timings.model);
    let total = sum(|p| p.timings.total);
    let decode = sum(|p| p.timings.decode);
    println!(
        "inside the models {:.0} ms per image; the pipeline's own work is {:.1} % of that ({:.1} % with decoding)",
        model / n,
        100.0 * (total - decode - model) / model.max(1e-9),
        100.0 * (total - model) / model.max(1e-9)
    );
    let lines = pages.iter().map(|p| p.lines.len()).sum::<usize>() as f64;
    println!("{:.1} lines per image", lines / n);
}

/// One image as the reference read it.
#[derive(Deserialize)]
struct Theirs {
    file: PathBuf,
    seconds: f64,
    lines: Vec<String>,
}

/// A peer's readings, by image.
type Peer = (String, HashMap<PathBuf, Theirs>);

fn load_peer(path: &Path) -> anyhow::Result<Peer> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let readings = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let t: Theirs =
                serde_json::from_str(l).with_context(|| format!("{}: not a timing line", path.display()))?;
            Ok((canonical(&t.file), t))
        })
        .collect::<anyhow::Result<_>>()?;
    let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    Ok((name, readings))
}

fn compare_references(paths: &[PathBuf], runs: &[(&str, &Vec<&Item>, Run)]) -> anyhow::Result<()> {
    let peers = paths.iter().map(|p| load_peer(p)).collect::<anyhow::Result<Vec<Peer>>>()?;
    let names: Vec<&str> = peers.iter().map(|(name, _)| name.as_str()).collect();
    println!("\n== against {} (same images, timed just before by scripts/bench.sh)", names.join(", "));
    for (name, items, run) in runs {
        let mut against = Vec::new();
        for (peer, theirs) in &peers {
            let mut seconds = 0.0;
            for item in items.iter() {
                let t = theirs
                    .get(&canonical(&item.path))
                    .with_context(|| format!("{peer} has no timing for {}", item.path.display()))?;
                seconds += t.seconds;
            }
            let reference = items.len() as f64 / seconds;
            against.push(format!("{peer} {reference:.2}: ×{:.2}", run.per_second() / reference));
        }
        println!("{name}: {:.2} images/s; against {}", run.per_second(), against.join(" · "));
        if items.iter().all(|i| i.case.is_some()) {
            print_recalls(items, &run.pages, &peers);
        }
    }
    Ok(())
}

/// Recall per rotation bucket: ours, then each peer's, on the same captures.
fn print_recalls(items: &[&Item], pages: &[Page], peers: &[Peer]) {
    let mut scores: BTreeMap<String, Vec<ReadingScore>> = BTreeMap::new();
    for (item, page) in items.iter().zip(pages) {
        let case = item.case.as_ref().expect("checked by the caller");
        if case.visible_lines.is_empty() {
            continue;
        }
        let bucket = format!("{:?}", RotationBucket::of(case.rotation_degrees));
        let row = scores.entry(bucket).or_insert_with(|| vec![ReadingScore::default(); peers.len() + 1]);
        let lines: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
        row[0].add(case, &lines);
        for (score, (_, theirs)) in row[1..].iter_mut().zip(peers) {
            score.add(case, &theirs[&canonical(&item.path)].lines);
        }
    }
    let names: Vec<&str> = peers.iter().map(|(name, _)| name.as_str()).collect();
    let recalls = scores
        .iter()
        .map(|(bucket, s)| {
            format!("{bucket} {}", s.iter().map(|s| format!("{:.3}", s.recall())).collect::<Vec<_>>().join("/"))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    println!("  recall ours/{}: {recalls}", names.join("/"));
}

/// The distinct input shapes the workers' models met since the last call, by role:
/// OpenVINO runs each new shape slowly once, which recognition's width buckets bound.
fn shapes(pool: &Pool<Engine>) -> anyhow::Result<BTreeMap<&'static str, BTreeSet<[usize; 4]>>> {
    let mut union: BTreeMap<&'static str, BTreeSet<[usize; 4]>> = BTreeMap::new();
    for reply in pool.on_each(Engine::take_shapes) {
        for (role, shapes) in reply.wait()? {
            union.entry(role).or_default().extend(shapes);
        }
    }
    Ok(union)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Time `runs` runs of `model` on `input` after one warm-up run.
fn time_runs(model: &mut Model, input: &Array4<f32>, runs: usize) -> anyhow::Result<Duration> {
    model.run(input)?;
    let start = Instant::now();
    for _ in 0..runs {
        model.run(input)?;
    }
    Ok(start.elapsed())
}

fn per_line(set: &ModelSet, runtime: &RuntimeConfig, threads: usize) -> anyhow::Result<()> {
    let mut sessions = set.sessions(runtime, threads)?;
    let widths = [160usize, 320, 640, 1280];
    println!("{:>8}{}", "batch", widths.iter().map(|w| format!("{:>10}", format!("w {w}"))).collect::<String>());
    for batch in [1usize, 2, 4, 8] {
        let mut row = format!("{batch:>8}");
        for &width in &widths {
            let input = Array4::<f32>::zeros((batch, 3, 48, width));
            let runs = (16 * 320 / (batch * width)).max(2);
            let took = time_runs(&mut sessions.rec, &input, runs)?;
            row += &format!("{:>10.1}", took.as_secs_f64() * 1000.0 / (runs * batch) as f64);
        }
        println!("{row}");
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Stage {
    Det,
    Cls,
    Rec,
}

impl Stage {
    fn model(self, sessions: &mut Sessions) -> &mut Model {
        match self {
            Stage::Det => &mut sessions.det,
            Stage::Cls => &mut sessions.cls,
            Stage::Rec => &mut sessions.rec,
        }
    }
}

fn session_threads(set: &ModelSet, runtime: &RuntimeConfig) -> anyhow::Result<()> {
    let stages = [
        ("det 736×992", Stage::Det, [1, 3, 736, 992], 6),
        ("cls 6×48×192", Stage::Cls, [6, 3, 48, 192], 60),
        ("rec 1×48×320", Stage::Rec, [1, 3, 48, 320], 40),
    ];
    let mut one = set.sessions(runtime, 2)?;
    let (mut a, mut b) = (set.sessions(runtime, 1)?, set.sessions(runtime, 1)?);
    for (name, stage, shape, runs) in stages {
        let input = Array4::<f32>::zeros(shape);
        let single = time_runs(stage.model(&mut one), &input, runs)?;
        let (ma, mb) = (stage.model(&mut a), stage.model(&mut b));
        let parallel = std::thread::scope(|scope| -> anyhow::Result<Duration> {
            let start = Instant::now();
            let other = scope.spawn(|| time_runs(mb, &input, runs / 2));
            time_runs(ma, &input, runs - runs / 2)?;
            other.join().expect("a timing thread does not panic")?;
            Ok(start.elapsed())
        })?;
        let rate = |d: Duration| runs as f64 / d.as_secs_f64();
        println!(
            "{name:14} one 2-thread session {:7.1}/s · two 1-thread sessions {:7.1}/s · ×{:.2}",
            rate(single),
            rate(parallel),
            rate(parallel) / rate(single)
        );
    }
    Ok(())
}

/// Resident memory after 100 and after `count` images, read on all workers, each image
/// rescaled by a random factor in [0.5, 1.5] so that no two inputs have the same shape.
fn memory(pool: &Pool<Engine>, items: &[&Item], count: usize) -> anyhow::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    println!("\n== memory: {count} images, each rescaled by a random factor in [0.5, 1.5]");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let jobs: Vec<(PathBuf, f32)> = (0..count)
        .map(|i| {
            // xorshift: the same factors on every run.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (items[i % items.len()].path.clone(), 0.5 + (seed % 1000) as f32 / 1000.0)
        })
        .collect();
    let start = Instant::now();
    let mut marks = Vec::new();
    for (i, page) in pool
        .map(jobs, |engine, (path, factor)| {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let config = engine.config();
            let image = decode(&bytes, config.limits.max_pixels, config.page.alpha)?;
            let (w, h) = image.dimensions();
            let size = |side: u32| ((side as f32 * factor).round() as u32).max(8);
            let scaled = image::imageops::resize(&image, size(w), size(h), image::imageops::FilterType::Triangle);
            anyhow::Ok(engine.read(&scaled)?)
        })
        .enumerate()
    {
        page??;
        if i + 1 == 100.min(count) || i + 1 == count {
            marks.push((i + 1, resident_kib()?));
            println!(
                "after {:5} images: resident {:7.1} MiB ({:.0} s)",
                i + 1,
                marks[marks.len() - 1].1 as f64 / 1024.0,
                start.elapsed().as_secs_f64()
            );
        }
    }
    if let [(_, first), (n, last)] = marks[..] {
        println!("growth from 100 to {n} images: {:+.1} %", 100.0 * (last as f64 - first as f64) / first as f64);
    }
    Ok(())
}

/// This process's resident set, from /proc.
fn resident_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("/proc/self/status has no VmRSS")
}
