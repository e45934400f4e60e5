//! The two ways of sending load: closed loop (clients that wait for their answers) and
//! open loop (arrivals that do not).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp};
use tokio::task::JoinSet;

use super::{Answer, Call, Cases};
use crate::compare::Outcome;
use crate::service::connect::Client;

/// What every answered call is shown to as it comes (a progress bar, a memory probe).
pub type Observer = Arc<dyn Fn(&Call) + Send + Sync>;

/// How a run's calls are sent.
#[derive(Clone)]
pub struct Load {
    pub cases: Arc<Cases>,
    /// Each call's deadline, sent with it.
    pub timeout: Duration,
    pub observer: Observer,
}

impl Load {
    /// One caller a connection in `connections`, each sending its next call when its last
    /// is answered (a refused call too), until `total` calls are sent.
    pub async fn closed(&self, connections: &[Client], total: usize) -> Vec<Call> {
        let (start, next) = (Instant::now(), Arc::new(AtomicUsize::new(0)));
        let mut clients = JoinSet::new();
        for connection in connections {
            let (load, mut client, next) = (self.clone(), connection.clone(), Arc::clone(&next));
            clients.spawn(async move {
                let mut calls = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return calls;
                    }
                    calls.push(load.call(&mut client, n, start).await);
                }
            });
        }
        in_order(clients.join_all().await.into_iter().flatten().collect())
    }

    /// Calls arriving at `rate` a second on average (positive and finite: the caller
    /// checks it), at exponential intervals drawn from `seed`, spread over `connections`,
    /// until `until`; then the answers of all of them.
    pub async fn open(&self, connections: &[Client], rate: f64, until: Until, seed: u64) -> Vec<Call> {
        let gaps = Exp::new(rate).expect("the rate is checked positive");
        let mut rng = StdRng::seed_from_u64(seed);
        let (start, mut due) = (Instant::now(), Duration::ZERO);
        let mut calls = JoinSet::new();
        for n in 0.. {
            due += Duration::from_secs_f64(gaps.sample(&mut rng));
            if until.reached(n, due) {
                break;
            }
            tokio::time::sleep_until((start + due).into()).await;
            let (load, mut client) = (self.clone(), connections[n % connections.len()].clone());
            calls.spawn(async move { load.call(&mut client, n, start).await });
        }
        in_order(calls.join_all().await)
    }

    /// Send call `n` on `client` and wait for its answer.
    async fn call(&self, client: &mut Client, n: usize, start: Instant) -> Call {
        let cases = Arc::clone(&self.cases);
        let timeout = self.timeout;
        let request = tokio::task::spawn_blocking(move || cases.request(n, timeout))
            .await
            .expect("building a request does not panic");
        let sent = Instant::now();
        let answer = match client.verify(request).await {
            Ok(response) => outcome(&response.into_inner()).map_or(Answer::Malformed, Answer::Judged),
            Err(status) => Answer::Refused(status.code()),
        };
        let call = Call { n, sent: sent - start, latency: sent.elapsed(), answer };
        (self.observer)(&call);
        call
    }
}

/// When an open-loop run stops sending.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Calls(usize),
    Elapsed(Duration),
}

impl Until {
    fn reached(self, sent: usize, due: Duration) -> bool {
        match self {
            Until::Calls(total) => sent >= total,
            Until::Elapsed(duration) => due > duration,
        }
    }
}

/// The verdict of an answered call, if it has one.
fn outcome(response: &crate::service::pb::VerifyResponse) -> Option<Outcome> {
    let verdict = response.report.as_ref()?.verdict.as_ref()?;
    verdict.outcome().try_into().ok()
}

fn in_order(mut calls: Vec<Call>) -> Vec<Call> {
    calls.sort_by_key(|call| call.n);
    calls
}
