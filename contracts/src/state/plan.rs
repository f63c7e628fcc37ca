//! Deciding a tx: every check against the state, and the change to make if all pass.
//! Nothing here mutates; see the role rules in the parent module doc.

use crate::error::TxError;
use crate::gs1::Code;
use crate::provenance::{alert_for, Actor, Ctx, Ledger, Op};
use crate::state::{BlockCtx, Event, State};
use crate::tx::{check_payload, Payload, VerifiedTx, ORG_KEYS_MAX, TX_TTL_HEIGHTS_MAX};
use crate::types::{Hash, Org, PublicKey, Role};

/// A change that passed every check. Committing it cannot fail.
pub(super) enum Change {
    Register(Org),
    AddKey {
        org_id: String,
        key: PublicKey,
    },
    RemoveKey {
        org_id: String,
        key: PublicKey,
    },
    SetActive {
        org_id: String,
        active: bool,
    },
    SetPgln {
        org_id: String,
        pgln: Option<crate::gs1::Gln>,
    },
    SetProduct(crate::product::Product),
    /// The product with its recalled lots updated.
    RecallLot {
        product: crate::product::Product,
        lot: crate::gs1::Lot,
        recalled: bool,
    },
    Anchor {
        org_id: String,
        record_hash: Hash,
    },
    /// A lottery op or seed share (boxed: a lottery record is large).
    Lottery(Box<super::lottery_plan::LotteryChange>),
    /// A captured document's lot recalls: the products as they end, and each recall.
    CapturedRecalls {
        products: Vec<crate::product::Product>,
        recalls: Vec<(crate::gs1::Gtin, crate::gs1::Lot, bool)>,
        org_id: String,
        events: usize,
        captured: std::sync::Arc<crate::capture::CapturedDocument>,
    },
    /// The ledger after the tx, the codes whose leaves changed, and what to report.
    Lifecycle {
        ledger: Ledger,
        touched: Vec<Code>,
        event: Event,
        /// The document a capture applied, for the receipt.
        captured: Option<std::sync::Arc<crate::capture::CapturedDocument>>,
    },
}

impl State {
    /// All checks, cheapest and most general first, then the payload against the state.
    pub(super) fn plan(&self, tx: &VerifiedTx, ctx: &BlockCtx) -> Result<Change, TxError> {
        let body = &tx.tx().body;
        // Again here so that a node that forgot check_stateless still cannot store a
        // malformed payload.
        check_payload(&body.payload)?;
        check_expiry(body.expires_at_height, ctx.height)?;
        if self.replay.contains(&tx.id()) {
            return Err(TxError::Replayed);
        }
        // Lottery txs may be signed by a validator instead of an org (see lottery_plan).
        match &body.payload {
            Payload::SeedShare {
                lottery_id,
                partial,
            } => {
                return self
                    .plan_seed_share(&body.signer, *lottery_id, partial, ctx)
                    .map(|c| Change::Lottery(Box::new(c)))
            }
            Payload::Lottery { op } => {
                let actor = self.lottery_actor(&body.signer, op)?;
                return self
                    .plan_lottery(op, &actor, ctx)
                    .map(|c| Change::Lottery(Box::new(c)));
            }
            _ => {}
        }
        let signer_org = self
            .org_of_key(&body.signer)
            .filter(|org| org.active)
            .ok_or(TxError::UnknownSigner)?;
        check_role(signer_org.role, &body.payload)?;
        match &body.payload {
            Payload::RegisterOrg {
                id,
                name,
                role,
                keys,
            } => self.plan_register(id, name, *role, keys),
            Payload::AddOrgKey { org_id, key } => self.plan_add_key(org_id, *key),
            Payload::RemoveOrgKey { org_id, key } => self.plan_remove_key(org_id, *key),
            Payload::SetOrgActive { org_id, active } => {
                self.plan_set_active(signer_org, org_id, *active)
            }
            Payload::Anchor {
                record_hash,
                data: _,
            } => Ok(Change::Anchor {
                org_id: signer_org.id.clone(),
                record_hash: *record_hash,
            }),
            Payload::SetOrgPgln { org_id, pgln } => {
                self.known_org(org_id)?;
                if let Some(owner) = pgln.and_then(|g| self.org_of_pgln(&g)) {
                    if owner.id != *org_id {
                        return Err(TxError::InvalidPayload(format!(
                            "PGLN {} already belongs to org '{}'",
                            pgln.map(|g| g.to_string()).unwrap_or_default(),
                            owner.id
                        )));
                    }
                }
                Ok(Change::SetPgln {
                    org_id: org_id.clone(),
                    pgln: *pgln,
                })
            }
            Payload::SetProduct {
                gtin,
                name,
                volume_ml,
                abv_bp,
            } => {
                if let Some(owner) = self.products.get(gtin).map(|p| &p.brand_owner) {
                    if *owner != signer_org.id {
                        return Err(TxError::ProductOwned {
                            gtin: *gtin,
                            owner: owner.clone(),
                        });
                    }
                }
                Ok(Change::SetProduct(crate::product::Product {
                    gtin: *gtin,
                    brand_owner: signer_org.id.clone(),
                    name: name.clone(),
                    volume_ml: *volume_ml,
                    abv_bp: *abv_bp,
                    // Amending the master data does not end a recall.
                    recalled_lots: self
                        .products
                        .get(gtin)
                        .map(|p| p.recalled_lots.clone())
                        .unwrap_or_default(),
                }))
            }
            Payload::RecallLot {
                gtin,
                lot,
                recalled,
            } => {
                let product = self
                    .products
                    .get(gtin)
                    .ok_or(TxError::UnknownProduct(*gtin))?;
                let product = recall_lot(product, &signer_org.id, lot, *recalled, ctx)?;
                Ok(Change::RecallLot {
                    product,
                    lot: lot.clone(),
                    recalled: *recalled,
                })
            }
            Payload::Provenance { ops } => {
                let actor = Actor::new(&signer_org.id, signer_org.role);
                self.plan_lifecycle(ops, &actor, ctx)
            }
            Payload::Capture { document } => {
                let actor = Actor::new(&signer_org.id, signer_org.role);
                self.plan_capture(document, &actor, ctx)
            }
            Payload::Lottery { .. } | Payload::SeedShare { .. } => {
                unreachable!("lottery payloads are planned above")
            }
        }
    }

    /// Maps an EPCIS document to ops (first refused event refuses the tx) and applies them.
    fn plan_capture(
        &self,
        document: &str,
        actor: &Actor,
        ctx: &BlockCtx,
    ) -> Result<Change, TxError> {
        let doc: serde_json::Value = serde_json::from_str(document)
            .map_err(|e| TxError::InvalidPayload(format!("EPCIS document is not JSON: {e}")))?;
        let mapped = self.map_capture(&doc)?;
        let event_count = mapped.len();
        let captured = std::sync::Arc::new(crate::capture::CapturedDocument::new(doc, mapped));
        if captured.lot_recalls().next().is_some() {
            return self.plan_captured_recalls(captured, actor, ctx);
        }
        let ops: Vec<&Op> = captured.ops().collect();
        if ops.is_empty() {
            return Ok(Change::Lifecycle {
                ledger: self.ledger.clone(),
                touched: Vec::new(),
                event: Event::EpcisCaptured {
                    org_id: actor.org_id.clone(),
                    events: event_count,
                    ops: 0,
                    records: 0,
                },
                captured: Some(captured),
            });
        }
        let change = self.plan_lifecycle(&ops, actor, ctx)?;
        Ok(match change {
            Change::Lifecycle {
                ledger,
                touched,
                event:
                    Event::LifecycleApplied {
                        org_id,
                        ops,
                        records,
                    },
                captured: _,
            } => Change::Lifecycle {
                ledger,
                touched,
                event: Event::EpcisCaptured {
                    org_id,
                    events: event_count,
                    ops,
                    records,
                },
                captured: Some(captured),
            },
            // Refused with an alert: nothing of the document was captured.
            other => other,
        })
    }

    /// The lot recalls of a captured document (which holds no lifecycle op), applied in
    /// order, all or none: each as [`Payload::RecallLot`] would be.
    fn plan_captured_recalls(
        &self,
        captured: std::sync::Arc<crate::capture::CapturedDocument>,
        actor: &Actor,
        ctx: &BlockCtx,
    ) -> Result<Change, TxError> {
        let mut products: std::collections::BTreeMap<crate::gs1::Gtin, crate::product::Product> =
            std::collections::BTreeMap::new();
        let mut recalls = Vec::new();
        for change in captured.lot_recalls() {
            for (gtin, lot) in &change.lots {
                let current = match products.get(gtin) {
                    Some(product) => product,
                    None => self
                        .products
                        .get(gtin)
                        .ok_or(TxError::UnknownProduct(*gtin))?,
                };
                let product = recall_lot(current, &actor.org_id, lot, change.recalled, ctx)?;
                products.insert(*gtin, product);
                recalls.push((*gtin, lot.clone(), change.recalled));
            }
        }
        Ok(Change::CapturedRecalls {
            products: products.into_values().collect(),
            recalls,
            org_id: actor.org_id.clone(),
            events: captured.mapped.len(),
            captured,
        })
    }

    /// Runs the ops on an O(1) clone of the ledger. A refusal worth an alert (see
    /// [`alert_for`]) turns the tx into that alert alone; any other refusal refuses the tx.
    /// `ops` are owned (a provenance tx) or borrowed from a captured document's mapping.
    fn plan_lifecycle<O: std::borrow::Borrow<Op>>(
        &self,
        ops: &[O],
        actor: &Actor,
        ctx: &BlockCtx,
    ) -> Result<Change, TxError> {
        let lifecycle_ctx = Ctx {
            height: ctx.height,
            time_ms: ctx.time_ms,
            undo_window_ms: self.undo_window_ms,
        };
        let mut ledger = self.ledger.clone();
        let mut touched = std::collections::BTreeSet::new();
        let mut records = 0;
        for (index, op) in ops.iter().map(O::borrow).enumerate() {
            match ledger.apply(op, actor, self, &lifecycle_ctx) {
                Ok(outcome) => {
                    records += outcome.records_changed;
                    if records > crate::provenance::RECORDS_PER_TX_MAX {
                        return Err(TxError::TooManyRecords {
                            index,
                            records,
                            max: crate::provenance::RECORDS_PER_TX_MAX,
                        });
                    }
                    touched.extend(outcome.touched);
                }
                Err(error) => {
                    let Some(alert) = alert_for(op, actor, &error, &lifecycle_ctx) else {
                        return Err(TxError::Lifecycle { index, error });
                    };
                    let mut ledger = self.ledger.clone();
                    ledger.take_written();
                    ledger.record_alert(alert.clone());
                    return Ok(Change::Lifecycle {
                        touched: ledger.take_written(),
                        ledger,
                        event: Event::AlertRaised {
                            op_index: index,
                            reason_code: error.code().to_string(),
                            reason: error.to_string(),
                            alert,
                        },
                        captured: None,
                    });
                }
            }
        }
        Ok(Change::Lifecycle {
            ledger,
            touched: touched.into_iter().collect(),
            event: Event::LifecycleApplied {
                org_id: actor.org_id.clone(),
                ops: ops.len(),
                records,
            },
            captured: None,
        })
    }

    fn plan_register(
        &self,
        id: &str,
        name: &str,
        role: Role,
        keys: &[PublicKey],
    ) -> Result<Change, TxError> {
        if self.orgs.contains_key(id) {
            return Err(TxError::OrgExists(id.to_string()));
        }
        // check_payload validated the keys; only their canonical order is needed here.
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        if let Some(key) = keys.iter().find(|key| self.key_index.contains_key(key)) {
            return Err(TxError::KeyInUse(*key));
        }
        Ok(Change::Register(Org {
            id: id.to_string(),
            name: name.to_string(),
            role,
            keys,
            active: true,
            pgln: None,
        }))
    }

    fn plan_add_key(&self, org_id: &str, key: PublicKey) -> Result<Change, TxError> {
        let org = self.known_org(org_id)?;
        if self.key_index.contains_key(&key) {
            return Err(TxError::KeyInUse(key));
        }
        if org.keys.len() >= ORG_KEYS_MAX {
            return Err(TxError::InvalidPayload(format!(
                "org '{org_id}' already has the maximum of {ORG_KEYS_MAX} keys"
            )));
        }
        Ok(Change::AddKey {
            org_id: org_id.to_string(),
            key,
        })
    }

    fn plan_remove_key(&self, org_id: &str, key: PublicKey) -> Result<Change, TxError> {
        let org = self.known_org(org_id)?;
        if !org.keys.contains(&key) {
            return Err(TxError::KeyNotFound(key));
        }
        if org.keys.len() == 1 {
            return Err(TxError::InvalidPayload(format!(
                "cannot remove the last key of org '{org_id}'"
            )));
        }
        Ok(Change::RemoveKey {
            org_id: org_id.to_string(),
            key,
        })
    }

    fn plan_set_active(
        &self,
        signer_org: &Org,
        org_id: &str,
        active: bool,
    ) -> Result<Change, TxError> {
        self.known_org(org_id)?;
        if org_id == signer_org.id && !active {
            return Err(TxError::Unauthorized {
                role: signer_org.role,
                action: "deactivate its own org".to_string(),
            });
        }
        Ok(Change::SetActive {
            org_id: org_id.to_string(),
            active,
        })
    }

    fn known_org(&self, org_id: &str) -> Result<&Org, TxError> {
        self.orgs
            .get(org_id)
            .ok_or_else(|| TxError::UnknownOrg(org_id.to_string()))
    }
}

/// A tx may go in blocks `height..=expires_at_height`, and may not expire more than
/// `TX_TTL_HEIGHTS_MAX` ahead, which bounds how long its id must be remembered.
fn check_expiry(expires_at_height: u64, height: u64) -> Result<(), TxError> {
    if height > expires_at_height {
        return Err(TxError::Expired {
            height,
            expires_at_height,
        });
    }
    let max = height.saturating_add(TX_TTL_HEIGHTS_MAX);
    if expires_at_height > max {
        return Err(TxError::ExpiryTooFar {
            expires_at_height,
            max,
        });
    }
    Ok(())
}

/// Which roles may sign which payloads. Listed explicitly so a new role is allowed nothing
/// until someone decides otherwise.
fn check_role(role: Role, payload: &Payload) -> Result<(), TxError> {
    let allowed = match payload {
        Payload::RegisterOrg { .. }
        | Payload::AddOrgKey { .. }
        | Payload::RemoveOrgKey { .. }
        | Payload::SetOrgActive { .. }
        | Payload::SetOrgPgln { .. }
        | Payload::SetProduct { .. }
        | Payload::RecallLot { .. } => role == Role::Producer,
        Payload::Anchor { .. } => matches!(role, Role::Producer | Role::Distributor | Role::Store),
        // Every role has some lifecycle op (an auditor may hold or destroy); the lifecycle
        // checks each op's role rule.
        Payload::Provenance { .. } | Payload::Capture { .. } => true,
        // The book checks who may submit each lottery op (issuer, operator keys, anyone).
        Payload::Lottery { .. } | Payload::SeedShare { .. } => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(TxError::Unauthorized {
            role,
            action: payload.kind().to_string(),
        })
    }
}

/// The registry as EPCIS capture sees it: a party or location GLN names the org whose PGLN
/// it is; an SGTIN is a case if the ledger has a case of that code.
struct CaptureDirectory<'a>(&'a State);

impl crate::capture::Directory for CaptureDirectory<'_> {
    fn org_of_party(&self, id: &str) -> Option<String> {
        let rest = id
            .strip_prefix("https://id.gs1.org/417/")
            .or_else(|| id.strip_prefix("https://id.gs1.org/414/"))?;
        let digits = rest.split('/').next()?;
        let gln = crate::gs1::Gln::parse(digits).ok()?;
        self.0
            .org_of_pgln(&gln)
            .filter(|org| org.active)
            .map(|org| org.id.clone())
    }

    fn is_case(&self, item: &crate::gs1::Sgtin) -> bool {
        self.0
            .ledger
            .container(&crate::provenance::ContainerId::Case(item.clone()))
            .is_some()
    }

    fn contents(
        &self,
        container: &crate::provenance::ContainerId,
    ) -> Option<Vec<crate::provenance::Child>> {
        self.0
            .ledger
            .container(container)
            .map(|c| c.children.iter().cloned().collect())
    }
}

impl State {
    /// Maps an EPCIS document against this state's registry, refusing at the first bad event.
    pub fn map_capture(
        &self,
        doc: &serde_json::Value,
    ) -> Result<Vec<crate::capture::CapturedEvent>, TxError> {
        crate::capture::map_document(doc, &CaptureDirectory(self)).map_err(|e| TxError::Capture {
            code: e.code(),
            message: e.to_string(),
        })
    }

    /// Maps an EPCIS document event by event, for a capture job's per-event errors.
    pub fn preview_capture(
        &self,
        doc: &serde_json::Value,
    ) -> Result<
        Vec<Result<crate::capture::CapturedEvent, crate::capture::CaptureError>>,
        crate::capture::CaptureError,
    > {
        crate::capture::map_events(doc, &CaptureDirectory(self))
    }
}

/// `product` with `lot` recalled (`recalled`) or its recall ended, by `org_id`, which must
/// be its brand owner; the checks of [`Payload::RecallLot`].
fn recall_lot(
    product: &crate::product::Product,
    org_id: &str,
    lot: &crate::gs1::Lot,
    recalled: bool,
    ctx: &BlockCtx,
) -> Result<crate::product::Product, TxError> {
    let gtin = product.gtin;
    if product.brand_owner != org_id {
        return Err(TxError::ProductOwned {
            gtin,
            owner: product.brand_owner.clone(),
        });
    }
    let mut product = product.clone();
    match (
        product.recalled_lots.binary_search_by(|r| r.lot.cmp(lot)),
        recalled,
    ) {
        (Ok(_), true) => {
            return Err(TxError::LotAlreadyRecalled {
                gtin,
                lot: lot.clone(),
            })
        }
        (Err(_), false) => {
            return Err(TxError::LotNotRecalled {
                gtin,
                lot: lot.clone(),
            })
        }
        (Ok(index), false) => {
            product.recalled_lots.remove(index);
        }
        (Err(index), true) => {
            if product.recalled_lots.len() >= crate::product::RECALLED_LOTS_MAX {
                return Err(TxError::TooManyRecalledLots {
                    gtin,
                    max: crate::product::RECALLED_LOTS_MAX,
                });
            }
            product.recalled_lots.insert(
                index,
                crate::product::LotRecall {
                    lot: lot.clone(),
                    by: org_id.to_owned(),
                    since_ms: ctx.time_ms,
                },
            );
        }
    }
    Ok(product)
}
