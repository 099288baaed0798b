//! The TLS client of `tickpipe ctl`: trusts only the certificates in the `--ca` file (no
//! system roots: an operator's engine is not a public web site), checks the server name,
//! and completes the handshake up front so a certificate problem is reported as such.

use std::{net::TcpStream, sync::Arc, time::Duration};

use rustls::{
    pki_types::{pem::PemObject, CertificateDer, ServerName},
    ClientConfig, ClientConnection, RootCertStore, StreamOwned,
};

use super::connect::{SessionError, TlsTarget};

/// A rustls client configuration that trusts exactly the certificates in `target.ca`.
///
/// # Errors
/// [`SessionError::Tls`] naming the file when it cannot be read, holds no certificate,
/// or holds one rustls cannot use as a trust anchor.
pub fn client_config(target: &TlsTarget) -> Result<ClientConfig, SessionError> {
    let ca = target.ca.display();
    let pem = std::fs::read(&target.ca)
        .map_err(|e| SessionError::Tls(format!("cannot read the CA file {ca}: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert =
            cert.map_err(|e| SessionError::Tls(format!("the CA file {ca} is not valid PEM: {e}")))?;
        roots.add(cert).map_err(|e| {
            SessionError::Tls(format!(
                "the CA file {ca} holds a certificate that cannot be trusted: {e}"
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(SessionError::Tls(format!(
            "the CA file {ca} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SessionError::Tls(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Runs the TLS handshake over `tcp`, bounded by `timeout`.
///
/// # Errors
/// [`SessionError::Tls`] when the configuration cannot be built or the handshake fails
/// (an untrusted certificate, a wrong server name, a peer that does not speak TLS),
/// [`SessionError::Timeout`] when the server does not finish it in time.
pub fn handshake(
    target: &TlsTarget,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<StreamOwned<ClientConnection, TcpStream>, SessionError> {
    let config = client_config(target)?;
    let name = ServerName::try_from(target.server_name.clone()).map_err(|_| {
        SessionError::Tls(format!(
            "`{}` is not a valid TLS server name (use --server-name)",
            target.server_name
        ))
    })?;
    let conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| SessionError::Tls(format!("cannot start TLS: {e}")))?;
    let mut stream = StreamOwned::new(conn, tcp);
    let failed = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            SessionError::Timeout(format!(
                "the TLS handshake with {} did not finish within {}",
                target.addr,
                humantime::format_duration(timeout)
            ))
        } else {
            SessionError::Tls(format!(
                "the TLS handshake with {} (server name `{}`, CA {}) failed: {e}",
                target.addr,
                target.server_name,
                target.ca.display()
            ))
        }
    };
    stream
        .sock
        .set_read_timeout(Some(timeout))
        .map_err(failed)?;
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).map_err(failed)?;
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn target(ca: PathBuf) -> TlsTarget {
        TlsTarget {
            addr: "127.0.0.1:1".into(),
            ca,
            server_name: "localhost".into(),
            token: "t".into(),
        }
    }

    fn temp(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-ctl-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_generated_certificate_is_a_usable_trust_anchor() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let path = temp("ca.pem", cert.cert.pem().as_bytes());
        assert!(client_config(&target(path)).is_ok());
    }

    #[test]
    fn a_file_without_certificates_is_named_in_the_error() {
        let path = temp("empty.pem", b"not a certificate\n");
        let err = client_config(&target(path.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let path = PathBuf::from("no/such/ca.pem");
        let err = client_config(&target(path)).unwrap_err().to_string();
        assert!(
            err.contains("cannot read the CA file no/such/ca.pem"),
            "{err}"
        );
    }
}
