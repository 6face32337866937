//! Optional TLS for the HTTP API: rustls (TLS 1.2 and 1.3, the ring provider) with a certificate chain and key
//! from PEM files named in the node's configuration (`[api] tls_cert`, `tls_key`). Without them the API is plain
//! HTTP, for loopback and for deployments that terminate TLS in front of the node.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{ApiState, router};
use crate::cli::files::read_bounded;

/// Largest certificate chain or key file read.
pub const MAX_PEM_BYTES: u64 = 256 * 1024;
/// How long requests in flight may take to finish once the server stops.
const DRAIN: Duration = Duration::from_secs(5);

/// The TLS configuration of a certificate chain and its private key, both PEM. A file that cannot be read, holds
/// no certificate or no key, or a key that does not match the certificate is an error naming the file.
pub fn load(cert_path: &Path, key_path: &Path) -> anyhow::Result<RustlsConfig> {
    let cert_pem = read_bounded(cert_path, MAX_PEM_BYTES, "TLS certificate file")?;
    let key_pem = read_bounded(key_path, MAX_PEM_BYTES, "TLS key file")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("TLS certificate file {}: not PEM certificates: {e}", cert_path.display()))?;
    if chain.is_empty() {
        bail!("TLS certificate file {}: no certificate in it", cert_path.display());
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow!("TLS key file {}: no PEM private key: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider offers no safe protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow!("TLS files {} and {}: unusable together: {e}", cert_path.display(), key_path.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Serves the API over TLS on `listener` until `shutdown` completes: then the event streams and long polls end,
/// the server stops accepting, and requests in flight have a few seconds to finish.
pub async fn serve(
    listener: std::net::TcpListener,
    state: ApiState,
    tls: RustlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = Handle::new();
    let stopping = handle.clone();
    let closing = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        closing.close();
        stopping.graceful_shutdown(Some(DRAIN));
    });
    axum_server::from_tcp_rustls(listener, tls).handle(handle).serve(router(state).into_make_service()).await
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::rpc::bridge::NodeStatus;
    use crate::storage::NodeStore;

    /// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
    fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, CertificateDer<'static>) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
        (cert, key, certified.cert.der().clone())
    }

    /// The API served over TLS answers `/v1/status` to a client that trusts the node's certificate, and the
    /// client's TLS handshake fails against a certificate it does not trust.
    #[test]
    fn the_api_answers_over_tls_to_a_client_that_trusts_its_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = testkit::genesis(1);
        let store = NodeStore::open_with_genesis(&dir.path().join("store"), &genesis).unwrap();
        let (state, _end) = ApiState::with_channels(
            genesis.clone(),
            store.reader(),
            NodeStatus::starting(&genesis, testkit::node("n0")),
        );
        let (cert, key, der) = certificate(dir.path());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let tls = load(&cert, &key).unwrap();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(serve(listener, state, tls, async move {
                let _ = stopped.await;
            }));

            let get = |trusted: CertificateDer<'static>| async move {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(trusted).unwrap();
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
                let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let mut stream = connector.connect(name, tcp).await?;
                stream.write_all(b"GET /v1/status HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer).await?;
                std::io::Result::Ok(answer)
            };
            let answer = get(der).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(answer.contains("\"chain_id\":\"synod-test\""), "{answer}");

            let elsewhere = tempfile::tempdir().unwrap();
            let (_, _, stranger) = certificate(elsewhere.path());
            assert!(get(stranger).await.is_err(), "a client trusting another certificate completed the handshake");

            stop.send(()).unwrap();
            server.await.unwrap().unwrap();
        });
    }

    /// Missing, empty and mismatched certificate and key files are refused with the file named.
    #[test]
    fn bad_tls_files_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, _) = certificate(dir.path());
        let other = tempfile::tempdir().unwrap();
        let (_, other_key, _) = certificate(other.path());
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for (cert_path, key_path, needle) in [
            (dir.path().join("missing.pem"), key.clone(), "missing.pem"),
            (empty.clone(), key.clone(), "no certificate"),
            (cert.clone(), empty.clone(), "no PEM private key"),
            (cert.clone(), other_key, "unusable together"),
        ] {
            let Err(error) = load(&cert_path, &key_path) else { panic!("{needle}: the files were accepted") };
            let error = format!("{error:#}");
            assert!(error.contains(needle), "{error}");
        }
    }
}
