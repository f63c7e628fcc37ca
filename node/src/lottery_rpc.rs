//! The lottery RPC: a lottery's committed state with its proof, an applicant's bundle, and
//! the public dataset. Every answer is checked by the client against the genesis
//! ([`crate::lottery_proof`]); the node is not trusted.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiu_lottery::book::LeafFields;
use jiu_lottery::{Dataset, EntryId};
use serde_json::{json, Value};

use crate::lottery_proof::{BundleAnswer, ChainProof, InclusionAnswer, LotteryAnswer, SeedJson};
use crate::rpc::{ApiError, ApiResult, AppState};
use crate::shared::Committed;

/// Dataset exports running at once.
static DATASET_EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> ApiResult<T> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED",
            format!("{what} must be a non-negative integer, not '{text}'"),
        )
    })
}

fn unknown(lottery_id: u64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "UNKNOWN_LOTTERY",
        format!("no lottery {lottery_id} on this chain"),
    )
}

/// The leaf and its proof at the committed tip; `None` at height 0.
fn chain_proof(committed: &Committed, lottery_id: u64) -> Option<ChainProof> {
    let header = committed.header.clone()?;
    let certificate = committed.certificate.clone()?;
    let record = committed.state.lottery_book().lottery(lottery_id)?;
    Some(ChainProof {
        height: header.height,
        block_id: committed.tip.block_id,
        header,
        certificate,
        leaf: record.leaf_bytes(),
        lottery_proof: committed.state.prove_lottery(lottery_id)?,
    })
}

fn seed_json(committed: &Committed, chain_id: &str, lottery_id: u64) -> Option<SeedJson> {
    let record = committed.state.lottery_book().lottery(lottery_id)?;
    let seed = record.seed()?;
    let message = jiu_lottery::encoding::seed_message(
        chain_id,
        lottery_id,
        &record.rules_hash(),
        &record.entries_root(),
        &record.status_root()?,
    )?;
    Some(SeedJson {
        message,
        signature: seed.signature.clone(),
    })
}

/// `GET /lottery/{id}`.
pub(crate) async fn lottery(
    State(shared): AppState,
    Path(id): Path<String>,
) -> ApiResult<Json<LotteryAnswer>> {
    let lottery_id: u64 = parse("lottery id", &id)?;
    let committed = shared.committed();
    let record = committed
        .state
        .lottery_book()
        .lottery(lottery_id)
        .ok_or_else(|| unknown(lottery_id))?;
    let fields = LeafFields::parse(&record.leaf_bytes())
        .ok_or_else(|| ApiError::internal("a lottery leaf does not parse"))?;
    let mut view = serde_json::to_value(&fields).map_err(ApiError::internal)?;
    view["phase"] = json!(record.phase(committed.tip.time_ms));
    if let Some(held) = committed.state.seed_shares(lottery_id) {
        view["seed_shares"] = json!({
            "held": held.keys().collect::<Vec<_>>(),
            "threshold": shared.info.genesis.beacon.as_ref().map(|b| b.threshold()),
        });
    }
    view["batch_headers"] = json!(record.batches().len());
    Ok(Json(LotteryAnswer {
        lottery_id,
        rules: record.rules().clone(),
        committed: view,
        seed: seed_json(&committed, &shared.info.genesis.chain_id, lottery_id),
        proof: chain_proof(&committed, lottery_id),
    }))
}

/// `GET /lotteries`: every lottery's id, stage and entry count.
pub(crate) async fn lotteries(State(shared): AppState) -> Json<Value> {
    let committed = shared.committed();
    let list: Vec<Value> = committed
        .state
        .lottery_book()
        .lotteries()
        .map(|(id, record)| {
            json!({
                "lottery_id": id,
                "stage": record.stage(),
                "phase": record.phase(committed.tip.time_ms),
                "entries_count": record.entries_count(),
            })
        })
        .collect();
    Json(json!({ "height": committed.tip.height, "lotteries": list }))
}

/// `?format=json|borsh` of the bundle.
#[derive(serde::Deserialize)]
pub(crate) struct BundleQuery {
    format: Option<String>,
}

/// `GET /lottery/{id}/bundle/{batch}/{index}`: an applicant's proof bundle, JSON or borsh.
pub(crate) async fn bundle(
    state: AppState,
    path: Path<(String, String, String)>,
    Query(query): Query<BundleQuery>,
) -> ApiResult<Response> {
    let borsh = match query.format.as_deref() {
        None | Some("json") => false,
        Some("borsh") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED",
                format!("format must be json or borsh, not '{other}'"),
            ))
        }
    };
    let answer = bundle_answer(state, path).await?;
    if borsh {
        let bytes = borsh::to_vec(&answer).map_err(ApiError::internal)?;
        Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
    } else {
        Ok(Json(answer).into_response())
    }
}

async fn bundle_answer(
    State(shared): AppState,
    Path((id, batch, index)): Path<(String, String, String)>,
) -> ApiResult<BundleAnswer> {
    let lottery_id: u64 = parse("lottery id", &id)?;
    let entry = EntryId {
        batch_no: parse("batch", &batch)?,
        index: parse("index", &index)?,
    };
    let committed = shared.committed();
    let record = committed
        .state
        .lottery_book()
        .lottery(lottery_id)
        .ok_or_else(|| unknown(lottery_id))?;
    if record.results_root().is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NOT_DRAWN",
            format!("lottery {lottery_id} has no committed results yet"),
        ));
    }
    let prover = shared.provers.get(lottery_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PROVER_NOT_READY",
            "this node is still building the lottery's proof trees; retry shortly",
        )
    })?;
    let bundle = tokio::task::spawn_blocking(move || prover.bundle(entry))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "UNKNOWN_ENTRY",
                format!(
                    "lottery {lottery_id} has no entry at batch {} index {}",
                    entry.batch_no, entry.index
                ),
            )
        })?;
    let seed = seed_json(&committed, &shared.info.genesis.chain_id, lottery_id)
        .ok_or_else(|| ApiError::internal("a drawn lottery without a seed"))?;
    let proof = chain_proof(&committed, lottery_id)
        .ok_or_else(|| ApiError::internal("a drawn lottery without a proof"))?;
    Ok(BundleAnswer {
        lottery_id,
        bundle,
        seed,
        proof,
    })
}

/// `GET /lottery/{id}/entries/{batch}/{index}`: an accepted entry's inclusion proof.
pub(crate) async fn inclusion(
    State(shared): AppState,
    Path((id, batch, index)): Path<(String, String, String)>,
) -> ApiResult<Json<InclusionAnswer>> {
    let lottery_id: u64 = parse("lottery id", &id)?;
    let at = EntryId {
        batch_no: parse("batch", &batch)?,
        index: parse("index", &index)?,
    };
    let committed = shared.committed();
    let record = committed
        .state
        .lottery_book()
        .lottery(lottery_id)
        .ok_or_else(|| unknown(lottery_id))?;
    let found = match (record.holds_entries(), shared.provers.get(lottery_id)) {
        (true, _) => record.entry_proof(at),
        (false, Some(prover)) => prover.bundle(at).map(|b| (b.entry, b.entry_proof)),
        (false, None) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "PROVER_NOT_READY",
                "this node is still rebuilding the lottery's proof trees; retry shortly",
            ))
        }
    };
    let (entry, entry_proof) = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_ENTRY",
            format!(
                "lottery {lottery_id} has no entry at batch {} index {}",
                at.batch_no, at.index
            ),
        )
    })?;
    let proof = chain_proof(&committed, lottery_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NOT_FINALIZED",
            "no finalized block carries the lottery yet",
        )
    })?;
    Ok(Json(InclusionAnswer {
        lottery_id,
        entry,
        entry_proof,
        proof,
    }))
}

/// `GET /lottery/{id}/dataset`: the public dataset ([`Dataset`], borsh), for auditors.
pub(crate) async fn dataset(
    State(shared): AppState,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let lottery_id: u64 = parse("lottery id", &id)?;
    let committed = shared.committed();
    if committed.state.lottery_book().lottery(lottery_id).is_none() {
        return Err(unknown(lottery_id));
    }
    // An export copies every entry (hundreds of MB for millions): one at a time, off the
    // async threads.
    let _export = DATASET_EXPORTS.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "BUSY",
            "another dataset export is running on this node; retry shortly",
        )
    })?;
    let prover = shared.provers.get(lottery_id);
    let bytes = tokio::task::spawn_blocking(move || {
        let held = committed
            .state
            .lottery_book()
            .lottery(lottery_id)
            .and_then(|record| record.dataset());
        match (held, prover) {
            (Some((entries, status)), _) => Some(Dataset::new(lottery_id, entries, &status)),
            (None, Some(prover)) => Some(Dataset::new(
                lottery_id,
                prover.entries().to_vec(),
                prover.status(),
            )),
            (None, None) => None,
        }
        .map(|d| d.encode())
    })
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PROVER_NOT_READY",
            "this node is still rebuilding the lottery's dataset; retry shortly",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}
