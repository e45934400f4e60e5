//! TLS on the server's listener, with the configuration current at each connection.
//!
//! tonic's own TLS takes its certificate once; here each accepted connection is handshaken
//! with the configuration the credentials hold at that moment, so a renewed certificate or
//! client CA applies to the next connection without a restart. Handshakes run in tasks of
//! their own, so that a slow or silent client never holds up the accept loop.
//!
//! One crypto provider, ring, is compiled in and installed as the process default: with
//! two (ring and aws-lc-rs) rustls cannot choose one and fails at the first handshake.

use std::sync::Arc;
use std::time::Duration;

use rustls::server::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tracing::{info, warn};

use super::credentials::Watched;

/// How long a client has to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Make ring the process's crypto provider (once; later calls do nothing). rustls 0.23.48
/// deprecates it for lacking post-quantum key exchange, which aws-lc-rs has; aws-lc-rs needs
/// cmake and a C toolchain to build, and classical key exchange is what gRPC clients
/// offer today.
#[allow(deprecated)]
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The connections of `listener` once their TLS handshake with the current configuration
/// succeeded; a failed handshake is logged and dropped.
pub fn incoming(
    listener: TcpListener,
    config: Arc<Watched<ServerConfig>>,
) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
    let (connections, incoming) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = connections.closed() => return,
            };
            let (tcp, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, typically: wait for some to close.
                    warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // As on the plaintext listener (`server::no_delay`): no 40 ms wait for an ack.
            if let Err(e) = tcp.set_nodelay(true) {
                warn!(%peer, error = %e, "cannot turn Nagle's algorithm off");
            }
            let acceptor = TlsAcceptor::from(config.current());
            let connections = connections.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = connections.send(Ok(stream)).await;
                    }
                    Ok(Err(e)) => info!(%peer, error = %e, "TLS handshake refused"),
                    Err(_) => info!(%peer, "TLS handshake not finished in time"),
                }
            });
        }
    });
    ReceiverStream::new(incoming)
}
