//! The books: every billing operation that books money or changes terms,
//! as steps. Each step is a store call (rows, in a [`BillingTx`]; the
//! preview reads through a plain connection, as it writes nothing) or a pure
//! function of [`spleis_billing`]; the rules (which period a change may
//! reach, when a period may close, what a close writes) are decided here,
//! never in the store. The [`Platform`](crate::Platform)'s methods check the
//! actor, then call these.

use spleis_billing::bounds::{non_negative, not_closed, period_in};
use spleis_billing::close::{PeriodClose, Void, close, totals, validate_void};
use spleis_billing::commitments::{self, Commitment, Minimum};
use spleis_billing::period::{Period, check_close};
use spleis_billing::projection::project_input;
use spleis_billing::rating::{PricePlan, check_currency, check_declared, validate_plan};
use spleis_domain::billing::{
    BillingError, BillingSettings, CloseSummary, CommitmentRecord, PlanRecord, VoidRecord,
};
use spleis_store::Store;
use spleis_store::billing::BillingTx;

type Result<T> = std::result::Result<T, BillingError>;

/// The billing operations over one store, without an actor: the
/// platform's methods (which check the actor), its tests and its benches
/// call them. No face holds a [`Store`], so none reaches them but through
/// the platform.
#[derive(Clone, Copy)]
pub struct Books<'s>(pub(crate) &'s Store);

impl<'s> Books<'s> {
    /// The books of `store`.
    pub fn new(store: &'s Store) -> Self {
        Self(store)
    }
}

// The books' tests set up rows through the store and run the operations
// through the books, on one value.
#[cfg(test)]
impl std::ops::Deref for Books<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.0
    }
}

mod funding;
#[cfg(test)]
mod tests;

impl Books<'_> {
    /// Closes `period`: invoices, statements, ledger transactions and
    /// payback state, once. Closing a closed period changes nothing and
    /// answers its summary (`false`). Periods close in order; the month
    /// still under way closes only `early`.
    ///
    /// Two transactions. The first, short, checks the order and fixes the
    /// boundary, so usage writers put the period's late records into the
    /// next one without waiting. The second, under the money lock the
    /// writers never take, gathers the period, rates and settles it, and
    /// writes the result. A close that fails after the first leaves the
    /// boundary fixed, and closing again finishes it.
    pub async fn close_period(
        self,
        period: Period,
        by: &str,
        early: bool,
        now: i64,
    ) -> Result<(CloseSummary, bool)> {
        if let Some(summary) = self.fix_close_boundary(period, early, now).await? {
            return Ok((summary, false));
        }
        self.finish_close(period, by, now).await
    }

    /// The close's first step: the order checked, the boundary fixed; the
    /// summary if the period is closed already.
    async fn fix_close_boundary(
        self,
        period: Period,
        early: bool,
        now: i64,
    ) -> Result<Option<CloseSummary>> {
        let (mut tx, settings) = self.0.begin_billing().await?;
        if let Some(summary) = tx.closed_summary(period).await? {
            return Ok(Some(summary));
        }
        let earliest = match settings.last_closed {
            Some(_) => None,
            None => {
                // Before the first close, nothing else bounds the period from
                // below: a close of 0001-01 would succeed and then demand
                // 0001-02 next, forever. Later closes are held in order by
                // `check_close`.
                let open = settings.open_period(now);
                // A clock set back (or a test's) must not leave no month.
                let first = tx.first_month(now).await?.min(open);
                period_in("the period", period, first, open)?;
                tx.earliest_usage_before(period).await?
            }
        };
        check_close(period, now, early, settings.last_closed, earliest)?;
        tx.mark_closing(period).await?;
        tx.commit().await?;
        Ok(None)
    }

    /// The close itself, after [`Books::fix_close_boundary`]: gather (the
    /// store), rate and settle (billing), write (the store).
    pub async fn finish_close(
        self,
        period: Period,
        by: &str,
        now: i64,
    ) -> Result<(CloseSummary, bool)> {
        let (mut tx, settings) = self.0.begin_close().await?;
        if let Some(summary) = tx.closed_summary(period).await? {
            // Another node closed it meanwhile.
            return Ok((summary, false));
        }
        // The order the first step checked still holds: only this period
        // could have been closed since, and that was just ruled out.
        let (input, records) = tx.gather(period, &settings).await?;
        let closed = close(&input)?;
        let summary = summary(&closed, &settings, records, by, now)?;
        tx.write_close(&closed, &summary, settings.currency).await?;
        tx.commit().await?;
        tracing::info!(%period, invoices = summary.invoices, charged = summary.charged, "period closed");
        Ok((summary, true))
    }

    /// What closing `period` now would produce, written nowhere: for the
    /// open period, the month so far.
    pub async fn preview_period(self, period: Period) -> Result<PeriodClose> {
        Ok(close(&self.0.period_input(period).await?)?)
    }

    /// The open `period` so far and as it would close at its end if the
    /// month goes on at the pace of the days elapsed at `now` (its usage
    /// projected, its fixed amounts as they are), both written nowhere.
    pub async fn preview_with_projection(
        self,
        period: Period,
        now: i64,
    ) -> Result<(PeriodClose, PeriodClose)> {
        let input = self.0.period_input(period).await?;
        let projected = close(&project_input(&input, now)?)?;
        Ok((close(&input)?, projected))
    }

    /// Sets a new plan for `package`. A plugin's first plan applies from
    /// the open period; a change applies from the period after it, so a
    /// month already under way keeps the prices its tenants saw.
    pub async fn set_plan(
        self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
    ) -> Result<PlanRecord> {
        self.insert_plan(package, plan, by, now, None).await
    }

    /// The operator's correction: `plan` in force from `from`, a period not
    /// closed yet (before any close, none before the platform's first
    /// month), up to the open one. This is how a close that a plan cannot
    /// rate is resolved: the period gets a plan that rates, and closes
    /// again. A closed period never changes.
    pub async fn correct_plan(
        self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
        from: Period,
    ) -> Result<PlanRecord> {
        self.insert_plan(package, plan, by, now, Some(from)).await
    }

    async fn insert_plan(
        self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
        from: Option<Period>,
    ) -> Result<PlanRecord> {
        validate_plan(plan)?;
        let (mut tx, settings) = self.0.begin_billing().await?;
        check_declared(plan, package, &tx.declared(package).await?)?;
        check_currency(plan, settings.currency)?;
        let last = tx.last_plan(package).await?;
        let open = settings.open_period(now);
        let effective_from = match from {
            Some(from) => {
                let first = first_unclosed(&mut tx, &settings, now).await?;
                period_in("from", from, first, open)?
            }
            None if last.is_some() => open.next(),
            None => open,
        };
        let seq = last.map_or(Some(1), |last| last.checked_add(1));
        let seq = seq.ok_or(BillingError::Overflow("the plan number"))?;
        let record = PlanRecord {
            package: package.to_owned(),
            seq,
            effective_from,
            plan: plan.clone(),
            created_by: by.to_owned(),
        };
        tx.insert_plan(&record, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Voids a tenant's use of a plugin for a period not yet closed (the
    /// first unclosed to the open one): the close does not rate it and
    /// records the reason in the ledger. Voiding again replaces the reason.
    pub async fn void_line(
        self,
        period: Period,
        void: &Void,
        by: &str,
        now: i64,
    ) -> Result<VoidRecord> {
        validate_void(void)?;
        let (mut tx, settings) = self.0.begin_billing().await?;
        voidable(&mut tx, &settings, now, period).await?;
        tx.tenant_exists(&void.tenant).await?;
        tx.package_exists(&void.plugin).await?;
        tx.upsert_void(period, void, by, now).await?;
        tx.commit().await?;
        Ok(VoidRecord {
            period,
            void: void.clone(),
            created_by: by.to_owned(),
            created_at: now,
        })
    }

    /// Withdraws a void of a period not yet closed: the close rates the
    /// line again.
    pub async fn remove_void(
        self,
        period: Period,
        tenant: &str,
        plugin: &str,
        now: i64,
    ) -> Result<()> {
        let (mut tx, settings) = self.0.begin_billing().await?;
        voidable(&mut tx, &settings, now, period).await?;
        if !tx.delete_void(period, tenant, plugin).await? {
            return Err(BillingError::NotFound {
                what: "void",
                id: format!("{period}/{tenant}/{plugin}"),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a tenant a minimum commitment from a period not yet closed;
    /// answers its id. One commitment to the same thing (money, or one
    /// plugin's metric) per period: an overlap is refused with the one in
    /// the way.
    pub async fn add_commitment(
        self,
        tenant: &str,
        commitment: &Commitment,
        now: i64,
    ) -> Result<String> {
        commitments::validate(commitment)?;
        let (mut tx, settings) = self.0.begin_billing().await?;
        tx.tenant_exists(tenant).await?;
        let first = first_unclosed(&mut tx, &settings, now).await?;
        not_closed("the commitment", commitment.from, first)?;
        if let Minimum::Units { plugin, metric, .. } = &commitment.minimum {
            let declared = tx.declared(plugin).await?;
            if !declared.metrics.contains(metric) {
                return Err(BillingError::UndeclaredMetric {
                    package: plugin.clone(),
                    metric: metric.clone(),
                    declared: declared.metrics.into_iter().collect::<Vec<_>>().join(", "),
                });
            }
        }
        for existing in tx.commitments(tenant).await? {
            if existing.commitment.overlaps(commitment) {
                return Err(overlap(&existing));
            }
        }
        let id = tx.insert_commitment(tenant, commitment, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends a tenant's commitment: it no longer applies to any period not
    /// yet closed (a month a failed close left closing included, so ending
    /// one resolves that close). One that never applied to a closed period
    /// is removed; one that did ends with the last closed period, which
    /// keeps what was invoiced under it. Answers it as it now stands
    /// (`None`: removed).
    pub async fn end_commitment(
        self,
        tenant: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<CommitmentRecord>> {
        let (mut tx, settings) = self.0.begin_billing().await?;
        let record = tx
            .commitments(tenant)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| BillingError::NotFound {
                what: "commitment",
                id: id.to_owned(),
            })?;
        let from = first_unclosed(&mut tx, &settings, now).await?;
        let ended = end_in(&mut tx, record, from).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Sets a tenant's standing money minimum from the open period on (0
    /// removes it): every money commitment reaching into the open period or
    /// later ends, and an open-ended one of `minimum` starts. Commitments in
    /// units are untouched.
    pub async fn set_minimum(self, tenant: &str, minimum: i64, now: i64) -> Result<()> {
        non_negative("the minimum commitment", minimum)?;
        let (mut tx, settings) = self.0.begin_billing().await?;
        tx.tenant_exists(tenant).await?;
        let open = settings.open_period(now);
        for record in tx.commitments(tenant).await? {
            let money = matches!(record.commitment.minimum, Minimum::Money { .. });
            if money && record.commitment.to.is_none_or(|to| to >= open) {
                end_in(&mut tx, record, open).await?;
            }
        }
        if minimum > 0 {
            let commitment = Commitment {
                minimum: Minimum::Money { minor: minimum },
                from: open,
                to: None,
            };
            tx.insert_commitment(tenant, &commitment, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The first period not closed at `now`: one a failed close left closing,
/// else the one after the last closed; before any close, the platform's
/// first month. Corrections, voids and commitments reach back to it, never
/// further.
async fn first_unclosed(
    tx: &mut BillingTx<'_>,
    settings: &BillingSettings,
    now: i64,
) -> Result<Period> {
    let open = settings.open_period(now);
    let first = match settings.first_unclosed() {
        Some(first) => first,
        None => tx.first_month(now).await?,
    };
    Ok(first.min(open))
}

/// Refuses a void of `period` unless it is from the first period not closed
/// to the open one.
async fn voidable(
    tx: &mut BillingTx<'_>,
    settings: &BillingSettings,
    now: i64,
    period: Period,
) -> Result<()> {
    let first = first_unclosed(tx, settings, now).await?;
    period_in(
        "the voided period",
        period,
        first,
        settings.open_period(now),
    )?;
    Ok(())
}

/// Ends `record` before `from`: removed if it starts there or later, else
/// cut to the period before. One that ended before `from` is refused.
async fn end_in(
    tx: &mut BillingTx<'_>,
    mut record: CommitmentRecord,
    from: Period,
) -> Result<Option<CommitmentRecord>> {
    if let Some(to) = record.commitment.to
        && to < from
    {
        return Err(BillingError::CommitmentEnded {
            id: record.id,
            to,
            from,
        });
    }
    if record.commitment.from >= from {
        tx.delete_commitment(&record.id).await?;
        return Ok(None);
    }
    let last = from.previous();
    tx.end_commitment_at(&record.id, last).await?;
    record.commitment.to = Some(last);
    Ok(Some(record))
}

/// The refusal for a commitment that overlaps `existing`.
fn overlap(existing: &CommitmentRecord) -> BillingError {
    BillingError::CommitmentOverlap {
        existing: existing.id.clone(),
        what: existing.commitment.minimum.subject(),
        from: existing.commitment.from,
        to: existing
            .commitment
            .to
            .map_or("open".to_owned(), |to| to.to_string()),
    }
}

/// The summary kept with a closed period.
fn summary(
    closed: &PeriodClose,
    settings: &BillingSettings,
    records: i64,
    by: &str,
    now: i64,
) -> Result<CloseSummary> {
    let totals = totals(closed)?;
    Ok(CloseSummary {
        period: closed.period.to_string(),
        closed_at: now,
        closed_by: by.to_owned(),
        currency: settings.currency.to_string(),
        records,
        invoices: closed.invoices.len(),
        statements: closed.statements.len(),
        transactions: closed.transactions.len(),
        charged: totals.charged,
        platform: totals.platform,
        authors: totals.authors,
        investors: totals.investors,
        funding: totals.funding,
        builders: totals.builders,
    })
}
