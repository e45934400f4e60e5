//! The approved documents that arrive as page images, read once and shared by all workers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::read::Engine;

/// Texts read from approved page images, keyed by the SHA-256 of the pages' bytes and
/// bounded to `capacity` documents (the oldest is dropped first). Shared by all workers.
///
/// Each document has its own slot, locked while it is read: presses against one approved
/// document tend to arrive together, and a worker that misses a document another worker is
/// reading waits for that reading instead of repeating it. The cache's own lock is held only
/// to find or add a slot, so documents are read in parallel with each other.
pub struct ApprovedCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
}

/// A document's text once read; empty while it is being read or after a failed read.
type Slot = Arc<Mutex<Option<Arc<str>>>>;

#[derive(Default)]
struct CacheInner {
    slots: HashMap<[u8; 32], Slot>,
    order: VecDeque<[u8; 32]>,
}

impl ApprovedCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::default() }
    }

    /// The text of an approved document given as page images, read once with `engine`.
    pub fn text(&self, engine: &mut Engine, pages: &[Vec<u8>]) -> Result<Arc<str>> {
        self.text_with(pages, |i, bytes| {
            let unread = |source| Error::ApprovedPage { page: i + 1, source: Box::new(source) };
            engine.read_bytes(bytes).map(|page| page.text()).map_err(unread)
        })
    }

    /// [`Self::text`] with the page reader given: `read(index, bytes)`.
    fn text_with(&self, pages: &[Vec<u8>], mut read: impl FnMut(usize, &[u8]) -> Result<String>) -> Result<Arc<str>> {
        let slot = self.slot(document_key(pages));
        let mut text = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(text) = text.as_ref() {
            return Ok(Arc::clone(text));
        }
        // A failed read leaves the slot empty: the next press tries again.
        let pages: Vec<String> = pages.iter().enumerate().map(|(i, bytes)| read(i, bytes)).collect::<Result<_, _>>()?;
        Ok(Arc::clone(text.insert(pages.join("\u{c}").into())))
    }

    /// The document's slot, added (and the oldest dropped) when it has none.
    fn slot(&self, key: [u8; 32]) -> Slot {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = inner.slots.get(&key) {
            return Arc::clone(slot);
        }
        if inner.order.len() == self.capacity
            && let Some(oldest) = inner.order.pop_front()
        {
            inner.slots.remove(&oldest);
        }
        inner.order.push_back(key);
        Arc::clone(inner.slots.entry(key).or_default())
    }
}

/// A document's key: the SHA-256 of its pages' own hashes, in order, so that page
/// boundaries are part of it.
pub fn document_key(pages: &[Vec<u8>]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for page in pages {
        hasher.update(Sha256::digest(page));
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that counts its calls and spells each page as its bytes.
    fn spell(calls: &std::sync::atomic::AtomicUsize) -> impl FnMut(usize, &[u8]) -> Result<String> {
        |_, bytes| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    #[test]
    fn a_document_another_worker_is_reading_is_waited_for_not_read_again() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use std::sync::mpsc;
        use std::time::Duration;
        let cache = ApprovedCache::new(4);
        let pages = vec![b"page one".to_vec(), b"page two".to_vec()];
        let calls = AtomicUsize::new(0);
        let (entered, first_is_reading) = mpsc::channel();
        let (second_read, wait_for_second) = mpsc::channel::<()>();
        let (cache, pages, calls) = (&cache, &pages, &calls);
        std::thread::scope(|s| {
            let first = s.spawn(move || {
                cache.text_with(pages, |i, bytes| {
                    calls.fetch_add(1, SeqCst);
                    if i == 0 {
                        entered.send(()).unwrap();
                        // Old behaviour: the second worker reads too, and says so at once.
                        let _ = wait_for_second.recv_timeout(Duration::from_millis(500));
                    }
                    Ok(String::from_utf8_lossy(bytes).into_owned())
                })
            });
            first_is_reading.recv().unwrap();
            let second = cache.text_with(pages, |_, bytes| {
                let _ = second_read.send(());
                calls.fetch_add(1, SeqCst);
                Ok(String::from_utf8_lossy(bytes).into_owned())
            });
            let first = first.join().unwrap();
            assert_eq!(&*first.unwrap(), "page one\u{c}page two");
            assert_eq!(&*second.unwrap(), "page one\u{c}page two");
        });
        assert_eq!(calls.load(SeqCst), 2, "each page read once");
    }

    #[test]
    fn a_failed_read_is_not_cached_and_the_oldest_document_makes_room() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let cache = ApprovedCache::new(1);
        let (a, b) = (vec![b"a".to_vec()], vec![b"b".to_vec()]);
        let failed = cache.text_with(&a, |i, _| {
            let source = Box::new(Error::Decode(crate::read::decode::DecodeError::UnknownFormat));
            Err(Error::ApprovedPage { page: i + 1, source })
        });
        assert!(matches!(failed, Err(Error::ApprovedPage { page: 1, .. })));
        let calls = AtomicUsize::new(0);
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(calls.load(SeqCst), 1, "read again after the failure, then found");
        assert_eq!(&*cache.text_with(&b, spell(&calls)).unwrap(), "b");
        assert_eq!(&*cache.text_with(&a, spell(&calls)).unwrap(), "a");
        assert_eq!(calls.load(SeqCst), 3, "b took a's place, so a is read again");
    }
}
