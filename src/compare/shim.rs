use std::sync::Arc;
use super::{Policy, ShortEnd, Verdict};
use crate::read::page::Line;
pub struct ApprovedText { text: Arc<str>, policy: Policy }
impl ApprovedText {
    pub fn new(text: impl Into<Arc<str>>, policy: &Policy) -> Self { Self { text: text.into(), policy: policy.clone() } }
    pub fn text(&self) -> &Arc<str> { &self.text }
    pub fn policy(&self) -> &Policy { &self.policy }
    pub fn compare(&self, lines: &[Line]) -> Verdict { super::compare(lines, &self.text, &self.policy) }
    pub(crate) fn compare_with_ends(&self, lines: &[Line]) -> (Verdict, Vec<ShortEnd>) { super::compare_with_ends(lines, &self.text, &self.policy) }
}
