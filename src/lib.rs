//! sealcheck: tells whether what a smart seal stamped is what was approved.
pub mod page;
