//! Model sets, the ONNX Runtime library, and the sessions a worker owns.
//!
//! A model set is a directory with a `modelset.json` naming its det, cls and rec files,
//! their SHA-256, the wheel they come from, and where the recognition dictionary lives
//! (the rec model's metadata or a file). Files are verified when a set is opened, so a
//! missing or swapped model is a one-sentence error, not a wrong answer.
//!
//! A set may name other recognisers (`second_opinions`: each a rec file and its
//! dictionary): models with other errors, which `verify` asks in turn about lines that
//! disagree with the approved text. Only a verifier loads them
//! ([`ModelSet::second_opinions`]), when it starts; `ocr` and `bench` never do.
//!
//! Sessions are not shared: `Session::run` takes `&mut self`, and a worker that owns its
//! [`Sessions`] needs no lock. [`ModelSet`] is the cheap, shareable part. Each session is
//! wrapped in a [`Model`] that keeps the time spent inside the runtime, which is what the
//! pipeline's own overhead is measured against.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ndarray::{Array4, ArrayD};
use ort::environment::Environment;
use ort::memory::Allocator;
use ort::session::{Session, builder::GraphOptimizationLevel};
use ort::value::{Tensor, TensorRef};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::config::RuntimeConfig;
use super::dictionary::Dictionary;

/// What to run when a model or the runtime is missing or corrupt.
pub const SETUP_HINT: &str = "run `python3 scripts/setup.py` to fetch and verify it";

/// Why a model set or the runtime cannot be used. The io, JSON and ONNX Runtime errors
/// behind it are kept as sources.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: missing; {SETUP_HINT}")]
    Missing { path: PathBuf },
    #[error("cannot read {path}; {SETUP_HINT}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: SHA-256 is {found}, expected {expected}; {SETUP_HINT}")]
    Checksum { path: PathBuf, found: String, expected: String },
    #[error("{path} is not a valid manifest")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path} is not a valid manifest: {problem}")]
    Manifest { path: PathBuf, problem: String },
    /// Shared: the runtime is loaded once per process, and every later session reports
    /// the same failure.
    #[error("ONNX Runtime could not be loaded; {SETUP_HINT}")]
    Runtime(#[source] Arc<RuntimeError>),
    #[error("the recognition dictionary of {set} is unusable: {problem}")]
    Dictionary { set: String, problem: String },
    #[error("the recognition dictionary of {set} cannot be read")]
    DictionarySource { set: String, source: DictionarySourceError },
    #[error("{model} model")]
    Session { model: &'static str, source: ort::Error },
}

/// Why the ONNX Runtime library could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("its manifest")]
    Manifest(#[source] ModelError),
    #[error("from {path}")]
    Library { path: PathBuf, source: ort::LoadDynamicError },
    #[error("its environment")]
    Environment(#[source] ort::Error),
}

/// Where a dictionary's text could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DictionarySourceError {
    #[error("the rec model's metadata")]
    Metadata(#[source] ort::Error),
    #[error("its file")]
    File(#[source] std::io::Error),
}

#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    #[serde(default)]
    name: String,
    files: std::collections::BTreeMap<String, FileEntry>,
    #[serde(default)]
    dictionary: Option<DictionarySource>,
    #[serde(default)]
    second_opinions: Vec<OpinionEntry>,
}

/// A recogniser for second opinions: the role of its rec file and its dictionary.
#[derive(Debug, Clone, Deserialize)]
struct OpinionEntry {
    rec: String,
    dictionary: DictionarySource,
}

#[derive(Debug, Clone, Deserialize)]
struct FileEntry {
    path: PathBuf,
    sha256: String,
}

/// Where a recognition model's characters come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum DictionarySource {
    /// A custom metadata key of the rec model.
    Metadata { metadata: String, entries: usize },
    /// One of the set's files, one entry a line.
    File { file: String, entries: usize },
}

/// A verified model set: the shareable, read-only half of an engine.
#[derive(Debug, Clone)]
pub struct ModelSet {
    pub name: String,
    pub dir: PathBuf,
    det: PathBuf,
    cls: PathBuf,
    rec: RecFiles,
    opinions: Vec<RecFiles>,
    /// SHA-256 of each file, by role, for results to say what produced them.
    pub checksums: Vec<(String, String)>,
}

/// A recognition model's role and file, and where its dictionary comes from.
#[derive(Debug, Clone)]
struct RecFiles {
    role: String,
    model: PathBuf,
    dictionary: DictionarySource,
    dictionary_file: Option<PathBuf>,
}

impl RecFiles {
    /// The files of the recogniser in `role`, taken from a set's verified files by `take`.
    fn take(
        role: &str,
        dictionary: DictionarySource,
        take: &mut impl FnMut(&str) -> Result<PathBuf, ModelError>,
    ) -> Result<Self, ModelError> {
        let model = take(role)?;
        let dictionary_file = match &dictionary {
            DictionarySource::File { file, .. } => Some(take(file)?),
            DictionarySource::Metadata { .. } => None,
        };
        Ok(Self { role: role.into(), model, dictionary, dictionary_file })
    }
}

/// One worker's session of a recognition model and the dictionary that goes with it.
pub struct Recogniser {
    pub rec: Model,
    pub dictionary: Arc<Dictionary>,
}

/// The bundled models directory: `./models` when run from the repository, else the one
/// the binary was built from.
pub fn bundled_models_root() -> PathBuf {
    let local = PathBuf::from("models");
    if local.join("runtime.json").is_file() { local } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("models") }
}

/// The bytes of a set's file; a missing file is named as such.
fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ModelError::Missing { path: path.into() },
        _ => ModelError::Read { path: path.into(), source },
    })
}

fn read_manifest(path: &Path) -> Result<Manifest, ModelError> {
    serde_json::from_slice(&read(path)?).map_err(|source| ModelError::Json { path: path.into(), source })
}

fn verified(dir: &Path, entry: &FileEntry) -> Result<PathBuf, ModelError> {
    let path = dir.join(&entry.path);
    let found = sha256_hex(&read(&path)?);
    if found != entry.sha256 {
        return Err(ModelError::Checksum { path, found, expected: entry.sha256.clone() });
    }
    Ok(path)
}

/// Lowercase hex SHA-256, as the manifests and results write it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl ModelSet {
    /// Open and verify the model set in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        let manifest_path = dir.join("modelset.json");
        let manifest = read_manifest(&manifest_path)?;
        let bad = |problem: String| ModelError::Manifest { path: manifest_path.clone(), problem };
        let dictionary = manifest.dictionary.clone().ok_or_else(|| bad("no `dictionary` entry".into()))?;
        let mut paths = std::collections::BTreeMap::new();
        let mut checksums = Vec::new();
        for (role, entry) in &manifest.files {
            paths.insert(role.as_str(), verified(dir, entry)?);
            checksums.push((role.clone(), entry.sha256.clone()));
        }
        let mut take = |role: &str| paths.remove(role).ok_or_else(|| bad(format!("no `{role}` file")));
        let (det, cls) = (take("det")?, take("cls")?);
        let rec = RecFiles::take("rec", dictionary, &mut take)?;
        let opinions = manifest
            .second_opinions
            .into_iter()
            .map(|opinion| RecFiles::take(&opinion.rec, opinion.dictionary, &mut take))
            .collect::<Result<Vec<_>, _>>()?;
        // A file nothing uses is a manifest mistake (a recogniser left out of `second_opinions`).
        if let Some(role) = paths.keys().next() {
            return Err(bad(format!("nothing uses the `{role}` file")));
        }
        Ok(Self { name: manifest.name, dir: dir.into(), det, cls, rec, opinions, checksums })
    }

    /// Create a fresh set of sessions for one worker.
    pub fn sessions(&self, runtime: &RuntimeConfig, threads: usize) -> Result<Sessions, ModelError> {
        let det = session(runtime, threads, "det", &self.det)?;
        let cls = session(runtime, threads, "cls", &self.cls)?;
        let rec = session(runtime, threads, "rec", &self.rec.model)?;
        let dictionary = Arc::new(self.dictionary(&rec, &self.rec)?);
        Ok(Sessions { det: Model::new(det), cls: Model::new(cls), rec: Model::new(rec), dictionary })
    }

    /// The roles of the rec files of the set's recognisers for second opinions, in the
    /// order they are asked.
    pub fn second_opinion_roles(&self) -> impl Iterator<Item = &str> {
        self.opinions.iter().map(|files| files.role.as_str())
    }

    /// Sessions of the set's recognisers for second opinions, for one worker, in order.
    pub fn second_opinions(&self, runtime: &RuntimeConfig, threads: usize) -> Result<Vec<Recogniser>, ModelError> {
        self.opinions
            .iter()
            .map(|files| {
                let rec = session(runtime, threads, "second opinion's rec", &files.model)?;
                let dictionary = Arc::new(self.dictionary(&rec, files)?);
                Ok(Recogniser { rec: Model::new(rec), dictionary })
            })
            .collect()
    }

    fn dictionary(&self, rec: &Session, files: &RecFiles) -> Result<Dictionary, ModelError> {
        let fail = |problem: String| ModelError::Dictionary { set: self.name.clone(), problem };
        let unread = |source| ModelError::DictionarySource { set: self.name.clone(), source };
        let (text, expected) = match (&files.dictionary, &files.dictionary_file) {
            (DictionarySource::Metadata { metadata, entries }, _) => {
                let meta = rec.metadata().map_err(|e| unread(DictionarySourceError::Metadata(e)))?;
                let text = meta.custom(metadata).ok_or_else(|| fail(format!("no metadata key `{metadata}`")))?;
                (text, *entries)
            }
            (DictionarySource::File { entries, .. }, Some(path)) => {
                (std::fs::read_to_string(path).map_err(|e| unread(DictionarySourceError::File(e)))?, *entries)
            }
            (DictionarySource::File { file, .. }, None) => return Err(fail(format!("file `{file}` not found"))),
        };
        let dictionary = Dictionary::parse(&text);
        if dictionary.entries() != expected {
            return Err(fail(format!("{} entries, the manifest says {expected}", dictionary.entries())));
        }
        Ok(dictionary)
    }
}

fn session(runtime: &RuntimeConfig, threads: usize, model: &'static str, path: &Path) -> Result<Session, ModelError> {
    session_builder(environment()?, runtime, threads)
        .and_then(|mut builder| builder.commit_from_file(path))
        .map_err(|source| ModelError::Session { model, source })
}

fn session_builder(
    env: &Environment,
    runtime: &RuntimeConfig,
    threads: usize,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    let cpu = ort::ep::CPU::default().with_arena_allocator(runtime.arena).build();
    let mut builder = Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::All)?
        .with_memory_pattern(runtime.memory_pattern)?
        .with_execution_providers([cpu])?;
    builder = builder.with_intra_threads(threads)?;
    if runtime.inter_threads > 0 {
        builder = builder.with_inter_threads(runtime.inter_threads)?;
    }
    Ok(builder)
}

/// The path of the ONNX Runtime library: `SEALCHECK_ORT_LIB` if set, else the one
/// `models/runtime.json` names.
pub fn runtime_library() -> Result<PathBuf, ModelError> {
    if let Some(path) = std::env::var_os("SEALCHECK_ORT_LIB") {
        return Ok(path.into());
    }
    let root = bundled_models_root();
    let manifest = read_manifest(&root.join("runtime.json"))?;
    let entry = manifest
        .files
        .get("runtime")
        .ok_or_else(|| ModelError::Manifest { path: root.join("runtime.json"), problem: "no `runtime` file".into() })?;
    verified(&root, entry)
}

/// The process-wide ONNX Runtime environment, loaded once from [`runtime_library`].
fn environment() -> Result<&'static Environment, ModelError> {
    static ENV: OnceLock<Result<Environment, Arc<RuntimeError>>> = OnceLock::new();
    let loaded = ENV.get_or_init(|| {
        let path = runtime_library().map_err(RuntimeError::Manifest)?;
        let builder = ort::init_from(&path).map_err(|source| RuntimeError::Library { path: path.clone(), source })?;
        Ok(builder.with_name("sealcheck").build().map_err(RuntimeError::Environment)?)
    });
    loaded.as_ref().map_err(|e| ModelError::Runtime(Arc::clone(e)))
}

/// One worker's ONNX sessions and the dictionary that goes with its rec model.
pub struct Sessions {
    pub det: Model,
    pub cls: Model,
    pub rec: Model,
    pub dictionary: Arc<Dictionary>,
}

impl Sessions {
    /// Time spent inside the runtime by all three models since the last call.
    pub fn take_model_time(&mut self) -> Duration {
        [&mut self.det, &mut self.cls, &mut self.rec].into_iter().map(Model::take_spent).sum()
    }
}

/// One ONNX session and the time spent running it.
pub struct Model {
    session: Session,
    spent: Duration,
}

impl Model {
    fn new(session: Session) -> Self {
        Self { session, spent: Duration::ZERO }
    }

    /// Time spent inside the runtime since the last call.
    pub fn take_spent(&mut self) -> Duration {
        std::mem::take(&mut self.spent)
    }

    /// Run a single-input, single-output model and copy the output out of the session.
    pub fn run(&mut self, input: &Array4<f32>) -> ort::Result<ArrayD<f32>> {
        let start = Instant::now();
        let outputs = self.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
        let (_, value) = outputs.iter().next().ok_or_else(|| ort::Error::new("the model produced no output"))?;
        let output = value.try_extract_array::<f32>()?.to_owned();
        self.spent += start.elapsed();
        Ok(output)
    }

    /// Run on an input of `shape` that the runtime allocates itself, uninitialised: the
    /// fault tests' tensor too large to allocate (`verify::faults`), refused with an error.
    pub(crate) fn run_allocated(&mut self, shape: [usize; 4]) -> ort::Result<()> {
        let input = Tensor::<f32>::new(&Allocator::default(), shape)?;
        self.session.run(ort::inputs![input])?;
        Ok(())
    }
}
