//! The process's allocator: jemalloc, for Rust and for ONNX Runtime alike.
//!
//! With glibc's malloc, every large tensor ONNX Runtime allocates (a detection input, its
//! feature maps) is a fresh `mmap`, so each run faults in and zeroes its pages again: on
//! 75 test captures, 40 million page faults and about a third of the CPU time in the
//! kernel. ONNX Runtime's own arena avoids that but grows without bound as shapes change.
//! jemalloc, exported unprefixed so that the dynamically loaded runtime resolves `malloc`
//! to it too, keeps freed pages for reuse and returns them after its decay time.

use std::ffi::c_char;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads this before `main`. `oversize_threshold:0` keeps large allocations in the
/// ordinary arenas (by default those above 8 MiB are returned at once, which is glibc's
/// behaviour again); the background thread returns idle pages without stalling a worker.
#[allow(non_upper_case_globals)]
#[unsafe(no_mangle)]
pub static malloc_conf: Option<&'static c_char> =
    Some(unsafe { &*c"oversize_threshold:0,background_thread:true".as_ptr() });
