//! The rows of a period close: what was closed, the platform's first month,
//! gathering a period's usage and terms into the pure close's input
//! ([`gather`]), and writing its result ([`write_close`]). The platform
//! sequences them (`spleis_platform::billing::Books`) in the transactions of
//! [`super::tx::BillingTx`]; nothing here decides a rule.

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
use spleis_billing::Currency;
use spleis_billing::close::{PeriodClose, PeriodInput, PlanInForce, PluginTerms, transaction_id};
use spleis_billing::commitments::committed_plugins;
use spleis_billing::discounts::Period;
use spleis_billing::payback::PaybackState;
use spleis_billing::split::Agreement;
use spleis_billing::usage::{CallsAggregate, InstallSpan, PeriodTally, UnitsAggregate};
use spleis_domain::OutcomeKind;
use spleis_domain::billing::{
    AgreementRecord, BillingSettings, CallsRow, CloseSummary, InvestmentRecord, MetricRow,
};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

impl Store {
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
pub(crate) async fn closed_summary(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<Option<CloseSummary>> {
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

/// The earliest period before `period` holding usage (before any close).
pub(crate) async fn earliest_usage_before(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<Option<Period>> {
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
pub(crate) async fn gather(
    conn: &mut AnyConnection,
    period: Period,
    settings: &BillingSettings,
) -> Result<(PeriodInput, i64)> {
    let usage = read_usage(conn, period).await?;
    let tenants = tenant_terms(conn).await?;
    let (fundings, releases) = super::funding::fundings_in(conn, period).await?;
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
        fundings,
        releases,
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
    let mut investments = investments_by_package(conn, period).await?;
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

/// Writes everything `closed` produced and marks the period closed with
/// `summary`.
pub(crate) async fn write_close(
    store: &Store,
    conn: &mut AnyConnection,
    closed: &PeriodClose,
    summary: &CloseSummary,
    currency: Currency,
) -> Result<()> {
    let now = summary.closed_at;
    write_invoices(conn, closed, currency, now).await?;
    write_statements(conn, closed, currency, now).await?;
    for (n, transaction) in closed.transactions.iter().enumerate() {
        let id = transaction_id(closed.period, n + 1);
        write_transaction(store, conn, &id, closed.period, transaction, now).await?;
    }
    write_payback(conn, closed).await?;
    sqlx::query(
        "INSERT INTO billing_periods (period, closed_at, closed_by, summary) VALUES ($1, $2, $3, $4)",
    )
    .bind(closed.period.to_string())
    .bind(now)
    .bind(&summary.closed_by)
    .bind(to_json("the close summary", summary)?)
    .execute(&mut *conn)
    .await
    .db()?;
    sqlx::query("UPDATE billing_state SET last_closed = $1, closing = NULL WHERE id = 1")
        .bind(closed.period.to_string())
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(())
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
