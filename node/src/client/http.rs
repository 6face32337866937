//! The HTTP side of the client: one blocking request at a time to a node's `/v1` API, with a connect timeout, a
//! timeout on the whole exchange and a bound on the answer's size. Every failure becomes one readable line: the node
//! cannot be reached, it answered with an error (its `code` and `message`, an [`ErrorBody`]), or its answer is not
//! the JSON expected. Answers decode into the API's own types (`api_types`), the ones the node's handlers answer.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
pub use api_types::ErrorBody;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest answer read from a node (a page of blocks, a proof bundle); a larger one is refused.
pub const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// How long to wait for the node to accept the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take, unless a command (`synod tx wait`) asks for longer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest URL accepted for `--node`.
const MAX_URL_BYTES: usize = 2048;

/// Bytes escaped in a path segment: everything but letters, digits and `-._~:` (ids such as `sha256:<hex>` keep
/// their colon, so the node's logs show them as typed).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b':');

/// One segment of a URL path, escaped so that an id can never add a segment or a query (`a/b` stays one segment).
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// A node's HTTP API at a base URL (`http://127.0.0.1:7801`).
#[derive(Debug, Clone)]
pub struct Node {
    base: String,
    agent: ureq::Agent,
}

/// A node's answer: its HTTP status and body (at most [`MAX_ANSWER_BYTES`]).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The node's error body, if this answer carries one.
    pub fn error_body(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A one-line description of an error answer: the status and the node's `code: message`, or the start of a
    /// body that is not the node's error JSON.
    pub fn describe_error(&self) -> String {
        let status = self.status;
        match self.error_body() {
            Some(error) => format!("the node answered {status}: {error}"),
            None => {
                let text = String::from_utf8_lossy(&self.body);
                let line: String = text.lines().next().unwrap_or("").chars().take(200).collect();
                if line.trim().is_empty() {
                    format!("the node answered {status} with no explanation")
                } else {
                    format!("the node answered {status}: {}", line.trim())
                }
            }
        }
    }

    /// This answer if it is a success, or an error describing it.
    pub fn success(self) -> anyhow::Result<Self> {
        if self.is_success() { Ok(self) } else { bail!("{}", self.describe_error()) }
    }

    /// The body as JSON of any shape; `what` names it in errors ("status").
    pub fn json_value(&self, what: &str) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| anyhow!("the node's {what} is not valid JSON: {e}"))
    }

    /// The body as a `T`; `what` names it in errors ("status").
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> anyhow::Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| anyhow!("the node's {what} is not what was expected: {e}"))
    }

    /// The body as text, for `--json`: it must be JSON, and is printed as it came (without trailing blank space).
    pub fn json_text(&self, what: &str) -> anyhow::Result<&str> {
        self.json_value(what)?;
        let text = std::str::from_utf8(&self.body).map_err(|_| anyhow!("the node's {what} is not UTF-8"))?;
        Ok(text.trim_end())
    }
}

impl Node {
    /// A client for the node at `url`: `http://HOST:PORT` (a path prefix is kept), or `HOST:PORT`.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            bail!("--node: empty URL; give http://HOST:PORT");
        }
        if url.len() > MAX_URL_BYTES {
            bail!("--node: a URL of {} bytes, more than the {MAX_URL_BYTES} allowed", url.len());
        }
        let base = if url.starts_with("http://") {
            url.to_owned()
        } else if url.contains("://") {
            bail!("--node {url:?}: only http:// is supported");
        } else {
            format!("http://{url}")
        };
        let base = base.trim_end_matches('/').to_owned();
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Self { base, agent })
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path?query` with the default timeout. `path` starts with `/` and its ids are already escaped (see
    /// [`segment`]); query values are escaped here.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Answer> {
        self.get_within(path, query, REQUEST_TIMEOUT)
    }

    /// `GET path?query`, allowing the whole exchange `timeout`.
    pub fn get_within(&self, path: &str, query: &[(&str, String)], timeout: Duration) -> anyhow::Result<Answer> {
        let url = self.url(path);
        let mut request = self.agent.get(&url);
        for (key, value) in query {
            request = request.query(*key, value);
        }
        let response = request.config().timeout_global(Some(timeout)).build().call();
        self.read(&url, response)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &[u8]) -> anyhow::Result<Answer> {
        let url = self.url(path);
        let response = self.agent.post(&url).content_type("application/json").send(body);
        self.read(&url, response)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Answer> {
        let mut response = response.map_err(|e| unreachable_node(&self.base, url, &e))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                anyhow!("the node's answer to {url} is larger than the {MAX_ANSWER_BYTES} bytes allowed")
            }
            other => anyhow!("reading the node's answer to {url}: {}", describe(&other)),
        })?;
        Ok(Answer { status, body })
    }
}

/// The error for a request that got no answer.
fn unreachable_node(base: &str, url: &str, error: &ureq::Error) -> anyhow::Error {
    match error {
        ureq::Error::Timeout(_) => anyhow!("no answer from the node at {base} in time ({url})"),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => anyhow!("--node {base}: not a usable URL ({url})"),
        other => anyhow!("cannot reach the node at {base}: {}", describe(other)),
    }
}

/// A ureq error in words, with its underlying I/O error where there is one.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// Reads an answer as a `T` after checking its status; `what` names it in errors.
pub fn expect_json<T: DeserializeOwned>(answer: anyhow::Result<Answer>, what: &str) -> anyhow::Result<T> {
    answer.and_then(Answer::success).with_context(|| format!("fetching the {what}"))?.json(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id is one escaped path segment: slashes, query marks and spaces cannot change the path.
    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("org1"), "org1");
        assert_eq!(segment("sha256:ab-c_d.e~"), "sha256:ab-c_d.e~");
        assert_eq!(segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(segment(".."), "..");
    }

    /// `--node` takes `http://HOST:PORT` or `HOST:PORT`, drops a trailing slash, and refuses other schemes and
    /// empty or oversized URLs.
    #[test]
    fn node_urls() {
        assert_eq!(Node::new("http://127.0.0.1:7801/").unwrap().base(), "http://127.0.0.1:7801");
        assert_eq!(Node::new("localhost:7801").unwrap().base(), "http://localhost:7801");
        assert!(Node::new("https://x:1").unwrap_err().to_string().contains("http://"));
        assert!(Node::new(" ").is_err());
        assert!(Node::new(&"a".repeat(MAX_URL_BYTES.saturating_add(1))).is_err());
    }

    /// An error answer is described by the node's code, message and rejection when it sends them, and by the
    /// start of its body otherwise.
    #[test]
    fn error_answers_are_one_line() {
        let answer = |status, body: &str| Answer { status, body: body.as_bytes().to_vec() };
        let refused =
            answer(422, r#"{"code":"rejected","message":"the account is frozen","rejection":"account_frozen"}"#);
        assert_eq!(
            refused.describe_error(),
            "the node answered 422: rejected: the account is frozen (rejection: account_frozen)"
        );
        assert_eq!(answer(502, "bad gateway\nmore").describe_error(), "the node answered 502: bad gateway");
        assert_eq!(answer(500, "").describe_error(), "the node answered 500 with no explanation");
        assert!(answer(200, "{}").success().is_ok());
        assert!(answer(404, "{}").success().is_err());
        assert!(answer(200, "not json").json_text("status").is_err());
    }
}
