//! Evaluation: candidates (model sets, profiles, policies) measured side by side on
//! labelled samples, the harness behind `sealcheck eval`.
//!
//! [`cases`] is the labelled case format (a job manifest whose lines also carry what the
//! capture shows and which verdict it supports) and [`samples`] reads it, or PPOCRLabel's
//! `Label.txt`, into samples; [`run`] runs one candidate over them on a verifier's workers;
//! [`score`] measures a reading against its truth; [`figures`] turns a run into the
//! [`summary`] every output is drawn from, and [`html`] draws the report. Tests, `bench` and
//! `sealcheck eval` use it; nothing on the verify path does.

pub mod cases;
pub mod figures;
pub mod html;
pub mod run;
pub mod samples;
pub mod score;
pub mod summary;
