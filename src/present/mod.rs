//! Presentation, for the person who checks a flagged press: [`report`] writes the readable
//! verify report, [`annotate`] draws the capture turned upright with each line boxed by
//! what the verdict made of it, and finds a CJK font for its labels.

pub mod annotate;
pub mod report;
