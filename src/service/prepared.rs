//! Approved documents prepared once and named by their content hash, so that press events
//! send a short id instead of the document.
//!
//! Bounded by count and by bytes, the least recently used going first. Nothing else depends
//! on an entry staying: an evicted id is answered NOT_FOUND and the caller prepares the
//! document again, so any replica can answer any call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::runtime::models::sha256_hex;
use crate::verify::document_key;

/// The id of an approved text: its SHA-256.
pub fn text_id(text: &str) -> String {
    sha256_hex(text.as_bytes())
}

/// The id of an approved document given as page images: the SHA-256 of the pages' own
/// hashes, as the verifier's cache keys it.
pub fn pages_id(pages: &[Vec<u8>]) -> String {
    document_key(pages).iter().map(|b| format!("{b:02x}")).collect()
}

/// Prepared texts by id, least recently used first out.
pub struct Prepared {
    max_documents: usize,
    max_bytes: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    /// Each text and the tick of its last use.
    texts: HashMap<String, (Arc<str>, u64)>,
    /// Ids by last use, oldest first.
    uses: BTreeMap<u64, String>,
    bytes: usize,
    clock: u64,
}

impl Lru {
    /// Marks `id` used now.
    fn touch(&mut self, id: &str) -> Option<Arc<str>> {
        self.clock += 1;
        let (text, used) = self.texts.get_mut(id)?;
        self.uses.remove(used);
        *used = self.clock;
        self.uses.insert(self.clock, id.to_string());
        Some(Arc::clone(text))
    }

    fn evict_oldest(&mut self) {
        if let Some((_, id)) = self.uses.pop_first()
            && let Some((text, _)) = self.texts.remove(&id)
        {
            self.bytes -= text.len();
        }
    }
}

impl Prepared {
    pub fn new(max_documents: usize, max_bytes: usize) -> Self {
        Self { max_documents: max_documents.max(1), max_bytes, inner: Mutex::default() }
    }

    /// The text prepared as `id`, now the most recently used.
    pub fn get(&self, id: &str) -> Option<Arc<str>> {
        self.lock().touch(id)
    }

    /// Keep `text` as `id`, making room by evicting the least recently used.
    pub fn insert(&self, id: String, text: Arc<str>) {
        let mut lru = self.lock();
        if lru.touch(&id).is_some() {
            return;
        }
        while !lru.texts.is_empty()
            && (lru.texts.len() >= self.max_documents || lru.bytes + text.len() > self.max_bytes)
        {
            lru.evict_oldest();
        }
        let clock = lru.clock;
        lru.bytes += text.len();
        lru.texts.insert(id.clone(), (text, clock));
        lru.uses.insert(clock, id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_goes_first_by_count_and_by_bytes() {
        let prepared = Prepared::new(2, 10);
        prepared.insert("a".into(), "aaa".into());
        prepared.insert("b".into(), "bbb".into());
        assert!(prepared.get("a").is_some(), "a is now the most recently used");
        prepared.insert("c".into(), "ccc".into());
        assert!(prepared.get("b").is_none(), "b was the least recently used");
        assert!(prepared.get("a").is_some() && prepared.get("c").is_some());
        prepared.insert("d".into(), "dddddddd".into());
        assert!(prepared.get("a").is_none(), "a was the least recently used");
        assert!(prepared.get("c").is_none(), "c's 3 bytes and d's 8 are over 10");
        assert_eq!(prepared.get("d").as_deref(), Some("dddddddd"));
        assert_eq!(text_id("甲"), sha256_hex("甲".as_bytes()));
    }
}
