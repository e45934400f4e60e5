//! The worker pool: order, overload and a panicking task, on real engines (no model runs).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::pool;
use sealcheck::Profile;

#[test]
fn the_pool_keeps_order_answers_overload_at_once_and_survives_a_panic() {
    let pool = pool(Profile::Default);
    let workers = pool.workers();
    assert!(workers >= 1);

    // Results come back in the items' order, whichever worker ran them.
    let doubled: Vec<usize> = pool
        .map(0..50usize, |engine, i| {
            assert_eq!(engine.config().profile, Profile::Default, "a worker owns a default engine");
            if i % 7 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            i * 2
        })
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled, (0..50).map(|i| i * 2).collect::<Vec<_>>());

    // A panicking task loses its own result only; the worker goes on to the next.
    let results: Vec<_> = pool.map([1, 2, 3], |_, i| if i == 2 { panic!("a bug") } else { i }).collect();
    assert_eq!(results[0].as_ref().ok(), Some(&1));
    assert!(results[1].is_err(), "the panicking task is reported lost");
    assert_eq!(results[2].as_ref().ok(), Some(&3));

    // Hold every worker, fill the queue, and the next task is refused at once.
    let (release, hold) = mpsc::channel::<()>();
    let hold = std::sync::Arc::new(std::sync::Mutex::new(hold));
    let (started, running) = mpsc::channel();
    let mut pending = Vec::new();
    for _ in 0..workers {
        let (hold, started) = (hold.clone(), started.clone());
        pending.push(pool.submit(move |_| {
            started.send(()).unwrap();
            hold.lock().unwrap().recv().unwrap();
        }));
    }
    for _ in 0..workers {
        running.recv_timeout(Duration::from_secs(10)).expect("every worker took a task");
    }
    let mut queued = 0;
    let busy = loop {
        match pool.try_submit(|_| ()) {
            Ok(reply) => {
                pending.push(reply);
                queued += 1;
                assert!(queued <= 64, "the queue is bounded");
            }
            Err(busy) => break busy,
        }
    };
    assert_eq!(busy.workers, workers);
    assert!(busy.to_string().contains("busy"), "{busy}");
    for _ in 0..workers {
        release.send(()).unwrap();
    }
    for reply in pending {
        reply.wait().expect("held and queued tasks all finish");
    }
}
