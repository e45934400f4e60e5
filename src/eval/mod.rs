//! Evaluation: labelled cases and how a reading scores against them.
//!
//! [`cases`] is the labelled case format (a job manifest whose lines also carry what the
//! capture shows and which verdict it supports); [`score`] measures a reading's recall,
//! reading order and precision against a case's truth. Tests, `bench` and the evaluation
//! harness use them; nothing on the verify path does.

pub mod cases;
pub mod figures;
pub mod run;
pub mod samples;
pub mod score;
pub mod summary;
