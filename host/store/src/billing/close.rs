//! The period close, in two transactions. The first, short, takes the
//! billing row, checks the order ([`spleis_billing::period::check_close`])
//! and fixes the boundary (`billing_state.closing`): usage writers put the
//! period's late records into the next one from then on, without waiting.
//! The second, under the money lock the writers never take, gathers the
//! period's usage and terms, runs [`spleis_billing::close::close`], writes
//! its documents, transactions, payback state and summary, and marks the
//! period closed. A close that fails leaves the boundary where it was, and
//! closing again finishes it.

use super::agreements::agreement_in;
use super::documents::{write_invoices, write_statements};
use super::investments::investments_by_package;
use super::ledger::write_transaction;
use super::plans::plans_in_force;
use super::reports::{aggregate_calls, aggregate_metrics};
use super::settings::settings_in;
use super::terms::{tenant_terms, voids_in};
use super::{BillingError, Cells, Corrupt, Result, to_json};
use crate::Db;
use crate::Store;
use spleis_billing::bounds::period_in;
use spleis_billing::close::{
    PeriodClose, PeriodInput, PlanInForce, PluginTerms, close, totals, transaction_id,
};
use spleis_billing::commitments::committed_plugins;
use spleis_billing::discounts::Period;
use spleis_billing::payback::PaybackState;
use spleis_billing::period::check_close;
use spleis_billing::split::Agreement;
use spleis_billing::usage::{CallsAggregate, InstallSpan, PeriodTally, UnitsAggregate};
use spleis_domain::OutcomeKind;
use spleis_domain::billing::{
    AgreementRecord, BillingSettings, CallsRow, CloseSummary, InvestmentRecord, MetricRow,
};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

impl Store {
    /// Closes `period`: in one transaction, rates its usage and writes
    /// invoices, statements, ledger transactions and payback state. Closing
    /// a closed period changes nothing and returns its summary (`false`).
    /// Periods close in order; one still under way closes only `early`.
    pub async fn close_period(
        &self,
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

    /// The first step of a close, in a short transaction: checks the order
    /// and fixes the boundary, so usage writers put what comes for `period`
    /// from now on into the next one instead of waiting for the close. The
    /// summary if the period is closed already.
    pub(crate) async fn fix_close_boundary(
        &self,
        period: Period,
        early: bool,
        now: i64,
    ) -> Result<Option<CloseSummary>> {
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        if let Some(summary) = closed_summary(&mut tx, period).await? {
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
                let first = first_month(&mut tx, now).await?.min(open);
                period_in("the period", period, first, open)?;
                earliest_usage_before(&mut tx, period).await?
            }
        };
        check_close(period, now, early, settings.last_closed, earliest)?;
        sqlx::query("UPDATE billing_state SET closing = $1 WHERE id = 1")
            .bind(period.to_string())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(None)
    }

    /// The close itself, after [`Store::fix_close_boundary`]: under the
    /// money lock (no credit, plan or investment changes meanwhile, no
    /// second close) but not the row the usage writers share, until the last
    /// statement marks the period closed.
    pub(crate) async fn finish_close(
        &self,
        period: Period,
        by: &str,
        now: i64,
    ) -> Result<(CloseSummary, bool)> {
        let mut tx = self.begin_write().await.db()?;
        self.lock_money(&mut tx).await?;
        if let Some(summary) = closed_summary(&mut tx, period).await? {
            // Another node closed it meanwhile.
            return Ok((summary, false));
        }
        let settings = settings_in(&mut tx, "").await?;
        // The order the first step checked still holds: only this period
        // could have been closed since, and that was just ruled out.
        let (input, records) = gather(&mut tx, period, &settings).await?;
        let closed = close(&input)?;
        let written = Written {
            by,
            now,
            records,
            currency: settings.currency,
        };
        let summary = write_close(self, &mut tx, &closed, &written).await?;
        tx.commit().await.db()?;
        tracing::info!(%period, invoices = summary.invoices, charged = summary.charged, "period closed");
        Ok((summary, true))
    }

    /// What closing `period` now would produce, written nowhere: for the
    /// open period, the month so far.
    pub async fn preview_period(&self, period: Period) -> Result<PeriodClose> {
        Ok(close(&self.period_input(period).await?)?)
    }

    /// What a close of `period` would start from, as of now.
    pub async fn period_input(&self, period: Period) -> Result<PeriodInput> {
        let mut conn = self.pool().acquire().await.db()?;
        let settings = settings_in(&mut conn, "").await?;
        Ok(gather(&mut conn, period, &settings).await?.0)
    }

    /// The closed periods, newest first.
    pub async fn closed_periods(&self) -> Result<Vec<CloseSummary>> {
        let rows = sqlx::query("SELECT period, summary FROM billing_periods ORDER BY period DESC")
            .fetch_all(self.pool())
            .await
            .db()?;
        rows.iter()
            .map(|row| Cells::new(row, "billing_periods", &["period"]).json("summary"))
            .collect()
    }
}

/// The stored summary of `period`, if it is closed.
async fn closed_summary(conn: &mut AnyConnection, period: Period) -> Result<Option<CloseSummary>> {
    let row = sqlx::query("SELECT period, summary FROM billing_periods WHERE period = $1")
        .bind(period.to_string())
        .fetch_optional(&mut *conn)
        .await
        .db()?;
    row.map(|row| Cells::new(&row, "billing_periods", &["period"]).json("summary"))
        .transpose()
}

/// The platform's first month: the month it was created in (its first
/// account, the operator, is made at bootstrap) or of its first usage
/// record, whichever is earlier. Both are one indexed `MIN`; a platform
/// without either starts in the month of `now`.
pub(crate) async fn first_month(conn: &mut AnyConnection, now: i64) -> Result<Period> {
    let created: Option<i64> = sqlx::query("SELECT MIN(created_at) AS created FROM accounts")
        .fetch_one(&mut *conn)
        .await
        .db()?
        .try_get("created")
        .db()?;
    let created = Period::containing(created.unwrap_or(now));
    let usage: Option<String> = sqlx::query("SELECT MIN(period) AS period FROM usage_records")
        .fetch_one(&mut *conn)
        .await
        .db()?
        .try_get("period")
        .db()?;
    let usage = usage
        .map(|text| {
            text.parse::<Period>()
                .map_err(|e| Corrupt::at("usage_records", "earliest", "period", e))
        })
        .transpose()?;
    Ok(usage.map_or(created, |usage| usage.min(created)))
}

/// The first period not closed at `now`: one a failed close left closing,
/// else the one after the last closed; before any close, the platform's
/// first month.
pub(crate) async fn first_unclosed(
    conn: &mut AnyConnection,
    settings: &BillingSettings,
    now: i64,
) -> Result<Period> {
    let open = settings.open_period(now);
    let first = match settings.first_unclosed() {
        Some(first) => first,
        None => first_month(conn, now).await?,
    };
    Ok(first.min(open))
}

/// The earliest period before `period` holding usage (before any close).
async fn earliest_usage_before(conn: &mut AnyConnection, period: Period) -> Result<Option<Period>> {
    let earliest: Option<String> =
        sqlx::query("SELECT MIN(period) AS period FROM usage_records WHERE period < $1")
            .bind(period.to_string())
            .fetch_one(&mut *conn)
            .await
            .db()?
            .try_get("period")
            .db()?;
    earliest
        .map(|text| {
            text.parse().map_err(|e| {
                Corrupt::at(
                    "usage_records",
                    format!("earliest before {period}"),
                    "period",
                    e,
                )
            })
        })
        .transpose()
}

// ---- Gathering: rows in, the pure close's input out. ----

/// Everything the close of `period` needs, read through `conn`, and the
/// number of usage records it bills.
async fn gather(
    conn: &mut AnyConnection,
    period: Period,
    settings: &BillingSettings,
) -> Result<(PeriodInput, i64)> {
    let usage = read_usage(conn, period).await?;
    let tenants = tenant_terms(conn).await?;
    // A commitment in units is rated under its plugin's terms even in a
    // month without usage of it.
    let mut rated = usage.tally.plugins();
    for terms in tenants.values() {
        rated.extend(
            committed_plugins(&terms.commitments, period)
                .into_iter()
                .map(str::to_owned),
        );
    }
    let plugins = plugin_terms(conn, period, settings, rated).await?;
    let mut versions = usage.versions;
    let installs = usage.tally.into_installs(|tenant, plugin| {
        versions
            .remove(&(tenant.to_owned(), plugin.to_owned()))
            .map(|set| set.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    });
    let input = PeriodInput {
        period,
        currency: settings.currency,
        installs,
        plugins,
        tenants,
        voids: voids_in(conn, period)
            .await?
            .into_iter()
            .map(|v| v.void)
            .collect(),
    };
    Ok((input, usage.records))
}

/// A period's usage as read: the tally, the versions that served each
/// install (oldest first), and the records counted.
struct UsageRead {
    tally: PeriodTally,
    versions: BTreeMap<(String, String), BTreeSet<semver::Version>>,
    records: i64,
}

/// Reads the period's calls, metric units and installs into a tally.
async fn read_usage(conn: &mut AnyConnection, period: Period) -> Result<UsageRead> {
    let mut read = UsageRead {
        tally: PeriodTally::new(period),
        versions: BTreeMap::new(),
        records: 0,
    };
    for row in aggregate_calls(conn, period).await? {
        read.records = read
            .records
            .checked_add(row.calls)
            .ok_or(BillingError::Overflow("the number of usage records"))?;
        let version: semver::Version = row
            .version
            .parse()
            .map_err(|e| Corrupt::at("usage_records", row.key(), "version", e))?;
        read.versions
            .entry((row.tenant.clone(), row.plugin.clone()))
            .or_default()
            .insert(version);
        read.tally.add_calls(calls_aggregate(row)?)?;
    }
    for row in aggregate_metrics(conn, period).await? {
        read.tally.add_units(units_aggregate(row)?)?;
    }
    for span in installs_in(conn, period).await? {
        read.tally.add_install(span);
    }
    Ok(read)
}

/// An aggregated calls row, typed; a value that does not parse is corrupt.
fn calls_aggregate(row: CallsRow) -> Result<CallsAggregate> {
    let corrupt = |column, reason: String| Corrupt::at("usage_records", row.key(), column, reason);
    let outcome: OutcomeKind = row
        .outcome
        .parse()
        .map_err(|e| corrupt("outcome", format!("{e}")))?;
    let calls = u64::try_from(row.calls)
        .map_err(|_| corrupt("COUNT(*)", format!("{} calls", row.calls)))?;
    let fuel =
        u128::try_from(row.fuel).map_err(|_| corrupt("fuel", format!("{} fuel", row.fuel)))?;
    let host_us = u128::try_from(row.host_time_us).map_err(|_| {
        corrupt(
            "host_time_us",
            format!("{} µs in the host", row.host_time_us),
        )
    })?;
    Ok(CallsAggregate {
        blame: outcome.blame(),
        calls,
        fuel,
        host_us,
        tenant: row.tenant,
        plugin: row.plugin,
        operation: row.operation,
    })
}

/// An aggregated units row, typed; negative units are corrupt.
fn units_aggregate(row: MetricRow) -> Result<UnitsAggregate> {
    let units = u64::try_from(row.units).map_err(|_| {
        Corrupt::at(
            "usage_units",
            row.key(),
            "quantity",
            format!("{} units", row.units),
        )
    })?;
    Ok(UnitsAggregate {
        tenant: row.tenant,
        plugin: row.plugin,
        metric: row.metric,
        units,
    })
}

/// The installs that existed at some time in `period`.
async fn installs_in(conn: &mut AnyConnection, period: Period) -> Result<Vec<InstallSpan>> {
    let rows = sqlx::query(
        "SELECT tenant, package, installed_at, uninstalled_at FROM installs \
         WHERE installed_at < $1 AND (uninstalled_at IS NULL OR uninstalled_at >= $2)",
    )
    .bind(period.end_ms())
    .bind(period.start_ms())
    .fetch_all(&mut *conn)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            let cells = Cells::new(row, "installs", &["tenant", "package"]);
            Ok(InstallSpan {
                tenant: cells.get("tenant")?,
                plugin: cells.get("package")?,
                installed_at: cells.get("installed_at")?,
                uninstalled_at: cells.get("uninstalled_at")?,
            })
        })
        .collect()
}

/// Each used plugin's plan in force, agreement, investments and payback.
async fn plugin_terms(
    conn: &mut AnyConnection,
    period: Period,
    settings: &BillingSettings,
    used: BTreeSet<String>,
) -> Result<BTreeMap<String, PluginTerms>> {
    let mut plans = plans_in_force(conn, period).await?;
    let mut investments = investments_by_package(conn).await?;
    let mut plugins = BTreeMap::new();
    for plugin in used {
        let agreement = agreement_in(conn, &plugin, settings).await?;
        let invested = investments.remove(&plugin).unwrap_or_default();
        let terms = terms_of(agreement, plans.remove(&plugin), &invested)?;
        plugins.insert(plugin, terms);
    }
    Ok(plugins)
}

/// One plugin's terms from its stored agreement, plan and investments (in
/// funding order).
fn terms_of(
    agreement: AgreementRecord,
    plan: Option<PlanInForce>,
    invested: &[InvestmentRecord],
) -> Result<PluginTerms> {
    let mut investors = Vec::with_capacity(invested.len());
    let mut paid = Vec::with_capacity(invested.len());
    for investment in invested {
        let (investor, so_far) = investment.payback()?;
        investors.push(investor);
        paid.push(so_far);
    }
    Ok(PluginTerms {
        plan,
        author: agreement.author,
        agreement: Agreement {
            platform_fee_bps: agreement.platform_fee_bps,
            investors,
            investor_share_bps: agreement.investor_share_bps,
            after_payback: agreement.after_payback,
        },
        investor_accounts: invested.iter().map(|i| i.investor.clone()).collect(),
        payback: PaybackState {
            accrued: agreement.accrued,
            paid,
        },
    })
}

// ---- Writing: the pure close's result out, as rows. ----

/// Who closed, when, and what the summary reports beside the close itself.
struct Written<'a> {
    by: &'a str,
    now: i64,
    records: i64,
    currency: spleis_billing::Currency,
}

/// Writes everything `closed` produced and marks the period closed.
async fn write_close(
    store: &Store,
    conn: &mut AnyConnection,
    closed: &PeriodClose,
    written: &Written<'_>,
) -> Result<CloseSummary> {
    let now = written.now;
    write_invoices(conn, closed, written.currency, now).await?;
    write_statements(conn, closed, written.currency, now).await?;
    for (n, transaction) in closed.transactions.iter().enumerate() {
        let id = transaction_id(closed.period, n + 1);
        write_transaction(store, conn, &id, closed.period, transaction, now).await?;
    }
    write_payback(conn, closed).await?;
    let summary = summary(closed, written)?;
    sqlx::query(
        "INSERT INTO billing_periods (period, closed_at, closed_by, summary) VALUES ($1, $2, $3, $4)",
    )
    .bind(closed.period.to_string())
    .bind(now)
    .bind(written.by)
    .bind(to_json("the close summary", &summary)?)
    .execute(&mut *conn)
    .await.db()?;
    sqlx::query("UPDATE billing_state SET last_closed = $1, closing = NULL WHERE id = 1")
        .bind(closed.period.to_string())
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(summary)
}

/// Stores each settled plugin's payback accrual and what each investment
/// has been paid.
async fn write_payback(conn: &mut AnyConnection, closed: &PeriodClose) -> Result<()> {
    for settlement in &closed.settlements {
        let Some(state) = closed.payback.get(&settlement.plugin) else {
            continue;
        };
        sqlx::query("UPDATE agreements SET accrued = $1 WHERE package = $2")
            .bind(state.accrued.to_string())
            .bind(&settlement.plugin)
            .execute(&mut *conn)
            .await
            .db()?;
        for ((investment, _, _), paid) in settlement.investors.iter().zip(&state.paid) {
            let paid = i64::try_from(*paid)
                .map_err(|_| BillingError::Overflow("an investor's payback"))?;
            sqlx::query("UPDATE investments SET paid = $1 WHERE id = $2")
                .bind(paid)
                .bind(investment)
                .execute(&mut *conn)
                .await
                .db()?;
        }
    }
    Ok(())
}

/// The summary kept with the closed period.
fn summary(closed: &PeriodClose, written: &Written<'_>) -> Result<CloseSummary> {
    let totals = totals(closed)?;
    Ok(CloseSummary {
        period: closed.period.to_string(),
        closed_at: written.now,
        closed_by: written.by.to_owned(),
        currency: written.currency.to_string(),
        records: written.records,
        invoices: closed.invoices.len(),
        statements: closed.statements.len(),
        transactions: closed.transactions.len(),
        charged: totals.charged,
        platform: totals.platform,
        authors: totals.authors,
        investors: totals.investors,
    })
}
