//! Who may call: the one gate every call passes, as a tower layer over the whole server.
//!
//! With tokens configured, a call needs `authorization: Bearer <token>` naming one of them,
//! or it is UNAUTHENTICATED with a message that says which of the two was wrong (missing, or
//! not accepted), never the token. Health checks are exempt, so that orchestrators and load
//! balancers can probe; reflection is not, since it describes the API to whoever asks.
//! Without tokens every call passes. Either way the gate records the [`Caller`] (the token's
//! name, the client certificate's subject under mutual TLS) in the request's extensions,
//! for the audit log.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};
use tower::{Layer, Service};

use super::credentials::{Tokens, Watched};
use super::metrics;

/// Calls to these paths need no token.
const EXEMPT: &str = "/grpc.health.v1.Health/";

/// Who made a call, as far as the server knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// The name of the bearer token presented.
    pub token: Option<String>,
    /// The subject of the client's certificate (mutual TLS), e.g. `CN=auditor`.
    pub certificate: Option<String>,
}

impl Caller {
    /// The caller of `request`, which the gate recorded; `None` outside a served call.
    pub fn of<T>(request: &tonic::Request<T>) -> Caller {
        request.extensions().get::<Caller>().cloned().unwrap_or_default()
    }
}

/// The gate: the tokens accepted, if any.
#[derive(Clone)]
pub struct AuthLayer {
    tokens: Option<Arc<Watched<Tokens>>>,
}

impl AuthLayer {
    pub fn new(tokens: Option<Arc<Watched<Tokens>>>) -> Self {
        Self { tokens }
    }

    /// The caller of `request`, or why it may not call.
    fn admit(&self, request: &http::Request<Body>) -> Result<Caller, Status> {
        let certificate = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|certs| subject(certs.first()?));
        let Some(tokens) = &self.tokens else {
            return Ok(Caller { token: None, certificate });
        };
        if request.uri().path().starts_with(EXEMPT) {
            return Ok(Caller { token: None, certificate });
        }
        let refused = |why: &str| Status::unauthenticated(why);
        let header = request.headers().get(http::header::AUTHORIZATION).ok_or_else(|| {
            refused("no bearer token: this service needs `authorization: Bearer <token>` metadata on every call")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| refused("the `authorization` metadata is not `Bearer <token>`"))?;
        let name = tokens.current().name_of(token.trim()).map(String::from);
        let name = name.ok_or_else(|| refused("the bearer token is not one this service accepts"))?;
        Ok(Caller { token: Some(name), certificate })
    }
}

/// A certificate's subject as an RFC 4514 string.
fn subject(certificate: &[u8]) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    Some(parsed.subject().to_string())
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth { gate: self.clone(), inner }
    }
}

/// A service behind the gate.
#[derive(Clone)]
pub struct Auth<S> {
    gate: AuthLayer,
    inner: S,
}

impl<S> Service<http::Request<Body>> for Auth<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        match self.gate.admit(&request) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                // The clone is ready only after poll_ready; the one that was polled serves.
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(ready.call(request))
            }
            Err(status) => {
                metrics::answered(method(request.uri().path()), Code::Unauthenticated, Duration::ZERO);
                metrics::refused("unauthenticated");
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

/// The methods a refused call is counted under; any other path is `other`, so that
/// made-up paths cannot multiply the metrics' series.
const METHODS: [&str; 6] =
    ["Verify", "VerifyStream", "PrepareApproved", "Recognize", "GetInfo", "ServerReflectionInfo"];

/// A gRPC path's method name (`/pkg.Service/Method` → `Method`), if it is one of [`METHODS`].
fn method(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    METHODS.into_iter().find(|m| *m == name).unwrap_or("other")
}
