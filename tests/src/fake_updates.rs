//! The release server, as the app's updater sees it: `GET /latest.json` (the feed) and
//! `GET /download/<file>` (the package), answering from what the test put there. And the signing
//! key, made by the test: [`UpdateKey`] signs packages in the minisign format the updater checks
//! (the `.sig` text, base64, as the Tauri bundler writes it).
//!
//! ```no_run
//! # async fn demo(package: Vec<u8>) {
//! use copilot_desktop_tests::fake_updates::{FakeUpdateServer, UpdateKey};
//! let key = UpdateKey::generate();
//! let server = FakeUpdateServer::start().await;
//! server.offer("9.0.0", "Faster.", &package, &key.sign(&package));
//! // launch the app with COPILOT_DESKTOP_UPDATE_URL = server.feed_url()
//! # }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tokio::sync::oneshot;

use crate::fake_model::serve;

/// A minisign key pair made by the test: the public half goes into the app's config, the secret
/// half signs the packages the fake server offers.
pub struct UpdateKey {
    public: minisign::PublicKey,
    secret: minisign::SecretKey,
}

const SECRET_FILE: &str = "update-test.key";
const PUBLIC_FILE: &str = "update-test.pub";

impl UpdateKey {
    pub fn generate() -> Self {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().expect("generate a minisign key pair");
        Self { public: pair.pk, secret: pair.sk }
    }

    /// The key in `dir`, made there first if it is not (scripts/test.sh builds the installed
    /// package with its public half; the installed-update test signs with the secret half).
    pub fn load_or_create(dir: &Path) -> Self {
        let (secret_path, public_path) = (dir.join(SECRET_FILE), dir.join(PUBLIC_FILE));
        if secret_path.is_file() {
            let text = std::fs::read_to_string(&secret_path).expect("read the test signing key");
            let secret = minisign::SecretKeyBox::from_string(&text)
                .and_then(|b| b.into_unencrypted_secret_key())
                .expect("the test signing key parses");
            let public = minisign::PublicKey::from_secret_key(&secret).expect("its public key");
            return Self { public, secret };
        }
        let key = Self::generate();
        std::fs::create_dir_all(dir).expect("create the key folder");
        let secret_box = key.secret.to_box(Some("Copilot Desktop update tests")).expect("box the secret key");
        std::fs::write(&secret_path, secret_box.into_string()).expect("write the test signing key");
        std::fs::write(&public_path, key.public_config()).expect("write the test public key");
        key
    }

    /// The public key as tauri.conf.json's `plugins.updater.pubkey` takes it: the base64 of the
    /// minisign public key file.
    pub fn public_config(&self) -> String {
        let text = self.public.to_box().expect("box the public key").into_string();
        STANDARD.encode(text)
    }

    /// The signature of `bytes` as the `signature` field of latest.json takes it: the base64 of
    /// the minisign signature file.
    pub fn sign(&self, bytes: &[u8]) -> String {
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some("Copilot Desktop update test"),
            None,
        )
        .expect("sign");
        STANDARD.encode(signature.into_string())
    }
}

/// What `/latest.json` answers.
#[derive(Clone)]
enum Feed {
    Json(String),
    Status(StatusCode),
}

struct Inner {
    feed: Feed,
    package: Option<(String, Vec<u8>)>,
    /// Send only this many bytes of the package, while announcing all of them (a cut connection).
    cut_at: Option<usize>,
    /// Every path asked for, in order.
    requests: Vec<String>,
}

/// The local release server.
pub struct FakeUpdateServer {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _shutdown: oneshot::Sender<()>,
}

impl FakeUpdateServer {
    /// Serving nothing yet: `/latest.json` answers 404 until [`Self::offer`] or [`Self::set_feed`].
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            feed: Feed::Status(StatusCode::NOT_FOUND),
            package: None,
            cut_at: None,
            requests: vec![],
        }));
        let router = Router::new()
            .route("/latest.json", get(feed))
            .route("/download/{file}", get(download).head(download))
            .with_state(inner.clone());
        let (addr, shutdown) = serve(router).await;
        Self { addr, inner, _shutdown: shutdown }
    }

    /// What the app's `COPILOT_DESKTOP_UPDATE_URL` should be.
    pub fn feed_url(&self) -> String {
        format!("http://{}/latest.json", self.addr)
    }

    /// Offer `version` with `notes`: `package` under /download/, announced with `signature`, for
    /// every Linux x86_64 install (the .deb's target and the plain one of an unbundled build).
    pub fn offer(&self, version: &str, notes: &str, package: &[u8], signature: &str) {
        let file = format!("copilot-desktop_{version}_amd64.deb");
        let url = format!("http://{}/download/{file}", self.addr);
        let platform = json!({ "signature": signature, "url": url });
        let body = json!({
            "version": version,
            "notes": notes,
            "pub_date": "2026-12-01T12:00:00Z",
            "platforms": { "linux-x86_64-deb": platform, "linux-x86_64": platform },
        });
        let mut inner = self.inner.lock().unwrap();
        inner.feed = Feed::Json(body.to_string());
        inner.package = Some((file, package.to_vec()));
    }

    /// Answer `/latest.json` with `body` as it is (malformed JSON, say).
    pub fn set_feed(&self, body: &str) {
        self.inner.lock().unwrap().feed = Feed::Json(body.to_owned());
    }

    /// From now on the download stops after `bytes` bytes while its Content-Length says all of
    /// them: the connection is cut mid-download.
    pub fn cut_downloads_at(&self, bytes: usize) {
        self.inner.lock().unwrap().cut_at = Some(bytes);
    }

    /// Every path asked for so far (`/latest.json`, `/download/...`; HEAD too).
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn feed_requests(&self) -> usize {
        self.requests().iter().filter(|p| p.as_str() == "GET /latest.json").count()
    }
}

/// A port nobody listens on: the feed URL of a server that is down.
pub async fn unreachable_feed_url() -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/latest.json")
}

async fn feed(State(inner): State<Arc<Mutex<Inner>>>) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.requests.push("GET /latest.json".into());
    match inner.feed.clone() {
        Feed::Json(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Feed::Status(status) => status.into_response(),
    }
}

async fn download(
    method: axum::http::Method,
    State(inner): State<Arc<Mutex<Inner>>>,
    UrlPath(file): UrlPath<String>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.requests.push(format!("{method} /download/{file}"));
    match (&inner.package, inner.cut_at) {
        (Some((name, bytes)), Some(cut)) if *name == file && method == axum::http::Method::GET => {
            let sent = bytes[..cut.min(bytes.len())].to_vec();
            let body = axum::body::Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(sent)]));
            let mut response = body.into_response();
            response.headers_mut().insert(header::CONTENT_LENGTH, bytes.len().into());
            response
        }
        (Some((name, bytes)), _) if *name == file => {
            ([(header::CONTENT_TYPE, "application/vnd.debian.binary-package")], bytes.clone()).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_own_key_only() {
        let (key, other) = (UpdateKey::generate(), UpdateKey::generate());
        let package = b"a package".to_vec();
        let decode = |b64: &str| String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
        let public =
            minisign::PublicKeyBox::from_string(&decode(&key.public_config())).unwrap().into_public_key().unwrap();
        let signature = minisign::SignatureBox::from_string(&decode(&key.sign(&package))).unwrap();
        assert!(minisign::verify(&public, &signature, std::io::Cursor::new(&package), true, false, false).is_ok());
        let foreign = minisign::SignatureBox::from_string(&decode(&other.sign(&package))).unwrap();
        assert!(minisign::verify(&public, &foreign, std::io::Cursor::new(&package), true, false, false).is_err());
    }

    #[test]
    fn a_key_written_once_is_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let first = UpdateKey::load_or_create(dir.path());
        let again = UpdateKey::load_or_create(dir.path());
        assert_eq!(first.public_config(), again.public_config());
        assert_eq!(std::fs::read_to_string(dir.path().join(PUBLIC_FILE)).unwrap(), first.public_config());
    }
}
