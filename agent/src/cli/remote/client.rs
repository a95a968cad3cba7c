//! One request to the appliance's management API (docs/API.md) and its
//! answer, read into the wire types of `lvs_agent::manage::api`.

use super::endpoint::Endpoint;
use super::errors::{self, Context, RemoteError};
use lvs_agent::manage::api::{ErrorAnswer, PREFIX};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;
use ureq::http::Response;
use ureq::Body;

/// How long a connection may take to open (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read: a status of tens of thousands of real servers, or a 4 MiB config as JSON.
const ANSWER_MAX_BYTES: u64 = 64 << 20;
/// The most of a non-JSON error answer shown.
const SHOWN_MAX_CHARS: usize = 400;

pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    shown: String,
    identity: PathBuf,
    ca: PathBuf,
    /// The whole request's limit; for a stream (logs -f, which runs until
    /// the appliance ends it), only its answer's head.
    timeout: Duration,
}

/// What goes in a request's body.
pub enum Send<'a> {
    Nothing,
    /// A config's RON text.
    Text(&'a str),
    Json(String),
}

impl Client {
    /// A client for `endpoint`, trusting only `ca` and showing `identity`.
    /// Direct connections only (no proxy from the environment): errors then
    /// speak of the appliance, and nothing between holds the session.
    pub fn new(
        endpoint: Endpoint,
        identity: PathBuf,
        ca: PathBuf,
        timeout: Duration,
        stream: bool,
    ) -> Result<Client, RemoteError> {
        let tls = super::identity::tls_config(&identity, &ca)?;
        let connect = timeout.min(CONNECT_TIMEOUT);
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .proxy(None)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_global((!stream).then_some(timeout))
            .timeout_recv_response(Some(timeout))
            .user_agent(concat!("lvs-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let shown = endpoint.to_string();
        Ok(Client { agent, endpoint, shown, identity, ca, timeout })
    }

    /// "192.0.2.10:9443", as messages name it.
    pub fn endpoint(&self) -> &str {
        &self.shown
    }

    fn context(&self) -> Context<'_> {
        Context {
            endpoint: &self.shown,
            ca: &self.ca,
            identity: &self.identity,
            timeout: self.timeout,
            connect_timeout: CONNECT_TIMEOUT.min(self.timeout),
        }
    }

    fn fail(&self, e: ureq::Error) -> RemoteError {
        errors::from_ureq(e, &self.context())
    }

    /// GET `path` (after /v1, with its query) and read the JSON answer.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, RemoteError> {
        let response = self.agent.get(self.endpoint.url(&format!("{PREFIX}{path}"))).call();
        self.json(response.map_err(|e| self.fail(e))?)
    }

    /// POST `body` to `path` (after /v1) and read the JSON answer.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: Send) -> Result<T, RemoteError> {
        let request = self.agent.post(self.endpoint.url(&format!("{PREFIX}{path}")));
        let response = match body {
            Send::Nothing => request.send_empty(),
            Send::Text(text) => request.content_type("text/plain; charset=utf-8").send(text),
            Send::Json(json) => request.content_type("application/json").send(json.as_str()),
        };
        self.json(response.map_err(|e| self.fail(e))?)
    }

    /// GET `path` (after /v1) as a stream of text, for as long as the appliance sends it.
    pub fn stream(&self, path: &str) -> Result<impl Read + use<>, RemoteError> {
        let response = self.agent.get(self.endpoint.url(&format!("{PREFIX}{path}"))).call();
        let mut response = response.map_err(|e| self.fail(e))?;
        if response.status() != 200 {
            return Err(self.refusal(&mut response));
        }
        Ok(response.into_body().into_reader())
    }

    /// Maps an I/O error met while reading a stream.
    pub fn stream_error(&self, e: std::io::Error) -> RemoteError {
        errors::from_ureq(ureq::Error::from(e), &self.context())
    }

    fn json<T: DeserializeOwned>(&self, mut response: Response<Body>) -> Result<T, RemoteError> {
        if response.status() != 200 {
            return Err(self.refusal(&mut response));
        }
        let text = self.text(&mut response)?;
        serde_json::from_str(&text)
            .map_err(|e| RemoteError::BadAnswer { endpoint: self.shown.clone(), detail: e.to_string() })
    }

    fn text(&self, response: &mut Response<Body>) -> Result<String, RemoteError> {
        response.body_mut().with_config().limit(ANSWER_MAX_BYTES).read_to_string().map_err(|e| self.fail(e))
    }

    /// An answer other than 200, with the appliance's `error` when it gave one.
    fn refusal(&self, response: &mut Response<Body>) -> RemoteError {
        let status = response.status().as_u16();
        let text = match self.text(response) {
            Ok(text) => text,
            Err(e) => return e,
        };
        let error = match serde_json::from_str::<ErrorAnswer>(&text) {
            Ok(answer) => answer.error,
            Err(_) if text.trim().is_empty() => "(no explanation given)".to_string(),
            Err(_) => {
                let shown: String = text.chars().take(SHOWN_MAX_CHARS).collect();
                format!("(not the API's error answer) {shown}")
            }
        };
        RemoteError::Answer { endpoint: self.shown.clone(), status, error }
    }
}
