//! Presentation, for the person who checks a flagged press: [`report`] writes the readable
//! verify report (for a terminal, or as HTML), [`annotate`] draws the capture turned upright
//! with each line boxed by what the verdict made of it, and finds a CJK font for its labels;
//! [`html`] holds what the HTML reports (the evaluation's, the audit's) share.

pub mod annotate;
pub mod html;
pub mod report;
