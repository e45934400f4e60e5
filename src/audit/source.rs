//! Where an audit's jobs come from: a JSONL manifest, or a directory of archived captures.
//!
//! In a directory, each capture `NAME.jpg` (or `.jpeg`, `.png`, `.webp`) has beside it
//! either `NAME.approved.txt` or a folder `NAME.approved/` of page images (taken in name
//! order), and the job's id is `NAME`. A manifest line or a capture that does not make a job
//! is still an entry, with its error, so that it becomes a row of its own.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::AuditError;
use crate::input::manifest::{ApprovedSource, Job, Manifest};

/// A capture's extensions, as a seal camera or a scanner writes them.
const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// One job of the input, or why its line or file makes none.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub job: Result<Job, String>,
}

/// The jobs of one input, with the folder their relative paths start from.
#[derive(Debug)]
pub struct Source {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
}

impl Source {
    /// A manifest's jobs; a line that is no job is an entry named `line N`.
    pub fn manifest(path: &Path) -> Result<Source, AuditError> {
        let manifest = Manifest::read(path)?;
        let entries = manifest
            .lines
            .iter()
            .map(|(n, line)| match Job::parse(line) {
                Ok(job) => Entry { id: job.id.clone(), job: Ok(job) },
                Err(e) => Entry { id: format!("line {n}"), job: Err(format!("{}:{n}: {e}", path.display())) },
            })
            .collect();
        Source::checked(manifest.dir, entries)
    }

    /// The captures of an archive directory, in name order.
    pub fn directory(dir: &Path) -> Result<Source, AuditError> {
        let mut captures: Vec<PathBuf> = listing(dir)?.into_iter().filter(|p| p.is_file() && is_image(p)).collect();
        captures.sort();
        let entries = captures.iter().map(|capture| archived(dir, capture)).collect();
        Source::checked(dir.to_path_buf(), entries)
    }

    fn checked(dir: PathBuf, entries: Vec<Entry>) -> Result<Source, AuditError> {
        let mut seen = HashSet::new();
        if let Some(twice) = entries.iter().find(|e| !seen.insert(e.id.as_str())) {
            return Err(AuditError::DuplicateId(twice.id.clone()));
        }
        Ok(Source { dir, entries })
    }

    /// Where an entry's capture lies, as the database records it.
    pub fn image_path(&self, entry: &Entry) -> String {
        entry.job.as_ref().map(|job| self.dir.join(&job.image).display().to_string()).unwrap_or_default()
    }
}

/// A directory's entries, or why it cannot be listed.
fn listing(dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let error = |source| AuditError::Directory { path: dir.into(), source };
    std::fs::read_dir(dir).map_err(error)?.map(|e| e.map(|e| e.path()).map_err(error)).collect()
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The job of an archived capture: its approved text file, or its folder of page images.
fn archived(dir: &Path, capture: &Path) -> Entry {
    let name = capture.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let text = dir.join(format!("{name}.approved.txt"));
    let pages = dir.join(format!("{name}.approved"));
    let approved = match (text.is_file(), pages.is_dir()) {
        (true, false) => Ok(ApprovedSource::TextFile(text)),
        (false, true) => page_images(&pages),
        (true, true) => Err(format!("{name} has both {name}.approved.txt and a folder {name}.approved/: keep one")),
        (false, false) => {
            Err(format!("{name} has neither {name}.approved.txt nor a folder {name}.approved/ beside it"))
        }
    };
    let job = approved.map(|approved| Job { id: name.clone(), image: capture.to_path_buf(), approved });
    Entry { id: name, job }
}

fn page_images(folder: &Path) -> Result<ApprovedSource, String> {
    let mut pages: Vec<PathBuf> =
        listing(folder).map_err(|e| e.to_string())?.into_iter().filter(|p| is_image(p)).collect();
    pages.sort();
    if pages.is_empty() {
        return Err(format!("{} holds no page image", folder.display()));
    }
    Ok(ApprovedSource::Images(pages))
}

/// Shard `index` of `count`: the jobs whose id's SHA-256, as a number, leaves `index`
/// divided by `count`. A hash of the id alone, so every machine deals the same jobs to the
/// same shard whatever order it lists them in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, id: &str) -> bool {
        let digest = Sha256::digest(id.as_bytes());
        let lead = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 8 bytes"));
        lead % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = AuditError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || AuditError::Shard(s.into());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_ids_and_refuse_bad_specs() {
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        let ids: Vec<String> = (0..300).map(|i| format!("job-{i}")).collect();
        let mut sizes = [0; 3];
        for id in &ids {
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].contains(id)).collect();
            assert_eq!(owners.len(), 1, "{id} is in exactly one shard");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| n > 70), "roughly even: {sizes:?}");
        for bad in ["3/3", "1", "a/3", "1/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_directory_pairs_captures_with_approved_texts_or_pages() {
        let dir = std::env::temp_dir().join(format!("sealcheck-archive-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b.approved")).unwrap();
        for file in ["a.jpg", "a.approved.txt", "b.PNG", "b.approved/2.jpg", "b.approved/1.jpg", "c.webp", "notes.txt"]
        {
            std::fs::write(dir.join(file), b"x").unwrap();
        }
        let source = Source::directory(&dir).unwrap();
        let ids: Vec<&str> = source.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(
            matches!(&source.entries[0].job.as_ref().unwrap().approved, ApprovedSource::TextFile(p) if p.ends_with("a.approved.txt"))
        );
        match &source.entries[1].job.as_ref().unwrap().approved {
            ApprovedSource::Images(pages) => assert!(pages[0].ends_with("1.jpg") && pages[1].ends_with("2.jpg")),
            other => panic!("expected pages, got {other:?}"),
        }
        assert!(source.entries[2].job.as_ref().unwrap_err().contains("neither c.approved.txt"));
        std::fs::write(dir.join("a.png"), b"x").unwrap();
        assert!(matches!(Source::directory(&dir), Err(AuditError::DuplicateId(id)) if id == "a"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
