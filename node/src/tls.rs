//! HTTPS for the RPC (`rpc_tls_cert` and `rpc_tls_key` in `config.toml`), as CometBFT's
//! `tls_cert_file`/`tls_key_file`: a phone's browser checks a verify answer's proof with
//! WebCrypto, which it offers only on a secure page, so a node that serves the consumer
//! page to phones directly must serve it over HTTPS (behind a TLS-terminating proxy it
//! need not; see `rpc_forwarded_for`).
//!
//! rustls with the ring provider (both already built for libp2p's QUIC), TLS 1.2 and 1.3,
//! ALPN `http/1.1`. Handshakes run concurrently, each with a deadline, so a slow
//! or silent client holds up no one else; a failed handshake is logged and dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tracing::debug;

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; further connections wait in the kernel's backlog.
pub const HANDSHAKES_MAX: usize = 256;

/// Why the RPC's TLS settings cannot be used: the node refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("rpc_tls_cert {path}: {message}")]
    Cert { path: String, message: String },
    #[error("rpc_tls_key {path}: {message}")]
    Key { path: String, message: String },
    #[error("rpc_tls_cert and rpc_tls_key: {0}")]
    Pair(String),
}

/// The server settings from a PEM certificate chain (leaf first) and its PEM private key
/// (PKCS#8, PKCS#1 or SEC1).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_error = |message: String| TlsError::Cert {
        path: cert.display().to_string(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error(
            "holds no certificate (PEM `CERTIFICATE` blocks)".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Pair(e.to_string()))?;
    // HTTP/1.1 only: the RPC's server is built without HTTP/2, and a client offered `h2`
    // would speak it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener whose connections are TLS sessions, for `axum::serve`.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts on `tcp` and completes handshakes with `config` in the background.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (done, ready) = mpsc::channel(HANDSHAKES_MAX);
        let permits = Arc::new(Semaphore::new(HANDSHAKES_MAX));
        let task = tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, as axum's listener does.
                        debug!(%error, "RPC accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if done.is_closed() {
                    return;
                }
                let (acceptor, done) = (acceptor.clone(), done.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(session)) => {
                            let _ = done.send((session, peer)).await;
                        }
                        Ok(Err(error)) => debug!(%peer, %error, "RPC TLS handshake failed"),
                        Err(_) => debug!(%peer, "RPC TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { local, ready, task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(session) => session,
            // The accepting task ended (aborted): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::TlsConnector;

    use super::*;

    /// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`; returns
    /// their paths and the certificate's DER.
    fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("certificate");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, made.cert.pem()).expect("write cert");
        std::fs::write(&key, made.key_pair.serialize_pem()).expect("write key");
        (cert, key, made.cert.der().to_vec())
    }

    /// An HTTPS server of one route answering the client's address, as the RPC is served.
    async fn server(config: Arc<rustls::ServerConfig>) -> SocketAddr {
        use axum::serve::ListenerExt;
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let listener = TlsListener::new(tcp, config).expect("listener");
        let local = axum::serve::Listener::local_addr(&listener).expect("address");
        let app = axum::Router::new()
            .route(
                "/who",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener.tap_io(|_| {}), app).await });
        local
    }

    /// GET `/who` over TLS, trusting `cert`; the raw HTTP/1.1 response.
    async fn get_who(at: SocketAddr, cert: &[u8]) -> std::io::Result<String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(cert.to_vec()))
            .expect("trust the test certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        // As a browser offers: the server must pick HTTP/1.1, the one it speaks.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tcp = TcpStream::connect(at).await?;
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        tls.write_all(b"GET /who HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut out = String::new();
        tls.read_to_string(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn test_the_rpc_answers_over_https_and_a_bad_client_holds_no_one_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key, der) = self_signed(dir.path());
        let at = server(server_config(&cert, &key).expect("config")).await;

        // A client that connects and says nothing, and one that speaks plain HTTP: neither
        // keeps the next client waiting.
        let _silent = TcpStream::connect(at).await.expect("connect");
        let mut plain = TcpStream::connect(at).await.expect("connect");
        plain
            .write_all(b"GET /who HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
        assert!(
            !String::from_utf8_lossy(&answer).contains("200 OK"),
            "plain HTTP is not served on the HTTPS port"
        );

        let response = tokio::time::timeout(Duration::from_secs(5), get_who(at, &der))
            .await
            .expect("answered in time")
            .expect("HTTPS request");
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(
            response.contains("127.0.0.1:"),
            "the handler sees the client's address: {response}"
        );

        // A client that does not trust the certificate gets no answer.
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("other");
        assert!(get_who(at, other.cert.der()).await.is_err());
    }

    #[test]
    fn test_unusable_tls_files_are_refused_with_their_setting_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key, _) = self_signed(dir.path());
        let missing = dir.path().join("missing.pem");
        let error = server_config(&missing, &key).expect_err("no cert file");
        assert!(error.to_string().starts_with("rpc_tls_cert "), "{error}");
        // A key where the certificate should be, and the reverse.
        let error = server_config(&key, &key).expect_err("no certificate in it");
        assert!(
            error.to_string().contains("holds no certificate"),
            "{error}"
        );
        let error = server_config(&cert, &cert).expect_err("no key in it");
        assert!(error.to_string().starts_with("rpc_tls_key "), "{error}");
        assert!(server_config(&cert, &key).is_ok());
    }
}
