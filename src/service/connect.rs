//! The client's side of a connection: TLS with the caller's CA and certificate, and the
//! bearer token on every call. Every command that calls a service connects here.

use std::path::{Path, PathBuf};

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use super::pb::seal_check_service_client::SealCheckServiceClient;
use super::tls::install_crypto_provider;

/// How a client proves itself and checks the server; every file is PEM but the token's.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// The CA that signed the server's certificate; given, the connection is TLS.
    pub ca: Option<PathBuf>,
    /// The client's certificate and key, for a server that asks for one (mutual TLS).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// A file holding the bearer token alone (surrounding whitespace ignored).
    pub token_file: Option<PathBuf>,
}

/// Why no connection was made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("`{0}` is not a server URL")]
    Url(String),
    #[error("`{0}` is not an https:// URL, which TLS (--ca, --cert) needs")]
    NotHttps(String),
    #[error("an https:// server needs --ca, the CA that signed its certificate")]
    NoCa,
    #[error("--cert and --key go together")]
    Pair,
    #[error("cannot read {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("{} holds no token that can be sent as metadata (printable ASCII)", .0.display())]
    Token(PathBuf),
    #[error("cannot reach the server at {server}")]
    Transport {
        server: String,
        #[source]
        source: tonic::transport::Error,
    },
}

/// The API's client with the token on every call.
pub type Client = SealCheckServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer <token>` to every call, when there is a token.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// An open connection to a service.
#[derive(Clone)]
pub struct Connection {
    /// For other services on the same server (health).
    pub channel: Channel,
    pub bearer: Bearer,
}

impl Connection {
    /// The API's client; annotated captures run to megabytes, above tonic's 4 MiB default.
    pub fn api(&self) -> Client {
        SealCheckServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(64 << 20)
    }
}

/// Connect to `server` (`http://` or `https://HOST:PORT`) with `credentials`.
pub async fn connect(server: &str, credentials: &ClientCredentials) -> Result<Connection, ConnectError> {
    install_crypto_provider();
    let mut endpoint = Channel::from_shared(server.to_string()).map_err(|_| ConnectError::Url(server.into()))?;
    let https = server.starts_with("https://");
    if credentials.ca.is_some() || credentials.cert.is_some() || https {
        if !https {
            return Err(ConnectError::NotHttps(server.into()));
        }
        let ca = credentials.ca.as_deref().ok_or(ConnectError::NoCa)?;
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
        match (&credentials.cert, &credentials.key) {
            (Some(cert), Some(key)) => tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?)),
            (None, None) => {}
            _ => return Err(ConnectError::Pair),
        }
        endpoint =
            endpoint.tls_config(tls).map_err(|source| ConnectError::Transport { server: server.into(), source })?;
    }
    let bearer = Bearer(credentials.token_file.as_deref().map(token).transpose()?);
    let channel =
        endpoint.connect().await.map_err(|source| ConnectError::Transport { server: server.into(), source })?;
    Ok(Connection { channel, bearer })
}

/// The `authorization` value of the token in `path`.
fn token(path: &Path) -> Result<MetadataValue<Ascii>, ConnectError> {
    let bytes = read(path)?;
    let token = std::str::from_utf8(&bytes).map(str::trim).unwrap_or_default();
    if token.is_empty() {
        return Err(ConnectError::Token(path.into()));
    }
    format!("Bearer {token}").parse().map_err(|_| ConnectError::Token(path.into()))
}

fn read(path: &Path) -> Result<Vec<u8>, ConnectError> {
    std::fs::read(path).map_err(|e| ConnectError::Read(path.into(), e))
}
