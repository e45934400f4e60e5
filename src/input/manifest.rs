//! Manifests: JSONL files that name captures and their approved documents, one job a line.
//!
//! `sealcheck verify --manifest` reads jobs from them, and the labelled case sets of
//! `eval` are manifests whose lines carry labels as well; both read files through this one
//! reader, with one set of rules:
//! - a line holds `id`, `image` and exactly one of `approved_text`, `approved_text_file`,
//!   `approved_images`; other fields are left to whoever reads them;
//! - relative paths are relative to the manifest's folder, and absolute paths are taken as
//!   they are (an archive's manifest may name files anywhere);
//! - the manifest and every file it names are read within [`super::MAX_INPUT_BYTES`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::read_input;
use crate::verify::request::Approved;

/// The approved document as a manifest line names it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovedSource {
    /// `approved_text`: the text inline.
    Text(String),
    /// `approved_text_file`: a UTF-8 text file.
    TextFile(PathBuf),
    /// `approved_images`: page images of the approved document; their texts are joined
    /// with a form feed (`\f`).
    Images(Vec<PathBuf>),
}

/// Why the approved fields of a line do not name one document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApprovedFieldsError {
    #[error("exactly one of approved_text, approved_text_file, approved_images is required, found {0:?}")]
    Count(Vec<&'static str>),
    #[error("approved_images is empty")]
    NoPages,
}

impl ApprovedSource {
    /// The document named by a line's three approved fields, exactly one of which is given.
    pub fn from_fields(
        text: Option<String>,
        file: Option<PathBuf>,
        images: Option<Vec<PathBuf>>,
    ) -> Result<Self, ApprovedFieldsError> {
        let found: Vec<&'static str> = [
            ("approved_text", text.is_some()),
            ("approved_text_file", file.is_some()),
            ("approved_images", images.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        match (text, file, images) {
            (Some(t), None, None) => Ok(ApprovedSource::Text(t)),
            (None, Some(p), None) => Ok(ApprovedSource::TextFile(p)),
            (None, None, Some(v)) if v.is_empty() => Err(ApprovedFieldsError::NoPages),
            (None, None, Some(v)) => Ok(ApprovedSource::Images(v)),
            _ => Err(ApprovedFieldsError::Count(found)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 text")]
    NotText { path: PathBuf },
    #[error("not a job")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Approved(#[from] ApprovedFieldsError),
}

/// One job: a capture and its approved document, paths as the line gives them.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub image: PathBuf,
    pub approved: ApprovedSource,
}

/// The fields a job reads.
#[derive(Deserialize)]
struct JobRepr {
    id: String,
    image: PathBuf,
    #[serde(default)]
    approved_text: Option<String>,
    #[serde(default)]
    approved_text_file: Option<PathBuf>,
    #[serde(default)]
    approved_images: Option<Vec<PathBuf>>,
}

impl Job {
    pub fn parse(line: &str) -> Result<Job, ManifestError> {
        let r: JobRepr = serde_json::from_str(line)?;
        let approved = ApprovedSource::from_fields(r.approved_text, r.approved_text_file, r.approved_images)?;
        Ok(Job { id: r.id, image: r.image, approved })
    }
}

/// A job's files, read.
pub struct LoadedJob {
    pub capture: Vec<u8>,
    pub approved: Approved,
}

/// A manifest's lines, read within the input bound, and the folder its paths start from.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    /// The folder relative paths are resolved against.
    pub dir: PathBuf,
    /// The lines that are not blank, with their 1-based line numbers.
    pub lines: Vec<(usize, String)>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = read_text(path)?;
        Ok(Manifest::parse(path, &text))
    }

    /// Manifest text as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Manifest {
        let lines = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| (i + 1, line.to_owned()))
            .collect();
        Manifest { path: path.into(), dir: folder_of(path), lines }
    }

    /// Where a path the manifest names lies: relative to the manifest, or as given.
    pub fn path_of(&self, path: &Path) -> PathBuf {
        self.dir.join(path)
    }

    /// Read a job's capture and approved document.
    pub fn load(&self, job: &Job) -> Result<LoadedJob, ManifestError> {
        load(&self.dir, job)
    }
}

/// Read a job's files, with paths relative to `dir` (the current folder when empty).
pub fn load(dir: &Path, job: &Job) -> Result<LoadedJob, ManifestError> {
    let read = |p: &Path| read_bytes(&dir.join(p));
    let approved = match &job.approved {
        ApprovedSource::Text(text) => Approved::Text(text.clone()),
        ApprovedSource::TextFile(file) => Approved::Text(read_text(&dir.join(file))?),
        ApprovedSource::Images(pages) => Approved::Pages(pages.iter().map(|p| read(p)).collect::<Result<_, _>>()?),
    };
    Ok(LoadedJob { capture: read(&job.image)?, approved })
}

/// The folder a manifest's relative paths start from.
fn folder_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, ManifestError> {
    read_input(path).map_err(|source| ManifestError::Io { path: path.into(), source })
}

fn read_text(path: &Path) -> Result<String, ManifestError> {
    String::from_utf8(read_bytes(path)?).map_err(|_| ManifestError::NotText { path: path.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MAX_INPUT_BYTES;

    #[test]
    fn a_job_needs_exactly_one_approved_field() {
        let job = Job::parse(r#"{"id": "a", "image": "x.jpg", "approved_text": "t", "expected": "MATCH"}"#).unwrap();
        assert_eq!(job.id, "a");
        for bad in [
            r#"{"id": "a", "image": "x.jpg"}"#,
            r#"{"id": "a", "image": "x.jpg", "approved_text": "t", "approved_text_file": "t.txt"}"#,
        ] {
            assert!(matches!(Job::parse(bad), Err(ManifestError::Approved(ApprovedFieldsError::Count(_)))), "{bad}");
        }
        assert!(matches!(
            Job::parse(r#"{"id": "a", "image": "x.jpg", "approved_images": []}"#),
            Err(ManifestError::Approved(ApprovedFieldsError::NoPages))
        ));
        assert!(matches!(Job::parse(r#"{"id": "a"}"#), Err(ManifestError::Json(_))));
    }

    #[test]
    fn job_files_are_read_relative_to_the_manifest_and_absolute_paths_as_given() {
        let dir = std::env::temp_dir().join(format!("sealcheck-job-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cap.jpg"), b"jpeg").unwrap();
        std::fs::write(dir.join("ok.txt"), "批准").unwrap();
        std::fs::write(dir.join("bad.txt"), [0xff, 0xfe]).unwrap();
        let manifest = Manifest::parse(&dir.join("jobs.jsonl"), "\n{}\n\n{}\n");
        assert_eq!(manifest.lines.iter().map(|l| l.0).collect::<Vec<_>>(), [2, 4], "blank lines skipped, numbers kept");
        let job = Job::parse(r#"{"id": "a", "image": "cap.jpg", "approved_text_file": "ok.txt"}"#).unwrap();
        let loaded = manifest.load(&job).unwrap();
        assert_eq!(loaded.capture, b"jpeg");
        assert!(matches!(loaded.approved, Approved::Text(ref t) if t == "批准"));
        let absolute = format!(r#"{{"id": "a", "image": {:?}, "approved_text": "t"}}"#, dir.join("cap.jpg"));
        let elsewhere = Manifest::parse(Path::new("/nowhere/jobs.jsonl"), "");
        assert_eq!(elsewhere.load(&Job::parse(&absolute).unwrap()).unwrap().capture, b"jpeg");
        let job = Job::parse(r#"{"id": "a", "image": "cap.jpg", "approved_text_file": "bad.txt"}"#).unwrap();
        assert!(matches!(manifest.load(&job), Err(ManifestError::NotText { .. })));
        let job = Job::parse(r#"{"id": "a", "image": "missing.jpg", "approved_images": ["cap.jpg"]}"#).unwrap();
        assert!(matches!(manifest.load(&job), Err(ManifestError::Io { .. })));
        // A file past the limit (sparse: no disk is spent) is refused, not read whole.
        std::fs::File::create(dir.join("huge.jpg")).unwrap().set_len(MAX_INPUT_BYTES + 1).unwrap();
        let job = Job::parse(r#"{"id": "a", "image": "huge.jpg", "approved_text": "批准"}"#).unwrap();
        match manifest.load(&job) {
            Err(ManifestError::Io { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        assert!(matches!(Manifest::read(&dir.join("huge.jpg")), Err(ManifestError::Io { .. })), "the manifest too");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
