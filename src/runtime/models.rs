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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ndarray::{Array4, ArrayD};
use ort::environment::Environment;
use ort::ep::ArbitrarilyConfigurableExecutionProvider;
use ort::memory::Allocator;
use ort::session::{Session, builder::GraphOptimizationLevel};
use ort::value::{Tensor, TensorRef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::backend::{Backend, Execution, Executions, Library, Precision, Role};
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
    /// One library per process: a configuration that needs OpenVINO cannot follow one that
    /// loaded the CPU-only library.
    #[error(
        "the openvino backend needs the onnxruntime-openvino library, but this process loaded {loaded}; run it in a process of its own"
    )]
    OtherRuntime { loaded: String },
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
    /// The wheel it comes from (`package`: `name==version`).
    #[serde(default, deserialize_with = "package_of")]
    source: String,
}

/// A file's wheel, from its `source` entry.
fn package_of<'de, D: serde::Deserializer<'de>>(source: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    struct Source {
        package: String,
    }
    Ok(Source::deserialize(source)?.package)
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
        let det = session(runtime, threads, Role::Det, "det", &self.det)?;
        let cls = session(runtime, threads, Role::Cls, "cls", &self.cls)?;
        let rec = session(runtime, threads, Role::Rec, "rec", &self.rec.model)?;
        let dictionary = Arc::new(self.dictionary(&rec.session, &self.rec)?);
        Ok(Sessions { det, cls, rec, dictionary })
    }

    /// How each of the set's model files runs under `executions`, by the file's role.
    pub fn executions(&self, executions: &Executions) -> std::collections::BTreeMap<String, Execution> {
        let roles = [("det", Role::Det), ("cls", Role::Cls), ("rec", Role::Rec)];
        let opinions = self.second_opinion_roles().map(|role| (role, Role::Opinions));
        roles.into_iter().chain(opinions).map(|(file, role)| (file.to_owned(), executions.get(role))).collect()
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
                let rec = session(runtime, threads, Role::Opinions, "second opinion's rec", &files.model)?;
                let dictionary = Arc::new(self.dictionary(&rec.session, files)?);
                Ok(Recogniser { rec, dictionary })
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

fn session(
    runtime: &RuntimeConfig,
    threads: usize,
    role: Role,
    model: &'static str,
    path: &Path,
) -> Result<Model, ModelError> {
    let executions = runtime.executions.effective();
    let env = environment(executions.library())?;
    let execution = executions.get(role);
    session_builder(env, runtime, role, execution, threads)
        .and_then(|mut builder| builder.commit_from_file(path))
        .map(|session| Model::new(session, execution))
        .map_err(|source| ModelError::Session { model, source })
}

fn session_builder(
    env: &Environment,
    runtime: &RuntimeConfig,
    role: Role,
    execution: Execution,
    threads: usize,
) -> ort::Result<ort::session::builder::SessionBuilder> {
    let provider = match execution.backend {
        Backend::Cpu => ort::ep::CPU::default().with_arena_allocator(runtime.arena).build(),
        Backend::OpenVino => ort::ep::OpenVINO::default()
            .with_device_type("CPU")
            .with_num_threads(threads)
            .with_arbitrary_config("load_config", openvino_config(role, execution.precision))
            .build(),
    };
    // Without it, a provider that cannot take the model falls back to the CPU provider
    // silently, and a result would name a backend it did not run on.
    let mut builder = Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::All)?
        .with_memory_pattern(runtime.memory_pattern)?
        .with_intra_op_spinning(runtime.spinning)?
        .with_execution_providers([provider.error_on_failure()])?;
    builder = builder.with_intra_threads(threads)?;
    if runtime.inter_threads > 0 {
        builder = builder.with_inter_threads(runtime.inter_threads)?;
    }
    Ok(builder)
}

/// OpenVINO's CPU plugin settings for a model of `role` (its `load_config`).
///
/// - Threads are not pinned. The plugin pins a session's threads to cores counted from the
///   first, so the 1-thread sessions of two workers would share one core: two such
///   recognition sessions side by side ran ×0.95 of one; unpinned, ×1.86.
/// - The detector keeps no runtime cache. The plugin caches what it builds for each input
///   shape, and each capture size is a detection shape of its own, so that resident memory
///   grew +44 % from 100 to 1000 rescaled images. A detector without its cache read the
///   timed `test` captures (182 detection shapes) as fast. Recognition and classification,
///   whose shapes are a few dozen buckets, keep theirs: without it they ran about 15 % slower.
fn openvino_config(role: Role, precision: Precision) -> String {
    let mut cpu = serde_json::json!({ "ENABLE_CPU_PINNING": "NO" });
    if role == Role::Det {
        cpu["CPU_RUNTIME_CACHE_CAPACITY"] = "0".into();
    }
    if precision == Precision::Bf16 {
        cpu["INFERENCE_PRECISION_HINT"] = "bf16".into();
    }
    serde_json::json!({ "CPU": cpu }).to_string()
}

/// The path of the ONNX Runtime library `library`, and what provenance calls it:
/// `SEALCHECK_ORT_LIB` if set, else the one `models/runtime.json` names, with the files it
/// loads beside itself verified too.
pub fn runtime_library(library: Library) -> Result<(PathBuf, String), ModelError> {
    if let Some(path) = std::env::var_os("SEALCHECK_ORT_LIB") {
        let path = PathBuf::from(path);
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        return Ok((path, name));
    }
    let root = bundled_models_root();
    let manifest = read_manifest(&root.join("runtime.json"))?;
    let entry = manifest.files.get(library.entry()).ok_or_else(|| ModelError::Manifest {
        path: root.join("runtime.json"),
        problem: format!("no `{}` file", library.entry()),
    })?;
    let beside = format!("{}.", library.entry());
    for (_, companion) in manifest.files.iter().filter(|(name, _)| name.starts_with(&beside)) {
        verified(&root, companion)?;
    }
    Ok((verified(&root, entry)?, entry.source.clone()))
}

/// The ONNX Runtime library this process loaded: which one, and its wheel and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedRuntime {
    pub library: Library,
    /// Its wheel and version (`onnxruntime-openvino==1.24.1`), or its file name when
    /// `SEALCHECK_ORT_LIB` chose it.
    pub name: String,
}

static ENV: OnceLock<(LoadedRuntime, Result<Environment, Arc<RuntimeError>>)> = OnceLock::new();

/// Load the ONNX Runtime library `library` unless one is loaded already, and say which one
/// the process runs on. A process that will run several configurations (an evaluation's
/// candidates) calls this first with the library that serves them all.
pub fn load_runtime(library: Library) -> Result<&'static LoadedRuntime, ModelError> {
    let (loaded, env) = ENV.get_or_init(|| {
        let (path, name) = match runtime_library(library) {
            Ok(found) => found,
            Err(e) => {
                return (LoadedRuntime { library, name: String::new() }, Err(Arc::new(RuntimeError::Manifest(e))));
            }
        };
        let env = ort::init_from(&path)
            .map_err(|source| Arc::new(RuntimeError::Library { path: path.clone(), source }))
            .and_then(|builder| {
                builder.with_name("sealcheck").build().map_err(|e| Arc::new(RuntimeError::Environment(e)))
            });
        (LoadedRuntime { library, name }, env)
    });
    env.as_ref().map(|_| loaded).map_err(|e| ModelError::Runtime(Arc::clone(e)))
}

/// The ONNX Runtime library this process loaded, if it loaded one yet.
pub fn loaded_runtime() -> Option<&'static LoadedRuntime> {
    ENV.get().map(|(loaded, _)| loaded)
}

/// The process-wide ONNX Runtime environment, on a library that can run `library`'s
/// providers: the OpenVINO library also runs the CPU provider, not the other way round.
fn environment(library: Library) -> Result<&'static Environment, ModelError> {
    let loaded = load_runtime(library)?;
    if library == Library::OpenVino && loaded.library != library {
        return Err(ModelError::OtherRuntime { loaded: loaded.name.clone() });
    }
    match &ENV.get().expect("load_runtime initialised it").1 {
        Ok(env) => Ok(env),
        Err(e) => Err(ModelError::Runtime(Arc::clone(e))),
    }
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

/// One ONNX session, how it runs, the time spent running it and the input shapes it met.
pub struct Model {
    session: Session,
    execution: Execution,
    spent: Duration,
    shapes: BTreeSet<[usize; 4]>,
}

impl Model {
    fn new(session: Session, execution: Execution) -> Self {
        Self { session, execution, spent: Duration::ZERO, shapes: BTreeSet::new() }
    }

    /// The backend and precision it runs with.
    pub fn execution(&self) -> Execution {
        self.execution
    }

    /// The distinct input shapes it has run since the last call: OpenVINO runs each new
    /// one slowly once.
    pub fn take_shapes(&mut self) -> BTreeSet<[usize; 4]> {
        std::mem::take(&mut self.shapes)
    }

    /// Time spent inside the runtime since the last call.
    pub fn take_spent(&mut self) -> Duration {
        std::mem::take(&mut self.spent)
    }

    /// Run a single-input, single-output model and copy the output out of the session.
    pub fn run(&mut self, input: &Array4<f32>) -> ort::Result<ArrayD<f32>> {
        let start = Instant::now();
        let (n, c, h, w) = input.dim();
        self.shapes.insert([n, c, h, w]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu_settings(role: Role, precision: Precision) -> serde_json::Value {
        let config: serde_json::Value = serde_json::from_str(&openvino_config(role, precision)).unwrap();
        config["CPU"].clone()
    }

    #[test]
    fn openvino_never_pins_threads_and_only_the_detector_drops_its_shape_cache() {
        for role in Role::ALL {
            let cpu = cpu_settings(role, Precision::F32);
            assert_eq!(cpu["ENABLE_CPU_PINNING"], "NO", "{role:?}");
            assert_eq!(cpu.get("INFERENCE_PRECISION_HINT"), None, "{role:?}");
            let cache = cpu.get("CPU_RUNTIME_CACHE_CAPACITY");
            assert_eq!(cache.is_some(), role == Role::Det, "{role:?}");
        }
        assert_eq!(cpu_settings(Role::Det, Precision::Bf16)["CPU_RUNTIME_CACHE_CAPACITY"], "0");
        assert_eq!(cpu_settings(Role::Rec, Precision::Bf16)["INFERENCE_PRECISION_HINT"], "bf16");
    }
}
