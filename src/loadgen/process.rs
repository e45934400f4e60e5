//! The server's CPU time and resident memory, from /proc: the service is on this machine
//! (load is generated on loopback), so its own counters need no metrics endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use procfs::process::Process;
use serde::Serialize;

use super::LoadError;

/// A process to watch.
pub struct Server {
    process: Process,
    pid: u32,
}

/// What a process had used at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    at: Instant,
    cpu_seconds: f64,
    pub resident_bytes: u64,
}

/// What a process used over a span of time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Usage {
    /// CPU time over wall time: 2.0 is two cores busy throughout.
    pub cores_busy: f64,
    /// `cores_busy` as a share of this machine's cores.
    pub cpu_share: f64,
    /// Resident memory at the end, MiB.
    pub resident_mib: f64,
    /// The most resident memory seen while the span ran (sampled every 100 ms), MiB.
    pub peak_resident_mib: f64,
}

impl Server {
    pub fn new(pid: u32) -> Result<Self, LoadError> {
        let process = Process::new(pid as i32).map_err(|e| proc_error(pid, e))?;
        let server = Self { process, pid };
        server.sample()?;
        Ok(server)
    }

    pub fn sample(&self) -> Result<Sample, LoadError> {
        let stat = self.process.stat().map_err(|e| proc_error(self.pid, e))?;
        let ticks = procfs::ticks_per_second() as f64;
        Ok(Sample {
            at: Instant::now(),
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_bytes: stat.rss * procfs::page_size(),
        })
    }

    /// Watch the process until the returned [`Span`] ends.
    pub fn span(self: &Arc<Self>) -> Result<Span, LoadError> {
        let first = self.sample()?;
        let (peak, stop) = (Arc::new(AtomicU64::new(first.resident_bytes)), Arc::new(AtomicBool::new(false)));
        let (server, seen, stopped) = (Arc::clone(self), Arc::clone(&peak), Arc::clone(&stop));
        let sampler = tokio::spawn(async move {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(sample) = server.sample() {
                    seen.fetch_max(sample.resident_bytes, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Ok(Span { server: Arc::clone(self), first, peak, stop, sampler })
    }
}

/// A span of time over which a process's use is measured.
pub struct Span {
    server: Arc<Server>,
    first: Sample,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: tokio::task::JoinHandle<()>,
}

impl Span {
    /// Resident memory now, and the most seen since the span began or since the last call
    /// of this (whose count starts again from now), MiB.
    pub fn take_peak(&self) -> Result<(f64, f64), LoadError> {
        let now = self.server.sample()?.resident_bytes;
        Ok((mib(now), mib(self.peak.swap(now, Ordering::Relaxed).max(now))))
    }

    pub async fn end(mut self) -> Result<Usage, LoadError> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = (&mut self.sampler).await;
        let last = self.server.sample()?;
        let cores_busy = (last.cpu_seconds - self.first.cpu_seconds) / (last.at - self.first.at).as_secs_f64();
        Ok(Usage {
            cores_busy,
            cpu_share: cores_busy / crate::runtime::config::cores() as f64,
            resident_mib: mib(last.resident_bytes),
            peak_resident_mib: mib(self.peak.load(Ordering::Relaxed).max(last.resident_bytes)),
        })
    }
}

impl Drop for Span {
    /// A span dropped without [`Span::end`] stops its sampler too.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

fn proc_error(pid: u32, error: procfs::ProcError) -> LoadError {
    LoadError::Process { pid, source: std::io::Error::other(error) }
}
