//! HTTP/JSON RPC (axum): submit a transaction, follow its status, read blocks with their
//! commit certificates, node status, health, Prometheus metrics and the OpenAPI document.
//!
//! Every error is JSON `{"error": {"code": "...", "message": "..."}}` with a stable code,
//! and a request that fails changes nothing.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiu_contracts::{Hash, SignedTx, TX_BYTES_MAX};
use malachitebft_app_channel::app::types::core::ExtendedCommitCertificate;
use serde_json::{json, Value};
use tower_http::timeout::TimeoutLayer;

use crate::block::Block;
use crate::codec::decode_certificate;
use crate::context::{Address, JiuContext};
use crate::mempool::MempoolError;
use crate::shared::{Shared, SubmitError};

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Request bodies above this are refused before parsing (hex doubles a tx's size).
const BODY_BYTES_MAX: usize = 2 * TX_BYTES_MAX + 4096;

/// A batch holds at most this many transactions.
const BATCH_TXS_MAX: usize = 10_000;
/// Batch request bodies above this are refused.
const BATCH_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A typed RPC error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// More about the error, e.g. one entry per refused EPCIS event.
    details: Option<Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl ToString) -> Self {
        Self {
            status,
            code,
            message: message.to_string(),
            details: None,
        }
    }

    pub(crate) fn internal(error: impl ToString) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", error)
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            error["details"] = details;
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match &error {
            SubmitError::Tx(tx) => Self::new(StatusCode::BAD_REQUEST, tx.code(), &error),
            SubmitError::Mempool(MempoolError::Full { .. }) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "MEMPOOL_FULL", &error)
            }
            SubmitError::Mempool(MempoolError::Duplicate) => {
                Self::new(StatusCode::CONFLICT, "DUPLICATE", &error)
            }
            SubmitError::NotAValidator(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_A_VALIDATOR", &error)
            }
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
pub(crate) type AppState = State<Arc<Shared>>;

/// The router over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/tx", post(submit_tx))
        .route("/tx/{id}", get(tx_status))
        .route(
            "/txs",
            post(submit_txs).layer(DefaultBodyLimit::max(BATCH_BODY_BYTES_MAX)),
        )
        .route("/block/{height}", get(block))
        .route("/block/{height}/tx_ids", get(block_tx_ids))
        .route("/status", get(status))
        .route("/genesis", get(genesis))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/verify/{*code}", get(verify_code))
        .route(
            "/capture",
            post(crate::epcis::capture).layer(DefaultBodyLimit::max(TX_BYTES_MAX)),
        )
        .route("/capture/{id}", get(crate::epcis::capture_job))
        .route("/events", get(crate::epcis::events))
        .route("/epcs/{*epc}", get(crate::epcis::epc_events))
        .route("/01/{gtin}/21/{serial}", get(resolve_digital_link))
        .route("/01/{gtin}/10/{lot}/21/{serial}", get(resolve_digital_link))
        .route("/01/{gtin}", get(resolve_product))
        .route("/01/{gtin}/10/{lot}", get(resolve_product))
        .route("/.well-known/gs1resolver", get(resolver_description))
        .route("/lots/{gtin}/{lot}", get(lot_census))
        .route("/lotteries", get(crate::lottery_rpc::lotteries))
        .route("/lottery/{id}", get(crate::lottery_rpc::lottery))
        .route(
            "/lottery/{id}/bundle/{batch}/{index}",
            get(crate::lottery_rpc::bundle),
        )
        .route(
            "/lottery/{id}/entries/{batch}/{index}",
            get(crate::lottery_rpc::inclusion),
        )
        .route("/lottery/{id}/dataset", get(crate::lottery_rpc::dataset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(typed_rejections))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
        // Outermost, so errors from the layers above carry the CORS headers too.
        .layer(cors())
        .with_state(shared)
}

/// Cross-origin access for browsers: any origin may read the public answers and submit
/// (writes need a signed tx or a partner's bearer token, never a cookie, so no origin gains
/// anything from the browser's credentials); `Location` and `Link` are readable.
fn cors() -> tower_http::cors::CorsLayer {
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::LOCATION, header::LINK, header::VARY])
        .max_age(Duration::from_secs(3600))
        // Every origin gets the same answer (`*`), so caches need not key on `Origin`; the
        // default `Vary` list was built anew for every verify answer.
        .vary([] as [header::HeaderName; 0])
}

/// Serves the RPC on `listener` until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    // The peer address tells verify clients apart in the scan statistics.
    let app = router(shared).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// Serves the RPC over HTTPS on `listener` (see `crate::tls`) until the task is aborted.
pub async fn serve_tls(
    listener: crate::tls::TlsListener,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(shared).into_make_service_with_connect_info::<SocketAddr>();
    // `tap_io` (doing nothing) gives the listener axum's peer-address `ConnectInfo`.
    axum::serve(listener.tap_io(|_| {}), app).await
}

/// axum answers a body over the limit (and a few other extractor failures) in plain text;
/// clients get the same JSON error shape as everywhere else.
async fn typed_rejections(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || response.status().is_success() {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "OVERSIZED",
            "request body exceeds the limit for this endpoint",
        )
        .into_response(),
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            "request took too long",
        )
        .into_response(),
        _ => response,
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
}

/// `POST /tx`: JSON `{"tx": "<hex of the borsh SignedTx>"}`, or the raw bytes with
/// `Content-Type: application/octet-stream`.
async fn submit_tx(
    State(shared): AppState,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let binary = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let bytes = if binary {
        body.to_vec()
    } else {
        decode_tx_json(&body)?
    };
    let checker = shared.clone();
    let (outcome, bytes) = tokio::task::spawn_blocking(move || (checker.submit(&bytes), bytes))
        .await
        .map_err(ApiError::internal)?;
    match (outcome, shared.forwarder_for(&headers)) {
        (Ok(id), _) => Ok(Json(json!({ "tx_id": hex::encode(id) })).into_response()),
        // A follower hands a checked tx on; the validator's answer is the client's.
        (Err(SubmitError::NotAValidator(id)), Some(forwarder)) => {
            Ok(forwarded(forwarder.tx(id, bytes).await))
        }
        (Err(error), _) => Err(error.into()),
    }
}

/// A validator's answer to a forwarded tx, passed back as is.
pub(crate) fn forwarded(answer: crate::forward::Answer) -> Response {
    (answer.status, Json(answer.body)).into_response()
}

fn decode_tx_json(body: &[u8]) -> ApiResult<Vec<u8>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("body is not JSON: {e}"),
        )
    })?;
    let text = value.get("tx").and_then(Value::as_str).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            "field 'tx' (hex string) is missing",
        )
    })?;
    hex::decode(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED",
            format!("field 'tx' is not hex: {e}"),
        )
    })
}

/// `POST /txs`: JSON `{"txs": ["<hex>", ...]}`; one result per transaction, in order, each
/// either `{"tx_id": ...}` or `{"error": {...}}`. A refused transaction does not affect the
/// others.
async fn submit_txs(
    State(shared): AppState,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let malformed = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_JSON", m);
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("body is not JSON: {e}")))?;
    let txs = value
        .get("txs")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("field 'txs' (array of hex strings) is missing".into()))?;
    if txs.len() > BATCH_TXS_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BATCH_TOO_LARGE",
            format!(
                "{} transactions in one batch; at most {BATCH_TXS_MAX}",
                txs.len()
            ),
        ));
    }
    let mut raw = Vec::with_capacity(txs.len());
    let mut bad = Vec::new();
    for (index, tx) in txs.iter().enumerate() {
        match tx.as_str().and_then(|t| hex::decode(t).ok()) {
            Some(bytes) => raw.push(bytes),
            None => {
                bad.push(index);
                raw.push(Vec::new());
            }
        }
    }
    let checker = shared.clone();
    let (outcomes, raw) = tokio::task::spawn_blocking(move || (checker.submit_many(&raw), raw))
        .await
        .map_err(ApiError::internal)?;
    let mut results: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            if bad.contains(&index) {
                return json!({ "error": { "code": "MALFORMED", "message": "not a hex string" } });
            }
            match outcome {
                Ok(id) => json!({ "tx_id": hex::encode(id) }),
                Err(e) => {
                    let e = ApiError::from(e.clone());
                    json!({ "error": { "code": e.code, "message": e.message } })
                }
            }
        })
        .collect();
    // A follower hands the checked ones on as one batch; each gets the validator's result.
    if let Some(forwarder) = shared.forwarder_for(&headers) {
        let (indexes, ids): (Vec<usize>, Vec<Hash>) = outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| match outcome {
                Err(SubmitError::NotAValidator(id)) => Some((index, *id)),
                _ => None,
            })
            .unzip();
        if !indexes.is_empty() {
            let batch: Vec<Vec<u8>> = indexes.iter().map(|&i| raw[i].clone()).collect();
            let answer = forwarder.txs(&ids, &batch).await;
            let given = answer.body["results"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (n, &index) in indexes.iter().enumerate() {
                results[index] = match given.get(n) {
                    Some(result) if answer.status.is_success() => result.clone(),
                    _ => json!({ "error": answer.body["error"].clone() }),
                };
            }
        }
    }
    Ok(Json(json!({ "results": results })))
}

pub(crate) fn parse_hash(text: &str) -> ApiResult<Hash> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED",
                "expected 64 hex characters",
            )
        })
}

/// `GET /tx/{id}`: pending, finalized at a height, rejected with a reason, or unknown.
async fn tx_status(State(shared): AppState, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_hash(&id)?;
    let id_hex = hex::encode(id);
    if let Some(location) = shared.db.tx_location(&id).map_err(ApiError::internal)? {
        let events: Value = serde_json::from_slice(&location.events).unwrap_or(json!([]));
        return Ok(Json(json!({
            "tx_id": id_hex, "status": "finalized",
            "height": location.height, "index": location.index,
            "events": events,
        })));
    }
    if shared.mempool.contains(&id) {
        return Ok(Json(json!({ "tx_id": id_hex, "status": "pending" })));
    }
    if let Some(error) = shared.mempool.rejection(&id) {
        return Ok(Json(json!({
            "tx_id": id_hex, "status": "rejected",
            "error": { "code": error.code(), "message": error.to_string() },
        })));
    }
    // A follower's: handed to a validator, not yet in a block it has.
    if shared.forwarder.as_ref().is_some_and(|f| f.forwarded(&id)) {
        return Ok(Json(json!({ "tx_id": id_hex, "status": "forwarded" })));
    }
    Ok(Json(json!({ "tx_id": id_hex, "status": "unknown" })))
}

/// The JSON form of a commit certificate.
pub fn certificate_json(certificate: &ExtendedCommitCertificate<JiuContext>) -> Value {
    serde_json::to_value(crate::proof::certificate_json(certificate)).unwrap_or(Value::Null)
}

/// `GET /verify/{code}`: verdict, record, history and proof for any accepted code form (a
/// Digital Link URI, an element string, an EPC URN, a legacy code).
async fn verify_code(
    State(shared): AppState,
    Path(code): Path<String>,
    Query(query): Query<crate::verify::VerifyQuery>,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    verify_answer(shared, code, query, &headers, &peer, &method)
        .await
        .map(IntoResponse::into_response)
}

/// `GET /01/{gtin}` and `GET /01/{gtin}/10/{lot}`: a Digital Link naming a product or one
/// of its lots (a case label with GTIN and lot, no serial). The answer is the product's
/// master data and recalled lots, and whether the named lot is recalled, with the proof
/// (`crate::verify::product_answer`): what a store checks before selling from a lot. A
/// browser (asking for HTML) gets the verification page, which shows the product or the
/// lot's recall status and checks the proof, as for a bottle.
async fn resolve_product(
    State(shared): AppState,
    Path(mut segments): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // One address, several representations: caches must key on Accept.
    let vary = [(header::VARY, "Accept")];
    if wants_html(&headers) {
        return Ok((vary, axum::response::Html(crate::web::VERIFY_PAGE)).into_response());
    }
    let gtin = segments.remove("gtin").unwrap_or_default();
    let lot = segments.remove("lot");
    let committed = shared.committed();
    match crate::verify::product_answer(&committed, &gtin, lot.as_deref()) {
        Ok(body) => Ok((vary, [(header::CONTENT_TYPE, "application/json")], body).into_response()),
        // The error with the proof that no product of the GTIN is on chain.
        Err(crate::verify::ProductAnswerError::UnknownProduct(_, body)) => Ok((
            StatusCode::NOT_FOUND,
            vary,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()),
        Err(error) => {
            let status = match error {
                crate::verify::ProductAnswerError::InvalidCode(_) => StatusCode::BAD_REQUEST,
                crate::verify::ProductAnswerError::UnknownProduct(..) => StatusCode::NOT_FOUND,
                crate::verify::ProductAnswerError::NoBlock => StatusCode::SERVICE_UNAVAILABLE,
            };
            Err(ApiError::new(status, error.code(), error.to_string()))
        }
    }
}

/// `GET /01/{gtin}/21/{serial}`: the GS1 Digital Link resolver path. A browser (asking for
/// HTML) gets the verification page, which fetches the JSON answer and shows it; other
/// clients get the answer. `linkType` asks for the bottle's linkset or one of its links
/// (see `resolver`); every answer points at the linkset in a `Link` header.
///
/// Also `GET /01/{gtin}/10/{lot}/21/{serial}`, for a label that carries the bottle's lot
/// (GS1 Digital Link puts it between GTIN and serial): the lot is compared with the one the
/// chain recorded (ATTRIBUTE_MISMATCH when they differ).
async fn resolve_digital_link(
    State(shared): AppState,
    Path(mut segments): Path<BTreeMap<String, String>>,
    Query(query): Query<crate::verify::VerifyQuery>,
    RawQuery(raw_query): RawQuery,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let header_text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    // Both routes name `gtin` and `serial`; only the second names `lot`. The segments come
    // decoded: written again as the Digital Link writes them, so a serial holding `/` or `%`
    // names the same bottle, and the address stays a valid header value whatever the client
    // sent.
    let mut segment = |name| {
        segments
            .remove(name)
            .map(|value| jiu_contracts::gs1::percent_encode(&value))
    };
    let (gtin, lot, serial) = (segment("gtin"), segment("lot"), segment("serial"));
    let lot_path = lot.as_ref().map(|lot| format!("/10/{lot}"));
    let path = format!(
        "01/{}{}/21/{}",
        gtin.unwrap_or_default(),
        lot_path.unwrap_or_default(),
        serial.unwrap_or_default()
    );
    let code = format!("https://id.gs1.org/{path}");
    let base = crate::resolver::base_url(&headers);
    let self_uri = format!("{base}/{path}");
    let link = [(header::LINK, crate::resolver::link_header(&self_uri))];
    let requested =
        crate::resolver::Requested::parse(query.link_type.as_deref(), header_text(header::ACCEPT));
    if requested != crate::resolver::Requested::Default {
        let bottle = match jiu_contracts::gs1::parse_code(&code) {
            Ok(bottle @ jiu_contracts::gs1::Code::Item(_)) => bottle,
            Ok(_) | Err(_) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_CODE",
                    format!("/{path} is not a GTIN and serial this node resolves"),
                ))
            }
        };
        // The verification link keeps the lot, so that answer compares it too.
        let verify_code = if lot.is_some() {
            code.clone()
        } else {
            bottle.element_string()
        };
        let links = crate::resolver::links(
            &base,
            &format!("/{path}"),
            &bottle.to_string(),
            &verify_code,
        );
        if requested == crate::resolver::Requested::Linkset {
            let body = crate::resolver::linkset(&self_uri, &links);
            let media = [(header::CONTENT_TYPE, crate::resolver::LINKSET_MEDIA_TYPE)];
            return Ok((link, media, body.to_string()).into_response());
        }
        if let crate::resolver::Requested::Relation(relation) = &requested {
            if let Some(target) = links.iter().find(|l| l.relation == relation) {
                // The other parameters go on with the redirect (an NFC tag's picc/cmac).
                let rest: Vec<&str> = raw_query
                    .as_deref()
                    .unwrap_or_default()
                    .split('&')
                    .filter(|p| !p.is_empty() && !p.starts_with("linkType="))
                    .collect();
                let location = if rest.is_empty() {
                    target.href.clone()
                } else {
                    format!("{}?{}", target.href, rest.join("&"))
                };
                return Ok((
                    StatusCode::TEMPORARY_REDIRECT,
                    link,
                    [(header::LOCATION, location)],
                )
                    .into_response());
            }
        }
        // A link type the node does not offer: the default, as for no link type.
    }
    // One address, several representations: caches must key on Accept.
    let vary = [(header::VARY, "Accept")];
    if wants_html(&headers) {
        return Ok((vary, link, axum::response::Html(crate::web::VERIFY_PAGE)).into_response());
    }
    let answer = verify_answer(shared, code, query, &headers, &peer, &method).await?;
    Ok((vary, link, answer).into_response())
}

/// What `GET /lots/{gtin}/{lot}` may be asked.
#[derive(Debug, serde::Deserialize)]
struct CensusQuery {
    /// An org id: list that holder's unsold bottles of the lot.
    holder: Option<String>,
}

/// `GET /lots/{gtin}/{lot}` (partner token): the bottles commissioned with a lot and where
/// they are now, by state and by holder (`crate::lots`): what a recall works from. Partners
/// only, since it shows each distributor's volumes.
async fn lot_census(
    State(shared): AppState,
    Path((gtin, lot)): Path<(String, String)>,
    Query(query): Query<CensusQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<crate::lots::Census>> {
    if viewer(&shared, &headers)? != crate::verify::Viewer::Partner {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "a lot's census needs a partner token (Authorization: Bearer ...)",
        ));
    }
    let invalid = |what: &str, e: jiu_contracts::gs1::CodeError| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CODE",
            format!("{what}: {e}"),
        )
    };
    let gtin = jiu_contracts::gs1::Gtin::parse(&gtin).map_err(|e| invalid("GTIN", e))?;
    let lot = jiu_contracts::gs1::Lot::parse(&lot).map_err(|e| invalid("lot", e))?;
    let committed = shared.committed();
    let db = shared.db.clone();
    let census = tokio::task::spawn_blocking(move || {
        crate::lots::census(&db, &committed.state, &gtin, &lot, query.holder.as_deref())
    })
    .await
    .map_err(ApiError::internal)?;
    match census {
        Ok(census) => Ok(Json(census)),
        Err(error @ crate::lots::CensusError::UnknownLot { .. }) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_LOT",
            error.to_string(),
        )),
        Err(crate::lots::CensusError::Db(error)) => Err(ApiError::internal(error)),
    }
}

/// Whether the client asks for HTML: a browser opening a Digital Link.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /.well-known/gs1resolver`: the GS1 resolver description file.
async fn resolver_description(State(shared): AppState, headers: HeaderMap) -> Json<Value> {
    Json(crate::resolver::description(
        &shared.info.name,
        &crate::resolver::base_url(&headers),
    ))
}

/// Who is asking: the public without a token, a partner with one of this node's tokens;
/// an unknown token is refused (it is a misconfigured partner, not the public).
pub(crate) fn viewer(shared: &Shared, headers: &HeaderMap) -> ApiResult<crate::verify::Viewer> {
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        None => Ok(crate::verify::Viewer::Public),
        Some(token) if shared.info.partner_tokens.iter().any(|t| t == token) => {
            Ok(crate::verify::Viewer::Partner)
        }
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "unknown partner token",
        )),
    }
}

/// The connection's peer address, when the server recorded it.
pub(crate) type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The address the scan book counts a verify client by: the connection's peer, or behind a
/// trusted proxy (`rpc_forwarded_for`) the last `X-Forwarded-For` entry, the one the proxy
/// appended.
fn client_address(shared: &Shared, headers: &HeaderMap, peer: &Peer) -> Option<IpAddr> {
    if shared.info.forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|a| a.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.as_ref()
        .map(|Extension(ConnectInfo(address))| address.ip())
}

async fn verify_answer(
    shared: Arc<Shared>,
    code: String,
    query: crate::verify::VerifyQuery,
    headers: &HeaderMap,
    peer: &Peer,
    method: &Method,
) -> ApiResult<impl IntoResponse> {
    if code.len() > jiu_contracts::gs1::CODE_BYTES_MAX {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CODE",
            format!(
                "code is {} bytes, at most {} allowed",
                code.len(),
                jiu_contracts::gs1::CODE_BYTES_MAX
            ),
        ));
    }
    let viewer = viewer(&shared, headers)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // HEAD checks nothing (its answer is never sent): no client to count.
    let client = (method != Method::HEAD).then(|| {
        shared
            .scans
            .client_id(client_address(&shared, headers, peer))
    });
    // A verify answer is about 0.1 ms of CPU (a few map lookups, a proof, a short rocksdb
    // scan): computed on the runtime's worker, since a blocking-pool handoff costs more.
    let committed = shared.committed();
    let answer = crate::verify::answer(
        &committed,
        &shared.db,
        &shared.scans,
        &shared.tags,
        &code,
        &query,
        viewer,
        client,
        now_ms,
    );
    // The answer comes as JSON bytes; the header is the one `Json` would set.
    let json = [(header::CONTENT_TYPE, "application/json")];
    Ok((json, answer))
}

/// `GET /block/{height}`: header, transactions and the commit certificate.
async fn block(State(shared): AppState, Path(height): Path<String>) -> ApiResult<Json<Value>> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED",
            "height must be a positive integer",
        )
    })?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no block at height {height}"),
        )
    };
    let bytes = shared
        .db
        .block(height)
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let cert = shared
        .db
        .certificate(height)
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let block = Block::decode(&bytes, usize::MAX).map_err(ApiError::internal)?;
    let certificate = decode_certificate(&cert).map_err(ApiError::internal)?;
    let txs: Vec<Value> = block.txs.iter().map(tx_json).collect();
    Ok(Json(json!({
        "block_id": block.id(),
        "header": block.header,
        "txs": txs,
        "certificate": certificate_json(&certificate),
    })))
}

/// `GET /block/{height}/tx_ids`: just the transaction ids, for followers and benchmarks.
async fn block_tx_ids(
    State(shared): AppState,
    Path(height): Path<String>,
) -> ApiResult<Json<Value>> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED",
            "height must be a positive integer",
        )
    })?;
    let bytes = shared
        .db
        .block(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("no block at height {height}"),
            )
        })?;
    let block = Block::decode(&bytes, usize::MAX).map_err(ApiError::internal)?;
    let ids: Vec<String> = block.txs.iter().map(|tx| hex::encode(tx.id())).collect();
    Ok(Json(
        json!({ "height": height, "time_ms": block.header.time_ms, "tx_ids": ids }),
    ))
}

fn tx_json(tx: &SignedTx) -> Value {
    json!({ "tx_id": hex::encode(tx.id()), "body": tx.body, "signature": hex::encode(tx.signature) })
}

/// `GET /status`.
async fn status(State(shared): AppState) -> Json<Value> {
    let info = &shared.info;
    let tip = shared.tip();
    let progress = shared.progress();
    let validators: Vec<Value> = info
        .genesis
        .validators
        .iter()
        .map(|v| {
            json!({
                "name": v.name, "org_id": v.org_id, "public_key": v.public_key,
                "address": Address::from_public_key(&v.public_key), "power": v.power,
            })
        })
        .collect();
    // A node is catching up while consensus runs at a height well past its committed tip.
    let catching_up = progress.height > tip.height + 1;
    // A follower holds the chain and answers queries but never votes (docs/operations.md).
    let role = if info.is_validator {
        "validator"
    } else {
        "follower"
    };
    Json(json!({
        "node": { "name": info.name, "address": info.address, "peer_id": info.peer_id, "rpc_addr": info.rpc_addr, "role": role },
        "chain": { "chain_id": info.genesis.chain_id, "genesis_hash": hex::encode(info.genesis_hash) },
        "latest": tip,
        "consensus": progress,
        "sync": { "catching_up": catching_up },
        "peers": shared.peers(),
        "mempool": { "txs": shared.mempool.len() },
        "validators": validators,
    }))
}

/// `GET /genesis`: the genesis in canonical form, exactly the bytes the genesis hash covers.
/// A client hashes the body itself (`sha256("jiu/genesis/v1\0" || body)`) and compares the
/// result with the chain's published hash before it trusts the validator keys inside, so
/// this node is not trusted for them (the verification page does this).
async fn genesis(State(shared): AppState) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        shared.info.genesis.canonical_bytes(),
    )
}

/// `GET /health`: 200 while the node runs; reports the height and peers.
async fn health(State(shared): AppState) -> Json<Value> {
    Json(json!({ "status": "ok", "height": shared.tip().height, "peers": shared.peers() }))
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::export(),
    )
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves, as (method, OpenAPI path).
    const ROUTES: &[(&str, &str)] = &[
        ("post", "/tx"),
        ("post", "/txs"),
        ("get", "/tx/{id}"),
        ("get", "/block/{height}"),
        ("get", "/block/{height}/tx_ids"),
        ("get", "/status"),
        ("get", "/genesis"),
        ("get", "/verify/{code}"),
        ("post", "/capture"),
        ("get", "/capture/{id}"),
        ("get", "/events"),
        ("get", "/epcs/{epc}/events"),
        ("get", "/01/{gtin}/21/{serial}"),
        ("get", "/01/{gtin}/10/{lot}/21/{serial}"),
        ("get", "/01/{gtin}"),
        ("get", "/01/{gtin}/10/{lot}"),
        ("get", "/.well-known/gs1resolver"),
        ("get", "/lots/{gtin}/{lot}"),
        ("get", "/health"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/lotteries"),
        ("get", "/lottery/{id}"),
        ("get", "/lottery/{id}/bundle/{batch}/{index}"),
        ("get", "/lottery/{id}/entries/{batch}/{index}"),
        ("get", "/lottery/{id}/dataset"),
    ];

    #[test]
    fn test_openapi_documents_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().expect("paths");
        for (method, path) in ROUTES {
            assert!(
                paths.get(*path).and_then(|p| p.get(*method)).is_some(),
                "{method} {path} is served but not documented"
            );
        }
        let documented: usize = paths
            .values()
            .map(|p| p.as_object().map_or(0, |o| o.len()))
            .sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "the document names a route the router does not serve"
        );
    }
}
