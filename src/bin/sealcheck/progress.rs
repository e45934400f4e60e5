//! Progress of a long command: a bar on a terminal, plain lines in a log.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanDuration, ProgressBar, ProgressStyle};

/// Plain progress lines, when stderr is not a terminal, come at most this often.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// A bar with rate and ETA on a terminal; otherwise a plain line every [`PLAIN_EVERY`].
pub struct Progress {
    bar: Option<ProgressBar>,
    unit: &'static str,
    who: &'static str,
    total: u64,
    done: u64,
    start: Instant,
    said: Instant,
}

impl Progress {
    pub fn new(total: u64, unit: &'static str, who: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style =
                ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {unit}, {{per_sec}}, {{eta}} left"))
                    .expect("the template is valid");
            ProgressBar::new(total).with_style(style)
        });
        Progress { bar, unit, who, total, done: 0, start: Instant::now(), said: Instant::now() }
    }

    pub fn tick(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.said.elapsed() >= PLAIN_EVERY || self.done == self.total {
            self.said = Instant::now();
            let rate = self.done as f64 / self.start.elapsed().as_secs_f64().max(1e-3);
            let left = Duration::from_secs_f64(self.total.saturating_sub(self.done) as f64 / rate.max(1e-6));
            eprintln!(
                "{}: {}/{} {}, {rate:.2} a second, {} left",
                self.who,
                self.done,
                self.total,
                self.unit,
                HumanDuration(left)
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
