//! The server's credentials from files: bearer tokens and TLS material, read again when
//! the files change.
//!
//! A Kubernetes Secret mounted as a volume is updated in place by swapping a symlink, with
//! no signal to the process, so each file set is polled: its bytes are hashed every few
//! seconds and parsed again when the hash changes (a changed mtime alone would miss a
//! symlink swap to a file with an older mtime). SIGHUP reloads at once. A file set that no
//! longer parses (caught in mid-write, or broken) keeps the credentials it had, with a
//! warning, and is tried again at the next poll.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::{info, warn};

use crate::error::sentence;

/// Why credentials could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("{}, line {line}: expected `name:token`, with neither empty", path.display())]
    TokenLine { path: PathBuf, line: usize },
    #[error("{} holds no token", .0.display())]
    NoTokens(PathBuf),
    #[error("{} holds no PEM {what}", path.display())]
    Pem {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: Option<rustls::pki_types::pem::Error>,
    },
    #[error("the TLS material does not make a server configuration")]
    Tls(#[from] rustls::Error),
    #[error("the client CA does not make a certificate verifier")]
    ClientCa(#[from] rustls::server::VerifierBuilderError),
}

/// Parses a file set's bytes (in the order of its paths, which name the files in errors).
pub type Parse<T> = fn(&[PathBuf], &[Vec<u8>]) -> Result<T, CredentialError>;

/// Something parsed from files, and the hash of the bytes it was parsed from.
pub struct Watched<T> {
    what: &'static str,
    paths: Vec<PathBuf>,
    parse: Parse<T>,
    state: RwLock<(Arc<T>, [u8; 32])>,
}

impl<T: Send + Sync + 'static> Watched<T> {
    /// Read and parse `paths`; `what` names them in the log.
    pub fn load(what: &'static str, paths: Vec<PathBuf>, parse: Parse<T>) -> Result<Self, CredentialError> {
        let bytes = read_all(&paths)?;
        let value = parse(&paths, &bytes)?;
        Ok(Self { what, state: RwLock::new((Arc::new(value), digest(&bytes))), paths, parse })
    }

    pub fn current(&self) -> Arc<T> {
        Arc::clone(&self.state.read().unwrap_or_else(|p| p.into_inner()).0)
    }

    /// Read the files again and parse them when their bytes changed (or always, when
    /// `forced`); whether the value changed.
    pub fn refresh(&self, forced: bool) -> Result<bool, CredentialError> {
        let bytes = read_all(&self.paths)?;
        let hash = digest(&bytes);
        if !forced && hash == self.state.read().unwrap_or_else(|p| p.into_inner()).1 {
            return Ok(false);
        }
        let value = (self.parse)(&self.paths, &bytes)?;
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = (Arc::new(value), hash);
        Ok(true)
    }
}

/// A file set the reloading task refreshes.
pub trait Refresh: Send + Sync {
    /// Refresh, logging the outcome.
    fn refresh_logged(&self, trigger: &'static str, forced: bool);
}

impl<T: Send + Sync + 'static> Refresh for Watched<T> {
    fn refresh_logged(&self, trigger: &'static str, forced: bool) {
        match self.refresh(forced) {
            Ok(true) => info!(what = self.what, trigger, "credentials reloaded"),
            Ok(false) => {}
            Err(e) => {
                warn!(what = self.what, trigger, error = %sentence(&e), "credentials not reloaded; the previous ones stay")
            }
        }
    }
}

/// Refresh `watched` every `every` (never when zero) and at once on SIGHUP, for as long as
/// the runtime runs.
pub async fn keep_fresh(watched: Vec<Arc<dyn Refresh>>, every: Duration) {
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            warn!(error = %e, "no SIGHUP handler: credentials are reloaded only when their files change");
            None
        }
    };
    let mut ticks = (!every.is_zero()).then(|| {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    loop {
        let forced = tokio::select! {
            Some(()) = async { hangup.as_mut()?.recv().await } => true,
            Some(_) = async { Some(ticks.as_mut()?.tick().await) } => false,
            else => return,
        };
        let trigger = if forced { "SIGHUP" } else { "file change" };
        for item in &watched {
            item.refresh_logged(trigger, forced);
        }
    }
}

/// The bearer tokens a server accepts, each by its name; only their SHA-256 is kept.
pub struct Tokens(Vec<(String, [u8; 32])>);

impl Tokens {
    /// Parse a token file: one `name:token` a line; blank lines and `#` comments skipped.
    pub fn parse(paths: &[PathBuf], bytes: &[Vec<u8>]) -> Result<Tokens, CredentialError> {
        let path = &paths[0];
        let text = String::from_utf8_lossy(&bytes[0]);
        let mut tokens = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((name, token)) if !name.trim().is_empty() && !token.trim().is_empty() => {
                    tokens.push((name.trim().to_string(), Sha256::digest(token.trim().as_bytes()).into()))
                }
                _ => return Err(CredentialError::TokenLine { path: path.clone(), line: i + 1 }),
            }
        }
        if tokens.is_empty() {
            return Err(CredentialError::NoTokens(path.clone()));
        }
        Ok(Tokens(tokens))
    }

    /// The name of `presented`, if it is one of the tokens. Digests of equal length are
    /// compared, each in constant time and all of them every time, so neither the
    /// timing nor the length of a guess tells how close it came.
    pub fn name_of(&self, presented: &str) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (name, known) in &self.0 {
            if bool::from(known.ct_eq(&digest)) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

/// The server's TLS files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's own first.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// The CA whose certificates clients must present (mutual TLS); `None` asks for none.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    pub fn paths(&self) -> Vec<PathBuf> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()].into_iter().flatten().cloned().collect()
    }

    /// A rustls server configuration from the files' bytes (in the order of [`paths`]),
    /// offering HTTP/2 only, as gRPC needs.
    ///
    /// [`paths`]: TlsFiles::paths
    pub fn parse(paths: &[PathBuf], bytes: &[Vec<u8>]) -> Result<ServerConfig, CredentialError> {
        let certs = certificates(&paths[0], &bytes[0])?;
        let key = PrivateKeyDer::from_pem_slice(&bytes[1]).map_err(|e| CredentialError::Pem {
            path: paths[1].clone(),
            what: "private key",
            source: Some(e),
        })?;
        let builder = ServerConfig::builder();
        let builder = match (paths.get(2), bytes.get(2)) {
            (Some(path), Some(ca)) => {
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(certificates(path, ca)?);
                builder.with_client_cert_verifier(WebPkiClientVerifier::builder(roots.into()).build()?)
            }
            _ => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(config)
    }
}

/// The certificates of a PEM file, at least one.
fn certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, CredentialError> {
    let pem = |source| CredentialError::Pem { path: path.to_path_buf(), what: "certificate", source };
    let certs = CertificateDer::pem_slice_iter(bytes).collect::<Result<Vec<_>, _>>().map_err(|e| pem(Some(e)))?;
    if certs.is_empty() {
        return Err(pem(None));
    }
    Ok(certs)
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, CredentialError> {
    paths.iter().map(|p| std::fs::read(p).map_err(|e| CredentialError::Read(p.clone(), e))).collect()
}

fn digest(bytes: &[Vec<u8>]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for file in bytes {
        hash.update((file.len() as u64).to_le_bytes());
        hash.update(file);
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Result<Tokens, CredentialError> {
        Tokens::parse(&[PathBuf::from("tokens")], &[text.as_bytes().to_vec()])
    }

    #[test]
    fn tokens_are_known_by_name_and_a_byte_off_is_unknown() {
        let tokens = tokens("# rotation\nbackend:s3cret-one\n\nauditor: s3cret-two \n").unwrap();
        assert_eq!(tokens.name_of("s3cret-one"), Some("backend"));
        assert_eq!(tokens.name_of("s3cret-two"), Some("auditor"));
        assert_eq!(tokens.name_of("s3cret-onf"), None);
        assert_eq!(tokens.name_of(""), None);
    }

    #[test]
    fn a_bad_token_file_names_its_line_and_never_its_token() {
        let e = tokens("backend:ok\njust-a-secret\n").err().unwrap();
        assert_eq!(e.to_string(), "tokens, line 2: expected `name:token`, with neither empty");
        assert!(matches!(tokens("\n# none\n"), Err(CredentialError::NoTokens(_))));
    }

    /// A token file holding `a:one` in a scratch folder named after `test`, and its tokens.
    fn watched(test: &str) -> (PathBuf, Arc<Watched<Tokens>>) {
        let dir = std::env::temp_dir().join(format!("sealcheck-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens");
        std::fs::write(&path, "a:one\n").unwrap();
        let watched = Watched::load("tokens", vec![path.clone()], Tokens::parse).unwrap();
        (path, Arc::new(watched))
    }

    #[test]
    fn a_changed_file_is_parsed_again_and_a_broken_one_keeps_the_old_value() {
        let (path, watched) = watched("watched");
        assert!(!watched.refresh(false).unwrap(), "unchanged bytes are not parsed again");
        std::fs::write(&path, "a:one\nb:two\n").unwrap();
        assert!(watched.refresh(false).unwrap());
        assert_eq!(watched.current().name_of("two"), Some("b"));
        std::fs::write(&path, "broken\n").unwrap();
        assert!(watched.refresh(false).is_err());
        assert_eq!(watched.current().name_of("two"), Some("b"), "the previous tokens stay");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn the_polling_task_picks_up_a_changed_file_without_a_signal() {
        let (path, watched) = watched("polled");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            tokio::spawn(keep_fresh(vec![watched.clone() as Arc<dyn Refresh>], Duration::from_millis(20)));
            std::fs::write(&path, "b:two\n").unwrap();
            let started = std::time::Instant::now();
            while watched.current().name_of("two").is_none() {
                assert!(started.elapsed() < Duration::from_secs(10), "the change was not picked up");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        assert_eq!(watched.current().name_of("one"), None);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
