//! A follower hands the transactions it is given to validators (config `submit_to`), as a
//! CometBFT full node relays its mempool, so a store's point of sale can talk to the store's
//! own node for both verify answers and sales.
//!
//! The follower checks each transaction first exactly as a validator admits it (size,
//! signature, chain id, the state machine against its committed state), so a bad one gets
//! the same typed error locally and is never sent. A valid one goes to the first listed
//! validator that takes it; that validator's answer (its tx id, or its refusal, such as
//! `DUPLICATE`) comes back unchanged. A validator that cannot be reached, times out, is
//! itself a follower or has a full mempool is skipped for the next; when none takes it the
//! client gets `NO_VALIDATOR_REACHABLE`. Transactions are signed, so a validator (or anyone
//! on the path) cannot alter one without its signature failing; plain HTTP carries no
//! secret (put a TLS proxy in front of validators reached over the internet).

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use jiu_contracts::Hash;
use serde_json::{json, Value};

use crate::recent::Recent;

/// How long one validator gets to accept the connection, and to answer. A client's request
/// has 10 s in all (the RPC's timeout), so a validator that is down (refused at once) or
/// unreachable (2 s) leaves time to try the next.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Marks a request one follower hands to another node. A node never hands such a request
/// on again, so a follower listed in another's `submit_to` (or its own) answers
/// `NOT_A_VALIDATOR`, is skipped, and no request goes round in a loop.
pub const FORWARDED_HEADER: &str = "jiu-forwarded";

/// Whether a request was handed on by a follower (see [`FORWARDED_HEADER`]).
pub fn was_forwarded(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(FORWARDED_HEADER)
}

/// How many handed-on tx ids are remembered for `GET /tx/{id}` ("forwarded").
const SENT_MAX: usize = 100_000;

/// A validator's answer, passed back to the client as is.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

/// Hands transactions to validators; see the module doc.
pub struct Forwarder {
    client: reqwest::Client,
    validators: Vec<reqwest::Url>,
    sent: Mutex<Recent<Hash, ()>>,
}

/// Parses the config's `submit_to`: RPC base URLs such as `http://10.0.0.1:26650`.
pub fn parse_urls(list: &[String]) -> Result<Vec<reqwest::Url>, String> {
    list.iter()
        .map(|text| {
            let mut url = reqwest::Url::parse(text)
                .map_err(|e| format!("submit_to: '{text}' is not a URL: {e}"))?;
            if url.scheme() != "http" || url.host().is_none() {
                return Err(format!(
                    "submit_to: '{text}' must be an http:// URL of a validator's RPC"
                ));
            }
            // A base URL: `tx` joins under it rather than replacing its last segment.
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            Ok(url)
        })
        .collect()
}

impl Forwarder {
    /// A forwarder to `validators`, tried in order; `None` when there are none.
    pub fn new(validators: Vec<reqwest::Url>) -> Option<Self> {
        if validators.is_empty() {
            return None;
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .build()
            .ok()?;
        Some(Self {
            client,
            validators,
            sent: Mutex::new(Recent::new(SENT_MAX)),
        })
    }

    /// Hands one encoded transaction (with id `id`) to a validator.
    pub async fn tx(&self, id: Hash, bytes: Vec<u8>) -> Answer {
        let body = json!({ "tx": hex::encode(&bytes) });
        let answer = self.post("tx", &body).await;
        if answer.status.is_success() {
            self.remember([id]);
        }
        answer
    }

    /// Hands a batch to a validator's `POST /txs`; `ids` are the batch's tx ids, in order.
    /// The answer holds one result per transaction, as a validator gives it.
    pub async fn txs(&self, ids: &[Hash], batch: &[Vec<u8>]) -> Answer {
        let txs: Vec<String> = batch.iter().map(hex::encode).collect();
        let answer = self.post("txs", &json!({ "txs": txs })).await;
        if let Some(results) = answer.body["results"].as_array() {
            self.remember(
                ids.iter()
                    .zip(results)
                    .filter(|(_, result)| result.get("tx_id").is_some())
                    .map(|(id, _)| *id),
            );
        }
        answer
    }

    /// Whether `id` was handed on by this node (and is remembered).
    pub fn forwarded(&self, id: &Hash) -> bool {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.get(id).is_some()
    }

    fn remember(&self, ids: impl IntoIterator<Item = Hash>) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            sent.insert(id, ());
        }
    }

    /// POSTs `body` to `path` of each validator in turn until one takes it or refuses it
    /// for a reason another validator would share.
    async fn post(&self, path: &str, body: &Value) -> Answer {
        let mut reasons = Vec::new();
        for validator in &self.validators {
            let Ok(url) = validator.join(path) else {
                continue;
            };
            let request = self.client.post(url).header(FORWARDED_HEADER, "1");
            let response = match request.json(body).send().await {
                Ok(response) => response,
                Err(error) => {
                    reasons.push(format!("{validator}: {error}"));
                    continue;
                }
            };
            let status = response.status();
            let body: Value = match response.json().await {
                Ok(body) => body,
                Err(error) => {
                    reasons.push(format!(
                        "{validator}: answered {status} without JSON: {error}"
                    ));
                    continue;
                }
            };
            // A follower listed by mistake, or a validator without room: try the next.
            if status.is_server_error() {
                let code = body["error"]["code"].as_str().unwrap_or("?");
                reasons.push(format!("{validator}: {status} {code}"));
                continue;
            }
            return Answer { status, body };
        }
        Answer {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: json!({ "error": {
                "code": "NO_VALIDATOR_REACHABLE",
                "message": format!(
                    "this follower could not hand the transaction to any validator in \
                     submit_to: {}",
                    reasons.join("; ")
                ),
            }}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_submit_to_takes_http_urls_only() {
        let urls =
            parse_urls(&["http://10.0.0.1:26650".into(), "http://v2/".into()]).expect("http URLs");
        assert_eq!(urls.len(), 2);
        for bad in [
            "10.0.0.1:26650",
            "https://v1:26650",
            "ftp://v1",
            "http://",
            "",
        ] {
            let error = parse_urls(&[bad.to_string()]).expect_err(bad);
            assert!(error.starts_with("submit_to: "), "{bad}: {error}");
        }
        assert!(Forwarder::new(Vec::new()).is_none());
    }

    #[test]
    fn test_remembers_the_newest_ids_only() {
        let forwarder =
            Forwarder::new(parse_urls(&["http://127.0.0.1:9".into()]).unwrap()).unwrap();
        let id = |i: usize| jiu_contracts::sha256(&[&i.to_le_bytes()]);
        forwarder.remember((0..SENT_MAX + 2).map(id));
        assert!(!forwarder.forwarded(&id(0)) && !forwarder.forwarded(&id(1)));
        assert!(forwarder.forwarded(&id(2)) && forwarder.forwarded(&id(SENT_MAX + 1)));
    }

    /// Nothing listens on the discard port: the client gets a typed error that names why.
    #[tokio::test]
    async fn test_unreachable_validators_give_no_validator_reachable() {
        let forwarder =
            Forwarder::new(parse_urls(&["http://127.0.0.1:9".into()]).unwrap()).unwrap();
        let id = [7; 32];
        let answer = forwarder.tx(id, vec![1, 2, 3]).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.body["error"]["code"], "NO_VALIDATOR_REACHABLE");
        assert!(answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"));
        assert!(!forwarder.forwarded(&id));
    }

    /// A follower listed by mistake (here, one that answers as the RPC does: a request
    /// already handed on is not handed on again) is skipped, and no request loops.
    #[tokio::test]
    async fn test_a_request_is_handed_on_once() {
        async fn follower(headers: axum::http::HeaderMap) -> (StatusCode, axum::Json<Value>) {
            if was_forwarded(&headers) {
                let error = json!({ "error": { "code": "NOT_A_VALIDATOR", "message": "" } });
                return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(error));
            }
            (
                StatusCode::OK,
                axum::Json(json!({ "tx_id": "handed on again" })),
            )
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/tx", axum::routing::post(follower));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let forwarder = Forwarder::new(parse_urls(&[url]).unwrap()).unwrap();
        let answer = forwarder.tx([9; 32], vec![1]).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            answer.body
        );
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("503 Service Unavailable NOT_A_VALIDATOR"),
            "{message}"
        );
    }
}
