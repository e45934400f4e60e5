//! What an evaluation reads: labelled cases (the case format, with a verdict to judge) and
//! PaddleOCR's label files (PPOCRLabel's `Label.txt`: an image path, a tab, then a JSON list
//! of `transcription` and `points`), which carry the text only, so that any set labelled
//! with the field's usual tool can be used for recognition figures.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::eval::cases::{Case, CaseError, Manifest};
use crate::input::manifest::{self, Job, LoadedJob, ManifestError};
use crate::input::read_input;

/// One labelled image.
#[derive(Debug, Clone)]
pub struct Sample {
    pub id: String,
    pub image: PathBuf,
    /// The truth lines recall, CER and line accuracy are over.
    pub visible: Vec<String>,
    /// Every text line in the frame (cut lines included), what precision is over.
    pub in_frame: Vec<String>,
    /// The case, for a sample with a verdict, rotation and blur labels.
    pub case: Option<LabelledCase>,
}

/// A case and where its approved document's paths start from.
#[derive(Debug, Clone)]
pub struct LabelledCase {
    pub case: Case,
    pub dir: PathBuf,
}

impl Sample {
    /// The capture's bytes and, for a case, its approved document.
    pub fn load(&self) -> Result<(Vec<u8>, Option<crate::verify::Approved>), ManifestError> {
        match &self.case {
            Some(LabelledCase { case, dir }) => {
                let job = Job { id: case.id.clone(), image: case.image.clone(), approved: case.approved.clone() };
                let LoadedJob { capture, approved } = manifest::load(dir, &job)?;
                Ok((capture, Some(approved)))
            }
            None => {
                let capture =
                    read_input(&self.image).map_err(|source| ManifestError::Io { path: self.image.clone(), source })?;
                Ok((capture, None))
            }
        }
    }

    /// The sample's blur, from the case's `blur_sigma` label.
    pub fn blur_sigma(&self) -> Option<f32> {
        let case = &self.case.as_ref()?.case;
        case.extra.get("blur_sigma")?.as_f64().map(|s| s as f32)
    }
}

/// The samples of a case manifest.
pub fn cases(path: &Path) -> Result<Vec<Sample>, CaseError> {
    let manifest = Manifest::load(path)?;
    let dir = manifest.dir().to_path_buf();
    Ok(manifest
        .cases
        .iter()
        .map(|case| {
            let text =
                |lines: &[crate::eval::cases::TruthLine]| lines.iter().map(|l| l.text.clone()).collect::<Vec<_>>();
            let visible = text(&case.visible_lines);
            let in_frame = [visible.clone(), text(&case.cut_lines)].concat();
            let case = LabelledCase { case: case.clone(), dir: dir.clone() };
            Sample {
                id: case.case.id.clone(),
                image: manifest.path_of(&case.case.image),
                visible,
                in_frame,
                case: Some(case),
            }
        })
        .collect())
}

/// Why a label file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Read(#[from] ManifestError),
    #[error("{path}:{line}: expected an image path, a tab and a JSON list of labels")]
    Shape { path: PathBuf, line: usize },
    #[error("{path}:{line}: the labels are not a JSON list of transcription and points")]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: the label file holds no image")]
    Empty { path: PathBuf },
}

/// One region of a PPOCRLabel line.
#[derive(Deserialize)]
struct Region {
    transcription: String,
    /// Parsed so that a malformed region is refused; the figures do not use boxes.
    #[serde(rename = "points")]
    _points: Vec<[f32; 2]>,
}

/// PPOCRLabel's mark for a region nobody could read: it counts as no text.
const ILLEGIBLE: &str = "###";

/// The samples of a PPOCRLabel `Label.txt`. Image paths are as PPOCRLabel writes them:
/// relative to the folder above the one holding the label file (`images/a.jpg` beside
/// `images/Label.txt`), or else to the label file's own folder. Regions marked `###` are
/// left out. Such samples carry text only: no rotation, blur or verdict.
pub fn labels(path: &Path) -> Result<Vec<Sample>, LabelError> {
    let file = manifest::Manifest::read(path)?;
    let mut samples = Vec::with_capacity(file.lines.len());
    for (line, text) in &file.lines {
        let (image, regions) = text.split_once('\t').ok_or(LabelError::Shape { path: path.into(), line: *line })?;
        let regions: Vec<Region> = serde_json::from_str(regions).map_err(|source| LabelError::Json {
            path: path.into(),
            line: *line,
            source,
        })?;
        let visible: Vec<String> =
            regions.into_iter().map(|r| r.transcription).filter(|t| t != ILLEGIBLE && !t.trim().is_empty()).collect();
        let image = locate(&file.dir, Path::new(image));
        let id = image.file_name().map_or_else(|| format!("line {line}"), |n| n.to_string_lossy().into_owned());
        samples.push(Sample { id, image, in_frame: visible.clone(), visible, case: None });
    }
    if samples.is_empty() {
        return Err(LabelError::Empty { path: path.into() });
    }
    Ok(samples)
}

/// Where a label file's image lies: from the folder above the label file's, as PPOCRLabel
/// writes it, else from the label file's own folder.
fn locate(dir: &Path, image: &Path) -> PathBuf {
    let above = dir.parent().map(|parent| parent.join(image));
    above.filter(|p| p.is_file()).unwrap_or_else(|| dir.join(image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_file_gives_each_image_its_lines_and_leaves_out_illegible_regions() {
        let dir = std::env::temp_dir().join(format!("sealcheck-labels-{}", std::process::id()));
        let images = dir.join("set");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::write(images.join("a.jpg"), b"jpeg").unwrap();
        std::fs::write(images.join("b.jpg"), b"jpeg").unwrap();
        let regions = r####"[{"transcription": "甲方", "points": [[0,0],[9,0],[9,4],[0,4]], "difficult": false}, {"transcription": "###", "points": [[0,5],[9,5],[9,9],[0,9]]}]"####;
        let text = format!("set/a.jpg\t{regions}\n\nb.jpg\t[]\n");
        std::fs::write(images.join("Label.txt"), text).unwrap();
        let samples = labels(&images.join("Label.txt")).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!((samples[0].id.as_str(), samples[0].visible.clone()), ("a.jpg", vec!["甲方".to_owned()]));
        assert_eq!(samples[0].image, dir.join("set/a.jpg"), "PPOCRLabel's path, from the folder above");
        assert_eq!(samples[1].image, images.join("b.jpg"), "else from the label file's folder");
        assert!(samples[1].visible.is_empty() && samples[1].case.is_none());
        assert_eq!(samples[0].load().unwrap().0, b"jpeg");

        std::fs::write(images.join("Bad.txt"), "set/a.jpg [no tab]\n").unwrap();
        assert!(matches!(labels(&images.join("Bad.txt")), Err(LabelError::Shape { line: 1, .. })));
        std::fs::write(images.join("Bad.txt"), "set/a.jpg\t[{\"text\": 1}]\n").unwrap();
        assert!(matches!(labels(&images.join("Bad.txt")), Err(LabelError::Json { line: 1, .. })));
        std::fs::write(images.join("Bad.txt"), "\n").unwrap();
        assert!(matches!(labels(&images.join("Bad.txt")), Err(LabelError::Empty { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
