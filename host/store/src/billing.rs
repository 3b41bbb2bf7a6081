//! Billing in the database: settings, price plans, agreements,
//! investments, co-funding, tenant terms and the ledger; and the period
//! close, which gathers a period's usage and terms, runs the pure
//! [`spleis_billing::close`] over them and writes invoices, statements,
//! ledger transactions and payback state in one database transaction.
//!
//! Periods close in order, each once: the close takes the `billing_state`
//! row exclusively, usage writers take it shared (on SQLite every writing
//! transaction is the one writer anyway), so a usage record is either in the
//! period being closed or lands in the next open one.

use super::accounts::{Role, new_id};
use super::{Backend, Store, StoreError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use spleis_billing::close::{
    CloseError, InstallUsage, Invoice, PeriodClose, PeriodInput, PlanInForce, PluginTerms,
    Statement, TenantTerms, close,
};
use spleis_billing::discounts::{DAY_MS, Discount, Period};
use spleis_billing::payback::{Investor, PaybackState};
use spleis_billing::rating::{Meter, PeriodUsage, PricePlan, Pricing};
use spleis_billing::split::{AfterPayback, Agreement, LedgerAccount, Transaction};
use spleis_billing::{Currency, Money};
use spleis_usage::{Blame, OutcomeKind};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// Why a billing operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// No such package.
    #[error("no package `{0}`")]
    UnknownPackage(String),
    /// No such account, or not of the role needed.
    #[error("no {role} account `{id}`")]
    UnknownAccount {
        /// The id.
        id: String,
        /// The role it needs.
        role: &'static str,
    },
    /// No such campaign, invoice or statement.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The request is malformed: an amount, a share, a plan.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the state: a period out of order, a
    /// campaign already closed.
    #[error("{0}")]
    Conflict(String),
    /// The close computation refused its input.
    #[error(transparent)]
    Close(#[from] CloseError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BillingError {
    fn from(error: sqlx::Error) -> Self {
        BillingError::Store(StoreError::Database(error))
    }
}

type Result<T> = std::result::Result<T, BillingError>;

fn corrupt(what: &str, e: impl std::fmt::Display) -> BillingError {
    BillingError::Store(StoreError::Corrupt(format!("{what}: {e}")))
}

fn bps(value: u32, what: &str) -> Result<u32> {
    if value > 10_000 {
        return Err(BillingError::Invalid(format!(
            "{what} is {value} basis points; at most 10000 (100%)"
        )));
    }
    Ok(value)
}

fn positive(minor: i64, what: &str) -> Result<i64> {
    if minor <= 0 {
        return Err(BillingError::Invalid(format!(
            "{what} must be above zero (minor units), not {minor}"
        )));
    }
    Ok(minor)
}

/// The platform's billing settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillingSettings {
    /// What every plan and invoice is in.
    pub currency: Currency,
    /// The platform fee for plugins without an agreement, basis points.
    pub platform_fee_bps: u32,
    /// The last closed period.
    pub last_closed: Option<Period>,
}

/// The period something recorded at `at_ms` is billed in: its calendar
/// month, or, when that month is already closed, the first open one.
pub fn billing_period(at_ms: i64, last_closed: Option<Period>) -> Period {
    let calendar = Period::containing(at_ms);
    match last_closed {
        Some(closed) if calendar <= closed => closed.next(),
        _ => calendar,
    }
}

impl BillingSettings {
    /// The first period still open at `now_ms`: usage recorded now lands here.
    pub fn open_period(&self, now_ms: i64) -> Period {
        billing_period(now_ms, self.last_closed)
    }
}

/// A plan as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanRecord {
    /// The package.
    pub package: String,
    /// 1, 2, … per package.
    pub seq: i64,
    /// The first period it applies to.
    pub effective_from: Period,
    /// The plan.
    pub plan: PricePlan,
    /// Who set it.
    pub created_by: String,
}

impl PlanRecord {
    /// The name invoices show.
    pub fn id(&self) -> String {
        format!("{} plan {}", self.package, self.seq)
    }
}

/// A plugin's revenue agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementRecord {
    /// The package.
    pub package: String,
    /// Who receives the author's part.
    pub author: String,
    /// The platform's fee, basis points of what tenants are charged.
    pub platform_fee_bps: u32,
    /// The investors' pool, basis points of the plugin's revenue.
    pub investor_share_bps: u32,
    /// What happens after payback.
    pub after_payback: AfterPayback,
    /// Payback accrual so far (1/10000 minor units).
    #[serde(skip)]
    pub accrued: u128,
    /// Whether an operator set it (otherwise the defaults apply).
    pub explicit: bool,
}

/// An investment in a plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvestmentRecord {
    /// Its id.
    pub id: String,
    /// The plugin.
    pub package: String,
    /// The investing tenant.
    pub investor: String,
    /// Minor units invested.
    pub principal: i64,
    /// The return on top, basis points.
    pub return_bps: u32,
    /// Principal plus return: what it receives in all.
    pub cap: i64,
    /// Received so far (closed periods).
    pub paid: i64,
    /// The campaign it came from.
    pub campaign: Option<String>,
    /// When it was funded (unix ms): the payback tie-break.
    pub funded_at: i64,
}

/// A co-funding campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignRecord {
    /// Its id.
    pub id: String,
    /// The plugin the feature is for.
    pub package: String,
    /// What is funded.
    pub title: String,
    /// The goal, minor units of the platform currency.
    pub goal: i64,
    /// Unix ms; pledges after it do not count.
    pub deadline: i64,
    /// Return for investors, basis points.
    pub return_bps: u32,
    /// `open`, `funded` or `lapsed`.
    pub status: String,
    /// Pledged so far.
    pub pledged: i64,
    /// The pledges, by time.
    pub pledges: Vec<PledgeRecord>,
}

/// A pledge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PledgeRecord {
    /// Who.
    pub tenant: String,
    /// Minor units.
    pub amount: i64,
    /// When (unix ms).
    pub at: i64,
}

/// What a close wrote, kept with the closed period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CloseSummary {
    /// The period.
    pub period: String,
    /// When it was closed (unix ms).
    pub closed_at: i64,
    /// By whom.
    pub closed_by: String,
    /// The currency.
    pub currency: String,
    /// Usage records billed.
    pub records: i64,
    /// Invoices written.
    pub invoices: usize,
    /// Statements written.
    pub statements: usize,
    /// Ledger transactions written.
    pub transactions: usize,
    /// What tenants were charged (invoice totals).
    pub charged: i64,
    /// Net to the platform (fees, top-ups, after discounts).
    pub platform: i64,
    /// To authors.
    pub authors: i64,
    /// To investors.
    pub investors: i64,
}

/// A stored invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceDocument {
    /// `INV-202611-0001`.
    pub number: String,
    /// The period.
    pub period: String,
    /// The currency.
    pub currency: Currency,
    /// When it was issued (unix ms).
    pub issued_at: i64,
    /// The invoice.
    #[serde(flatten)]
    pub invoice: Invoice,
}

/// A stored statement (credit note).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementDocument {
    /// `ST-202611-0001`.
    pub number: String,
    /// The period.
    pub period: String,
    /// The currency.
    pub currency: Currency,
    /// When it was issued (unix ms).
    pub issued_at: i64,
    /// The statement.
    #[serde(flatten)]
    pub statement: Statement,
}

/// One row of the usage report: calls of one operation with one outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallsRow {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The operation.
    pub operation: String,
    /// The outcome kind.
    pub outcome: String,
    /// The plugin version.
    pub version: String,
    /// Calls.
    pub calls: i64,
    /// Fuel.
    pub fuel: i64,
}

/// One row of the usage report: units of one metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetricRow {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The metric.
    pub metric: String,
    /// Summed quantity, or distinct keys for unique metrics.
    pub units: i64,
    /// Whether it counts distinct keys.
    pub unique: bool,
}

/// A period's usage, aggregated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageReport {
    /// The period.
    pub period: String,
    /// Calls by tenant, plugin, operation, outcome and version.
    pub calls: Vec<CallsRow>,
    /// Metric units by tenant, plugin and metric.
    pub metrics: Vec<MetricRow>,
}

/// A ledger account's balance (debits positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Balance {
    /// The account.
    pub account: LedgerAccount,
    /// Its balance, minor units.
    pub balance: i64,
}

fn account_parts(account: &LedgerAccount) -> (&'static str, &str) {
    match account {
        LedgerAccount::TenantReceivable(id) => ("tenant-receivable", id),
        LedgerAccount::Credit(id) => ("credit", id),
        LedgerAccount::PlatformRevenue => ("platform-revenue", ""),
        LedgerAccount::AuthorPayable(id) => ("author-payable", id),
        LedgerAccount::InvestorPayable(id) => ("investor-payable", id),
    }
}

fn account_from(kind: &str, id: String) -> Result<LedgerAccount> {
    Ok(match kind {
        "tenant-receivable" => LedgerAccount::TenantReceivable(id),
        "credit" => LedgerAccount::Credit(id),
        "platform-revenue" => LedgerAccount::PlatformRevenue,
        "author-payable" => LedgerAccount::AuthorPayable(id),
        "investor-payable" => LedgerAccount::InvestorPayable(id),
        other => return Err(corrupt("ledger account kind", other)),
    })
}

fn period_of(text: &str) -> Result<Period> {
    text.parse().map_err(|e| corrupt("period", e))
}

/// Checks what rating would refuse, when the plan is set rather than at close.
fn validate_plan(plan: &PricePlan) -> Result<()> {
    for (i, charge) in plan.charges.iter().enumerate() {
        let n = i + 1;
        if charge.free_units.is_sign_negative() {
            return Err(BillingError::Invalid(format!(
                "charge {n}: free units cannot be negative"
            )));
        }
        match &charge.meter {
            Meter::Fuel { per: 0 } => {
                return Err(BillingError::Invalid(format!(
                    "charge {n}: a fuel block must be at least 1"
                )));
            }
            Meter::Metric { metric } if metric.is_empty() => {
                return Err(BillingError::Invalid(format!(
                    "charge {n}: name the metric"
                )));
            }
            _ => {}
        }
        match &charge.pricing {
            Pricing::Unit { price } if price.is_sign_negative() => {
                return Err(BillingError::Invalid(format!(
                    "charge {n}: a unit price cannot be negative"
                )));
            }
            Pricing::Tiered { tiers, mode } => {
                spleis_billing::tiers::amount(Decimal::ONE, tiers, *mode)
                    .map_err(|e| BillingError::Invalid(format!("charge {n}: {e}")))?;
            }
            Pricing::Unit { .. } => {}
        }
    }
    Ok(())
}

/// Refuses a plan that names a metric or an operation no published version
/// of the plugin declares: it would silently never charge.
async fn check_plan_against_manifests(
    conn: &mut AnyConnection,
    package: &str,
    plan: &PricePlan,
) -> Result<()> {
    let mut metrics = BTreeSet::new();
    let mut operations = BTreeSet::new();
    for row in sqlx::query("SELECT manifest FROM versions WHERE package = $1")
        .bind(package)
        .fetch_all(&mut *conn)
        .await?
    {
        let text: String = row.try_get("manifest")?;
        let manifest: spleis_registry::Manifest =
            serde_json::from_str(&text).map_err(|e| corrupt("manifest", e))?;
        metrics.extend(manifest.metrics.into_keys());
        operations.extend(manifest.operations);
    }
    let known = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
    for (i, charge) in plan.charges.iter().enumerate() {
        match &charge.meter {
            Meter::Metric { metric } if !metrics.contains(metric) => {
                return Err(BillingError::Invalid(format!(
                    "charge {}: {package} declares no metric `{metric}` (declared: {})",
                    i + 1,
                    known(&metrics)
                )));
            }
            Meter::Calls {
                operation: Some(op),
            } if !operations.contains(op) => {
                return Err(BillingError::Invalid(format!(
                    "charge {}: {package} has no operation `{op}` (operations: {})",
                    i + 1,
                    known(&operations)
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Days of `period` an install existing over `[from, to)` touched.
fn days_installed(period: Period, from: i64, to: Option<i64>) -> u32 {
    let start = from.max(period.start_ms());
    let end = to.unwrap_or(i64::MAX).min(period.end_ms());
    if end <= start {
        return 0;
    }
    let first = start.div_euclid(DAY_MS);
    let last = (end - 1).div_euclid(DAY_MS);
    u32::try_from(last - first + 1).unwrap_or(0)
}

async fn package_exists(conn: &mut AnyConnection, package: &str) -> Result<()> {
    sqlx::query("SELECT name FROM packages WHERE name = $1")
        .bind(package)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| BillingError::UnknownPackage(package.to_owned()))?;
    Ok(())
}

async fn account_with_role(conn: &mut AnyConnection, id: &str, role: Role) -> Result<()> {
    let found: Option<String> = sqlx::query("SELECT role FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("role"))
        .transpose()?;
    match found {
        Some(r) if r == role.as_str() => Ok(()),
        _ => Err(BillingError::UnknownAccount {
            id: id.to_owned(),
            role: role.as_str(),
        }),
    }
}

async fn settings_in(conn: &mut AnyConnection, lock: &str) -> Result<BillingSettings> {
    let row = sqlx::query(&format!(
        "SELECT currency, platform_fee_bps, last_closed FROM billing_state WHERE id = 1{lock}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let currency: String = row.try_get("currency")?;
    let last: Option<String> = row.try_get("last_closed")?;
    Ok(BillingSettings {
        currency: Currency::new(&currency).map_err(|e| corrupt("currency", e))?,
        platform_fee_bps: u32::try_from(row.try_get::<i64, _>("platform_fee_bps")?)
            .map_err(|e| corrupt("platform fee", e))?,
        last_closed: last.as_deref().map(period_of).transpose()?,
    })
}

async fn write_transaction(
    store: &Store,
    conn: &mut AnyConnection,
    id: &str,
    period: Period,
    tx: &Transaction,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_transactions (id, period, memo, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(period.to_string())
    .bind(&tx.memo)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // A plugin's revenue transaction has an entry per paying tenant: many
    // rows a statement, one round trip each.
    const COLUMNS: usize = 5;
    const ROWS: usize = 200;
    for (chunk_no, chunk) in tx.entries.chunks(ROWS).enumerate() {
        let sql = format!(
            "INSERT INTO ledger_entries (txn, seq, account_kind, account_id, amount) VALUES {}",
            store.values_list(chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for (i, (account, amount)) in chunk.iter().enumerate() {
            let (kind, account_id) = account_parts(account);
            query = query
                .bind(id)
                .bind((chunk_no * ROWS + i) as i64)
                .bind(kind)
                .bind(account_id)
                .bind(*amount);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn author_of(conn: &mut AnyConnection, package: &str) -> Result<String> {
    let row = sqlx::query(
        "SELECT published_by FROM versions WHERE package = $1 ORDER BY published_at, version LIMIT 1",
    )
    .bind(package)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| BillingError::UnknownPackage(package.to_owned()))?;
    Ok(row.try_get("published_by")?)
}

async fn agreement_in(
    conn: &mut AnyConnection,
    package: &str,
    settings: &BillingSettings,
) -> Result<AgreementRecord> {
    let row = sqlx::query(
        "SELECT author, platform_fee_bps, investor_share_bps, after_payback, accrued FROM agreements WHERE package = $1",
    )
    .bind(package)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => agreement_from(package, &row),
        None => Ok(AgreementRecord {
            package: package.to_owned(),
            author: author_of(conn, package).await?,
            platform_fee_bps: settings.platform_fee_bps,
            investor_share_bps: 0,
            after_payback: AfterPayback::AuthorKeeps,
            accrued: 0,
            explicit: false,
        }),
    }
}

fn agreement_from(package: &str, row: &sqlx::any::AnyRow) -> Result<AgreementRecord> {
    let after: String = row.try_get("after_payback")?;
    let accrued: String = row.try_get("accrued")?;
    Ok(AgreementRecord {
        package: package.to_owned(),
        author: row.try_get("author")?,
        platform_fee_bps: u32::try_from(row.try_get::<i64, _>("platform_fee_bps")?)
            .map_err(|e| corrupt("fee", e))?,
        investor_share_bps: u32::try_from(row.try_get::<i64, _>("investor_share_bps")?)
            .map_err(|e| corrupt("share", e))?,
        after_payback: serde_json::from_value(serde_json::Value::String(after))
            .map_err(|e| corrupt("after_payback", e))?,
        accrued: accrued.parse().map_err(|e| corrupt("accrued", e))?,
        explicit: true,
    })
}

fn investment_from(row: &sqlx::any::AnyRow) -> Result<InvestmentRecord> {
    let principal: i64 = row.try_get("principal")?;
    let return_bps =
        u32::try_from(row.try_get::<i64, _>("return_bps")?).map_err(|e| corrupt("return", e))?;
    let cap = Investor {
        id: String::new(),
        principal: u64::try_from(principal).map_err(|e| corrupt("principal", e))?,
        return_bps,
    }
    .cap();
    Ok(InvestmentRecord {
        id: row.try_get("id")?,
        package: row.try_get("package")?,
        investor: row.try_get("investor")?,
        principal,
        return_bps,
        cap: i64::try_from(cap).map_err(|e| corrupt("cap", e))?,
        paid: row.try_get("paid")?,
        campaign: row.try_get("campaign")?,
        funded_at: row.try_get("funded_at")?,
    })
}

const INVESTMENT_COLUMNS: &str =
    "id, package, investor, principal, return_bps, paid, campaign, funded_at";

/// Records an investment in the plugin of `agreement` and books its money:
/// the investor's receivable is debited, the author's payable credited (the
/// author builds with it).
#[allow(clippy::too_many_arguments)]
async fn insert_investment(
    store: &Store,
    conn: &mut AnyConnection,
    settings: &BillingSettings,
    agreement: &AgreementRecord,
    investor: &str,
    principal: i64,
    return_bps: u32,
    campaign: Option<&str>,
    at: i64,
    now: i64,
) -> Result<InvestmentRecord> {
    let package = agreement.package.as_str();
    let id = format!("inv-{}", &new_id()?[..12]);
    sqlx::query(&format!(
        "INSERT INTO investments ({INVESTMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)"
    ))
    .bind(&id)
    .bind(package)
    .bind(investor)
    .bind(principal)
    .bind(i64::from(return_bps))
    .bind(campaign)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    let tx = Transaction::new(
        format!("investment {id} by {investor} in {package}"),
        vec![
            (
                LedgerAccount::TenantReceivable(investor.to_owned()),
                principal,
            ),
            (
                LedgerAccount::AuthorPayable(agreement.author.clone()),
                -principal,
            ),
        ],
    )
    .map_err(|e| corrupt("investment", e))?;
    write_transaction(
        store,
        conn,
        &format!("tx-{}", new_id()?),
        settings.open_period(now),
        &tx,
        now,
    )
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {INVESTMENT_COLUMNS} FROM investments WHERE id = $1"
    ))
    .bind(&id)
    .fetch_one(&mut *conn)
    .await?;
    investment_from(&row)
}

/// Aggregates one period's calls.
async fn aggregate_calls(conn: &mut AnyConnection, period: Period) -> Result<Vec<CallsRow>> {
    let rows = sqlx::query(
        "SELECT tenant, plugin, operation, outcome, version, COUNT(*) AS calls, CAST(SUM(fuel) AS BIGINT) AS fuel \
         FROM usage_records WHERE period = $1 GROUP BY tenant, plugin, operation, outcome, version",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CallsRow {
                tenant: r.try_get("tenant")?,
                plugin: r.try_get("plugin")?,
                operation: r.try_get("operation")?,
                outcome: r.try_get("outcome")?,
                version: r.try_get("version")?,
                calls: r.try_get("calls")?,
                fuel: r.try_get("fuel")?,
            })
        })
        .collect()
}

/// Aggregates one period's metric units: sums, or distinct keys.
async fn aggregate_metrics(conn: &mut AnyConnection, period: Period) -> Result<Vec<MetricRow>> {
    let rows = sqlx::query(
        "SELECT tenant, plugin, metric, CASE WHEN unit_key = '' THEN 0 ELSE 1 END AS keyed, \
         COUNT(DISTINCT unit_key) AS keys, CAST(SUM(quantity) AS BIGINT) AS total \
         FROM usage_units WHERE period = $1 \
         GROUP BY tenant, plugin, metric, CASE WHEN unit_key = '' THEN 0 ELSE 1 END",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let unique = r.try_get::<i64, _>("keyed")? == 1;
            Ok(MetricRow {
                tenant: r.try_get("tenant")?,
                plugin: r.try_get("plugin")?,
                metric: r.try_get("metric")?,
                units: if unique {
                    r.try_get("keys")?
                } else {
                    r.try_get("total")?
                },
                unique,
            })
        })
        .collect()
}

fn outcome_blame(outcome: &str) -> Result<Blame> {
    let kind: OutcomeKind = serde_json::from_value(serde_json::Value::String(outcome.to_owned()))
        .map_err(|e| corrupt("usage outcome", e))?;
    Ok(kind.blame())
}

#[derive(Default)]
struct Tally {
    usage: PeriodUsage,
    failed_fuel: u128,
    versions: BTreeSet<semver::Version>,
}

/// Everything the close of `period` needs, read through `conn`.
async fn gather(
    conn: &mut AnyConnection,
    period: Period,
    settings: &BillingSettings,
) -> Result<(PeriodInput, i64)> {
    let p = period.to_string();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut records = 0;
    for row in aggregate_calls(conn, period).await? {
        records += row.calls;
        let tally = tallies.entry((row.tenant, row.plugin)).or_default();
        if let Ok(v) = semver::Version::parse(&row.version) {
            tally.versions.insert(v);
        }
        let calls = u64::try_from(row.calls).unwrap_or(0);
        let fuel = u128::try_from(row.fuel).unwrap_or(0);
        match outcome_blame(&row.outcome)? {
            Blame::None => {
                *tally.usage.calls.entry(row.operation).or_default() += calls;
                tally.usage.fuel += fuel;
            }
            Blame::Guest => {
                *tally.usage.failed_calls.entry(row.operation).or_default() += calls;
                tally.failed_fuel += fuel;
            }
            // A host fault is never the tenant's cost.
            Blame::Host => {}
        }
    }
    for row in aggregate_metrics(conn, period).await? {
        let tally = tallies.entry((row.tenant, row.plugin)).or_default();
        *tally.usage.metrics.entry(row.metric).or_default() +=
            u64::try_from(row.units).unwrap_or(0);
    }
    let installs = sqlx::query(
        "SELECT tenant, package, installed_at, uninstalled_at FROM installs \
         WHERE installed_at < $1 AND (uninstalled_at IS NULL OR uninstalled_at >= $2)",
    )
    .bind(period.end_ms())
    .bind(period.start_ms())
    .fetch_all(&mut *conn)
    .await?;
    for row in installs {
        let days = days_installed(
            period,
            row.try_get("installed_at")?,
            row.try_get("uninstalled_at")?,
        );
        let tally = tallies
            .entry((row.try_get("tenant")?, row.try_get("package")?))
            .or_default();
        tally.usage.days_installed = days;
    }

    // Plans in force: the latest effective by this period, per package.
    let mut plans: BTreeMap<String, PlanInForce> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT package, seq, plan FROM price_plans WHERE effective_from <= $1 ORDER BY package, effective_from, seq",
    )
    .bind(&p)
    .fetch_all(&mut *conn)
    .await?
    {
        let package: String = row.try_get("package")?;
        let seq: i64 = row.try_get("seq")?;
        let plan: String = row.try_get("plan")?;
        plans.insert(
            package.clone(),
            PlanInForce {
                id: format!("{package} plan {seq}"),
                plan: serde_json::from_str(&plan).map_err(|e| corrupt("plan", e))?,
            },
        );
    }
    let mut investments: BTreeMap<String, Vec<InvestmentRecord>> = BTreeMap::new();
    for row in sqlx::query(&format!(
        "SELECT {INVESTMENT_COLUMNS} FROM investments ORDER BY package, funded_at, id"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        let investment = investment_from(&row)?;
        investments
            .entry(investment.package.clone())
            .or_default()
            .push(investment);
    }

    let plugins_used: BTreeSet<String> = tallies.keys().map(|(_, p)| p.clone()).collect();
    let mut plugins = BTreeMap::new();
    for plugin in plugins_used {
        let agreement = agreement_in(conn, &plugin, settings).await?;
        let invested = investments.remove(&plugin).unwrap_or_default();
        plugins.insert(
            plugin.clone(),
            PluginTerms {
                plan: plans.remove(&plugin),
                author: agreement.author.clone(),
                agreement: Agreement {
                    platform_fee_bps: agreement.platform_fee_bps,
                    investors: invested
                        .iter()
                        .map(|i| Investor {
                            id: i.id.clone(),
                            principal: u64::try_from(i.principal).unwrap_or(0),
                            return_bps: i.return_bps,
                        })
                        .collect(),
                    investor_share_bps: agreement.investor_share_bps,
                    after_payback: agreement.after_payback,
                },
                investor_accounts: invested.iter().map(|i| i.investor.clone()).collect(),
                payback: PaybackState {
                    accrued: agreement.accrued,
                    paid: invested
                        .iter()
                        .map(|i| u64::try_from(i.paid).unwrap_or(0))
                        .collect(),
                },
            },
        );
    }

    let days = period.days();
    let installs = tallies
        .into_iter()
        .map(|((tenant, plugin), mut tally)| {
            let charge_failed = plugins
                .get(&plugin)
                .and_then(|t: &PluginTerms| t.plan.as_ref())
                .is_some_and(|p| p.plan.charge_failed_calls);
            if charge_failed {
                tally.usage.fuel += tally.failed_fuel;
            }
            tally.usage.days_in_period = days;
            InstallUsage {
                tenant,
                plugin,
                versions: tally.versions.iter().map(|v| v.to_string()).collect(),
                usage: tally.usage,
            }
        })
        .collect();

    let mut tenants: BTreeMap<String, TenantTerms> = BTreeMap::new();
    for row in sqlx::query("SELECT tenant, minimum FROM tenant_terms")
        .fetch_all(&mut *conn)
        .await?
    {
        tenants.entry(row.try_get("tenant")?).or_default().minimum = row.try_get("minimum")?;
    }
    for row in sqlx::query(
        "SELECT tenant, reason, amount, from_period, to_period FROM discounts ORDER BY created_at, id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let amount: String = row.try_get("amount")?;
        let from: String = row.try_get("from_period")?;
        let to: String = row.try_get("to_period")?;
        tenants
            .entry(row.try_get("tenant")?)
            .or_default()
            .discounts
            .push(Discount {
                reason: row.try_get("reason")?,
                amount: serde_json::from_str(&amount).map_err(|e| corrupt("discount", e))?,
                from: period_of(&from)?,
                to: period_of(&to)?,
            });
    }
    for row in sqlx::query(
        "SELECT account_id, CAST(SUM(amount) AS BIGINT) AS balance FROM ledger_entries \
         WHERE account_kind = 'credit' GROUP BY account_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let balance: i64 = row.try_get("balance")?;
        tenants
            .entry(row.try_get("account_id")?)
            .or_default()
            .credit = -balance;
    }
    Ok((
        PeriodInput {
            period,
            currency: settings.currency,
            installs,
            plugins,
            tenants,
        },
        records,
    ))
}

fn compact(period: Period) -> String {
    format!("{:04}{:02}", period.year, period.month)
}

impl Store {
    /// Takes the billing lock shared (usage writers) and returns the last
    /// closed period. On SQLite the transaction already is the one writer
    /// ([`Store::begin_write`]); PostgreSQL locks the row.
    pub(crate) async fn lock_periods_shared(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> std::result::Result<Option<Period>, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        };
        match settings_in(tx, lock).await {
            Ok(settings) => Ok(settings.last_closed),
            Err(BillingError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        }
    }

    async fn lock_periods_exclusive(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<BillingSettings> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        settings_in(tx, lock).await
    }

    /// The billing settings.
    pub async fn billing_settings(&self) -> Result<BillingSettings> {
        let mut conn = self.pool().acquire().await?;
        settings_in(&mut conn, "").await
    }

    /// Changes the currency (only before any plan or ledger entry exists)
    /// or the default platform fee.
    pub async fn set_billing_settings(
        &self,
        currency: Option<Currency>,
        platform_fee_bps: Option<u32>,
    ) -> Result<BillingSettings> {
        let mut tx = self.begin_write().await?;
        let current = self.lock_periods_exclusive(&mut tx).await?;
        if let Some(currency) = currency
            && currency != current.currency
        {
            let used = sqlx::query(
                "SELECT 1 AS used FROM price_plans UNION ALL SELECT 1 AS used FROM ledger_entries LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            if used.is_some() {
                return Err(BillingError::Conflict(format!(
                    "the platform bills in {} and already has plans or ledger entries; its currency cannot change",
                    current.currency
                )));
            }
            sqlx::query("UPDATE billing_state SET currency = $1 WHERE id = 1")
                .bind(currency.code())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(fee) = platform_fee_bps {
            sqlx::query("UPDATE billing_state SET platform_fee_bps = $1 WHERE id = 1")
                .bind(i64::from(bps(fee, "the platform fee")?))
                .execute(&mut *tx)
                .await?;
        }
        let settings = settings_in(&mut tx, "").await?;
        tx.commit().await?;
        Ok(settings)
    }

    /// Sets a new plan for `package`. A plugin's first plan applies from the
    /// open period; a change applies from the period after it, so a month
    /// already under way keeps the prices its tenants saw.
    pub async fn set_plan(
        &self,
        package: &str,
        plan: &PricePlan,
        by: &str,
        now: i64,
    ) -> Result<PlanRecord> {
        validate_plan(plan)?;
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        check_plan_against_manifests(&mut tx, package, plan).await?;
        if plan.currency != settings.currency {
            return Err(BillingError::Invalid(format!(
                "the plan is in {}, but the platform bills in {}",
                plan.currency, settings.currency
            )));
        }
        let last: Option<i64> =
            sqlx::query("SELECT MAX(seq) AS seq FROM price_plans WHERE package = $1")
                .bind(package)
                .fetch_one(&mut *tx)
                .await?
                .try_get("seq")?;
        let open = settings.open_period(now);
        let effective_from = if last.is_some() { open.next() } else { open };
        let seq = last.unwrap_or(0) + 1;
        let text = serde_json::to_string(plan).map_err(|e| corrupt("plan", e))?;
        sqlx::query(
            "INSERT INTO price_plans (package, seq, effective_from, plan, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(package)
        .bind(seq)
        .bind(effective_from.to_string())
        .bind(text)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PlanRecord {
            package: package.to_owned(),
            seq,
            effective_from,
            plan: plan.clone(),
            created_by: by.to_owned(),
        })
    }

    /// A package's plans, oldest first.
    pub async fn plans(&self, package: &str) -> Result<Vec<PlanRecord>> {
        let mut conn = self.pool().acquire().await?;
        package_exists(&mut conn, package).await?;
        let rows = sqlx::query(
            "SELECT seq, effective_from, plan, created_by FROM price_plans WHERE package = $1 ORDER BY seq",
        )
        .bind(package)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let plan: String = r.try_get("plan")?;
                let from: String = r.try_get("effective_from")?;
                Ok(PlanRecord {
                    package: package.to_owned(),
                    seq: r.try_get("seq")?,
                    effective_from: period_of(&from)?,
                    plan: serde_json::from_str(&plan).map_err(|e| corrupt("plan", e))?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect()
    }

    /// A package's agreement (the defaults when none was set).
    pub async fn agreement(&self, package: &str) -> Result<AgreementRecord> {
        let settings = self.billing_settings().await?;
        let mut conn = self.pool().acquire().await?;
        package_exists(&mut conn, package).await?;
        agreement_in(&mut conn, package, &settings).await
    }

    /// Sets a package's agreement; fields left `None` keep their value.
    /// It applies from the next close.
    pub async fn set_agreement(
        &self,
        package: &str,
        author: Option<&str>,
        platform_fee_bps: Option<u32>,
        investor_share_bps: Option<u32>,
        after_payback: Option<AfterPayback>,
        now: i64,
    ) -> Result<AgreementRecord> {
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        let current = agreement_in(&mut tx, package, &settings).await?;
        if let Some(author) = author {
            account_with_role(&mut tx, author, Role::Author).await?;
        }
        let next = AgreementRecord {
            author: author.map_or(current.author.clone(), str::to_owned),
            platform_fee_bps: bps(
                platform_fee_bps.unwrap_or(current.platform_fee_bps),
                "the platform fee",
            )?,
            investor_share_bps: bps(
                investor_share_bps.unwrap_or(current.investor_share_bps),
                "the investor share",
            )?,
            after_payback: after_payback.unwrap_or(current.after_payback),
            explicit: true,
            ..current
        };
        let after = serde_json::to_value(next.after_payback)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO agreements (package, author, platform_fee_bps, investor_share_bps, after_payback, accrued, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (package) DO UPDATE SET author = excluded.author, \
             platform_fee_bps = excluded.platform_fee_bps, investor_share_bps = excluded.investor_share_bps, \
             after_payback = excluded.after_payback, updated_at = excluded.updated_at",
        )
        .bind(package)
        .bind(&next.author)
        .bind(i64::from(next.platform_fee_bps))
        .bind(i64::from(next.investor_share_bps))
        .bind(after)
        .bind(next.accrued.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Records a tenant's investment in a plugin whose agreement gives
    /// investors a share.
    pub async fn invest(
        &self,
        package: &str,
        investor: &str,
        principal: i64,
        return_bps: u32,
        now: i64,
    ) -> Result<InvestmentRecord> {
        positive(principal, "the principal")?;
        bps(return_bps, "the return")?;
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        account_with_role(&mut tx, investor, Role::Tenant).await?;
        let agreement = agreement_in(&mut tx, package, &settings).await?;
        if agreement.investor_share_bps == 0 {
            return Err(BillingError::Conflict(format!(
                "the agreement of {package} gives investors no share; set one first (spleis billing agreement {package} --investor-share-bps N)"
            )));
        }
        let record = insert_investment(
            self, &mut tx, &settings, &agreement, investor, principal, return_bps, None, now, now,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Investments, of one investor or in one package, or all.
    pub async fn investments(
        &self,
        investor: Option<&str>,
        package: Option<&str>,
    ) -> Result<Vec<InvestmentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {INVESTMENT_COLUMNS} FROM investments WHERE ($1 = '' OR investor = $2) AND ($3 = '' OR package = $4) \
             ORDER BY package, funded_at, id"
        ))
        .bind(investor.unwrap_or(""))
        .bind(investor.unwrap_or(""))
        .bind(package.unwrap_or(""))
        .bind(package.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(investment_from).collect()
    }

    /// Opens a co-funding campaign for a feature of `package`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_campaign(
        &self,
        package: &str,
        title: &str,
        goal: i64,
        deadline: i64,
        return_bps: u32,
        by: &str,
        now: i64,
    ) -> Result<CampaignRecord> {
        positive(goal, "the goal")?;
        bps(return_bps, "the return")?;
        if deadline <= now {
            return Err(BillingError::Invalid(
                "the deadline must be in the future".into(),
            ));
        }
        if title.trim().is_empty() {
            return Err(BillingError::Invalid("name what the campaign funds".into()));
        }
        let mut conn = self.pool().acquire().await?;
        package_exists(&mut conn, package).await?;
        let id = format!("cf-{}", &new_id()?[..12]);
        sqlx::query(
            "INSERT INTO campaigns (id, package, title, goal, deadline, return_bps, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
        )
        .bind(&id)
        .bind(package)
        .bind(title.trim())
        .bind(goal)
        .bind(deadline)
        .bind(i64::from(return_bps))
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        drop(conn);
        self.campaign(&id).await
    }

    /// A campaign with its pledges.
    pub async fn campaign(&self, id: &str) -> Result<CampaignRecord> {
        let row = sqlx::query(
            "SELECT id, package, title, goal, deadline, return_bps, status FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| BillingError::NotFound {
            what: "campaign",
            id: id.to_owned(),
        })?;
        let pledges = sqlx::query(
            "SELECT tenant, amount, at FROM pledges WHERE campaign = $1 ORDER BY at, tenant",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|p| {
            Ok(PledgeRecord {
                tenant: p.try_get("tenant")?,
                amount: p.try_get("amount")?,
                at: p.try_get("at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(CampaignRecord {
            id: row.try_get("id")?,
            package: row.try_get("package")?,
            title: row.try_get("title")?,
            goal: row.try_get("goal")?,
            deadline: row.try_get("deadline")?,
            return_bps: u32::try_from(row.try_get::<i64, _>("return_bps")?)
                .map_err(|e| corrupt("return", e))?,
            status: row.try_get("status")?,
            pledged: pledges.iter().map(|p| p.amount).sum(),
            pledges,
        })
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let ids: Vec<String> = sqlx::query("SELECT id FROM campaigns ORDER BY created_at DESC, id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut campaigns = Vec::new();
        for id in ids {
            campaigns.push(self.campaign(&id).await?);
        }
        Ok(campaigns)
    }

    /// A tenant pledges `amount` (replacing its earlier pledge) before the
    /// deadline of an open campaign.
    pub async fn pledge(
        &self,
        campaign: &str,
        tenant: &str,
        amount: i64,
        now: i64,
    ) -> Result<CampaignRecord> {
        positive(amount, "a pledge")?;
        let current = self.campaign(campaign).await?;
        if current.status != "open" || now > current.deadline {
            return Err(BillingError::Conflict(format!(
                "the campaign {campaign} no longer takes pledges (it is {}; its deadline was {})",
                current.status, current.deadline
            )));
        }
        sqlx::query(
            "INSERT INTO pledges (campaign, tenant, amount, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (campaign, tenant) DO UPDATE SET amount = excluded.amount, at = excluded.at",
        )
        .bind(campaign)
        .bind(tenant)
        .bind(amount)
        .bind(now)
        .execute(self.pool())
        .await?;
        self.campaign(campaign).await
    }

    /// Closes a campaign after its deadline: met, its pledges become
    /// investments (booked now); short, they lapse and nothing is charged.
    pub async fn close_campaign(&self, id: &str, now: i64) -> Result<CampaignRecord> {
        let campaign = self.campaign(id).await?;
        if campaign.status != "open" {
            return Ok(campaign);
        }
        if now <= campaign.deadline {
            return Err(BillingError::Conflict(format!(
                "the campaign {id} runs until its deadline ({}); close it after",
                campaign.deadline
            )));
        }
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        let pure = spleis_billing::cofunding::Campaign {
            goal: Money::new(campaign.goal, settings.currency),
            deadline: campaign.deadline,
            return_bps: campaign.return_bps,
            pledges: campaign
                .pledges
                .iter()
                .map(|p| spleis_billing::cofunding::Pledge {
                    tenant: p.tenant.clone(),
                    amount: u64::try_from(p.amount).unwrap_or(0),
                    at: p.at,
                })
                .collect(),
        };
        let status = match spleis_billing::cofunding::close(&pure)
            .map_err(|e| BillingError::Invalid(e.to_string()))?
        {
            spleis_billing::cofunding::Outcome::Funded(investors) => {
                let agreement = agreement_in(&mut tx, &campaign.package, &settings).await?;
                if agreement.investor_share_bps == 0 {
                    return Err(BillingError::Conflict(format!(
                        "the campaign met its goal, but the agreement of {} gives investors no share; set one, then close again",
                        campaign.package
                    )));
                }
                for investor in investors {
                    let at = campaign
                        .pledges
                        .iter()
                        .find(|p| p.tenant == investor.id)
                        .map_or(now, |p| p.at);
                    insert_investment(
                        self,
                        &mut tx,
                        &settings,
                        &agreement,
                        &investor.id,
                        i64::try_from(investor.principal).unwrap_or(i64::MAX),
                        investor.return_bps,
                        Some(id),
                        at,
                        now,
                    )
                    .await?;
                }
                "funded"
            }
            spleis_billing::cofunding::Outcome::Lapsed { .. } => "lapsed",
        };
        sqlx::query("UPDATE campaigns SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.campaign(id).await
    }

    /// Sets a tenant's minimum monthly commitment (0 removes it).
    pub async fn set_minimum(&self, tenant: &str, minimum: i64) -> Result<()> {
        if minimum < 0 {
            return Err(BillingError::Invalid(format!(
                "a minimum commitment cannot be negative, not {minimum}"
            )));
        }
        let mut conn = self.pool().acquire().await?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        sqlx::query(
            "INSERT INTO tenant_terms (tenant, minimum) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET minimum = excluded.minimum",
        )
        .bind(tenant)
        .bind(minimum)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Gives a tenant a discount over a range of periods.
    pub async fn add_discount(
        &self,
        tenant: &str,
        discount: &Discount,
        now: i64,
    ) -> Result<String> {
        if discount.from > discount.to {
            return Err(BillingError::Invalid(format!(
                "the discount runs from {} to {}: the end is before the start",
                discount.from, discount.to
            )));
        }
        match discount.amount {
            spleis_billing::discounts::DiscountAmount::Percent { bps: b } => {
                bps(b, "a discount")?;
            }
            spleis_billing::discounts::DiscountAmount::Fixed { minor } => {
                positive(minor, "a fixed discount")?;
            }
        }
        let mut conn = self.pool().acquire().await?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        let id = format!("dis-{}", &new_id()?[..12]);
        sqlx::query(
            "INSERT INTO discounts (id, tenant, reason, amount, from_period, to_period, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(&discount.reason)
        .bind(serde_json::to_string(&discount.amount).map_err(|e| corrupt("discount", e))?)
        .bind(discount.from.to_string())
        .bind(discount.to.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }

    /// Books prepaid credit for a tenant in the open period; returns the
    /// tenant's credit balance.
    pub async fn grant_credit(&self, tenant: &str, amount: i64, now: i64) -> Result<i64> {
        positive(amount, "credit")?;
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        account_with_role(&mut tx, tenant, Role::Tenant).await?;
        let transaction = Transaction::new(
            format!("prepaid credit for {tenant}"),
            vec![
                (LedgerAccount::TenantReceivable(tenant.to_owned()), amount),
                (LedgerAccount::Credit(tenant.to_owned()), -amount),
            ],
        )
        .map_err(|e| corrupt("credit", e))?;
        write_transaction(
            self,
            &mut tx,
            &format!("tx-{}", new_id()?),
            settings.open_period(now),
            &transaction,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(-self
            .balance(&LedgerAccount::Credit(tenant.to_owned()))
            .await?)
    }

    /// An account's ledger balance (debits positive).
    pub async fn balance(&self, account: &LedgerAccount) -> Result<i64> {
        let (kind, id) = account_parts(account);
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM ledger_entries WHERE account_kind = $1 AND account_id = $2",
        )
        .bind(kind)
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("balance")?)
    }

    /// Every account's balance, over all periods or one.
    pub async fn balances(&self, period: Option<Period>) -> Result<Vec<Balance>> {
        let p = period.map(|p| p.to_string()).unwrap_or_default();
        let rows = sqlx::query(
            "SELECT e.account_kind, e.account_id, CAST(SUM(e.amount) AS BIGINT) AS balance \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn \
             WHERE $1 = '' OR t.period = $2 GROUP BY e.account_kind, e.account_id ORDER BY e.account_kind, e.account_id",
        )
        .bind(&p)
        .bind(&p)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("account_kind")?;
                Ok(Balance {
                    account: account_from(&kind, r.try_get("account_id")?)?,
                    balance: r.try_get("balance")?,
                })
            })
            .collect()
    }

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
        let mut tx = self.begin_write().await?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        if let Some(summary) = closed_summary(&mut tx, period).await? {
            return Ok((summary, false));
        }
        if period.start_ms() > now {
            return Err(BillingError::Conflict(format!(
                "the period {period} has not started yet"
            )));
        }
        if period.end_ms() > now && !early {
            return Err(BillingError::Conflict(format!(
                "the period {period} is still under way; close it early on purpose with --early (usage after the close goes into {})",
                period.next()
            )));
        }
        match settings.last_closed {
            Some(last) if period < last => {
                return Err(BillingError::Conflict(format!(
                    "the period {period} was never closed and is before the last closed one ({last}); its usage went into {}",
                    last.next()
                )));
            }
            Some(last) if period != last.next() => {
                return Err(BillingError::Conflict(format!(
                    "periods close in order: close {} first",
                    last.next()
                )));
            }
            Some(_) => {}
            None => {
                let earlier: Option<String> = sqlx::query(
                    "SELECT MIN(period) AS period FROM usage_records WHERE period < $1",
                )
                .bind(period.to_string())
                .fetch_one(&mut *tx)
                .await?
                .try_get("period")?;
                if let Some(earlier) = earlier {
                    return Err(BillingError::Conflict(format!(
                        "periods close in order: close {earlier} first"
                    )));
                }
            }
        }
        let (input, records) = gather(&mut tx, period, &settings).await?;
        let closed = close(&input)?;
        let summary = write_close(self, &mut tx, &closed, &settings, by, now, records).await?;
        sqlx::query("UPDATE billing_state SET last_closed = $1 WHERE id = 1")
            .bind(period.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let settings = self.billing_settings().await?;
        let mut conn = self.pool().acquire().await?;
        Ok(gather(&mut conn, period, &settings).await?.0)
    }

    /// The closed periods, newest first.
    pub async fn closed_periods(&self) -> Result<Vec<CloseSummary>> {
        let rows = sqlx::query("SELECT summary FROM billing_periods ORDER BY period DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("summary")?;
                serde_json::from_str(&text).map_err(|e| corrupt("close summary", e))
            })
            .collect()
    }

    /// Invoices, of one tenant and/or period.
    pub async fn invoices(
        &self,
        tenant: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<InvoiceDocument>> {
        documents(self, "invoices", "tenant", tenant, period).await
    }

    /// One invoice.
    pub async fn invoice(&self, number: &str) -> Result<InvoiceDocument> {
        document(self, "invoices", "invoice", number).await
    }

    /// Statements, of one party and/or period.
    pub async fn statements(
        &self,
        party: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<StatementDocument>> {
        documents(self, "statements", "party", party, period).await
    }

    /// One statement.
    pub async fn statement(&self, number: &str) -> Result<StatementDocument> {
        document(self, "statements", "statement", number).await
    }

    /// A period's usage, aggregated like the close aggregates it.
    pub async fn usage_report(&self, period: Period) -> Result<UsageReport> {
        let mut conn = self.pool().acquire().await?;
        Ok(UsageReport {
            period: period.to_string(),
            calls: aggregate_calls(&mut conn, period).await?,
            metrics: aggregate_metrics(&mut conn, period).await?,
        })
    }
}

async fn closed_summary(conn: &mut AnyConnection, period: Period) -> Result<Option<CloseSummary>> {
    let row = sqlx::query("SELECT summary FROM billing_periods WHERE period = $1")
        .bind(period.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        let text: String = r.try_get("summary")?;
        serde_json::from_str(&text).map_err(|e| corrupt("close summary", e))
    })
    .transpose()
}

async fn write_close(
    store: &Store,
    conn: &mut AnyConnection,
    closed: &PeriodClose,
    settings: &BillingSettings,
    by: &str,
    now: i64,
    records: i64,
) -> Result<CloseSummary> {
    let period = closed.period;
    for (n, invoice) in closed.invoices.iter().enumerate() {
        let doc = InvoiceDocument {
            number: format!("INV-{}-{:04}", compact(period), n + 1),
            period: period.to_string(),
            currency: settings.currency,
            issued_at: now,
            invoice: invoice.clone(),
        };
        sqlx::query(
            "INSERT INTO invoices (number, period, tenant, currency, total, amount_due, document, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&doc.number)
        .bind(&doc.period)
        .bind(&invoice.tenant)
        .bind(settings.currency.code())
        .bind(invoice.total)
        .bind(invoice.amount_due)
        .bind(to_json(&doc)?)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    for (n, statement) in closed.statements.iter().enumerate() {
        let doc = StatementDocument {
            number: format!("ST-{}-{:04}", compact(period), n + 1),
            period: period.to_string(),
            currency: settings.currency,
            issued_at: now,
            statement: statement.clone(),
        };
        let kind = match statement.kind {
            spleis_billing::close::Party::Author => "author",
            spleis_billing::close::Party::Investor => "investor",
        };
        sqlx::query(
            "INSERT INTO statements (number, period, party, kind, currency, total, document, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&doc.number)
        .bind(&doc.period)
        .bind(&statement.party)
        .bind(kind)
        .bind(settings.currency.code())
        .bind(statement.total)
        .bind(to_json(&doc)?)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let mut platform = 0;
    let mut authors = 0;
    let mut investors = 0;
    for (n, transaction) in closed.transactions.iter().enumerate() {
        for (account, amount) in &transaction.entries {
            match account {
                LedgerAccount::PlatformRevenue => platform -= amount,
                LedgerAccount::AuthorPayable(_) => authors -= amount,
                LedgerAccount::InvestorPayable(_) => investors -= amount,
                _ => {}
            }
        }
        write_transaction(
            store,
            conn,
            &format!("close-{period}-{:05}", n + 1),
            period,
            transaction,
            now,
        )
        .await?;
    }
    for settlement in &closed.settlements {
        let Some(state) = closed.payback.get(&settlement.plugin) else {
            continue;
        };
        sqlx::query("UPDATE agreements SET accrued = $1 WHERE package = $2")
            .bind(state.accrued.to_string())
            .bind(&settlement.plugin)
            .execute(&mut *conn)
            .await?;
        for ((investment, _, _), paid) in settlement.investors.iter().zip(&state.paid) {
            sqlx::query("UPDATE investments SET paid = $1 WHERE id = $2")
                .bind(i64::try_from(*paid).map_err(|e| corrupt("paid", e))?)
                .bind(investment)
                .execute(&mut *conn)
                .await?;
        }
    }
    let summary = CloseSummary {
        period: period.to_string(),
        closed_at: now,
        closed_by: by.to_owned(),
        currency: settings.currency.to_string(),
        records,
        invoices: closed.invoices.len(),
        statements: closed.statements.len(),
        transactions: closed.transactions.len(),
        charged: closed.invoices.iter().map(|i| i.total).sum(),
        platform,
        authors,
        investors,
    };
    sqlx::query("INSERT INTO billing_periods (period, closed_at, closed_by, summary) VALUES ($1, $2, $3, $4)")
        .bind(period.to_string())
        .bind(now)
        .bind(by)
        .bind(serde_json::to_string(&summary).map_err(|e| corrupt("summary", e))?)
        .execute(&mut *conn)
        .await?;
    Ok(summary)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| corrupt("document", e))
}

async fn documents<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: &str,
    owner_column: &str,
    owner: Option<&str>,
    period: Option<Period>,
) -> Result<Vec<T>> {
    let owner = owner.unwrap_or("");
    let period = period.map(|p| p.to_string()).unwrap_or_default();
    let rows = sqlx::query(&format!(
        "SELECT document FROM {table} WHERE ($1 = '' OR {owner_column} = $2) AND ($3 = '' OR period = $4) ORDER BY period DESC, number"
    ))
    .bind(owner)
    .bind(owner)
    .bind(&period)
    .bind(&period)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("document")?;
            serde_json::from_str(&text).map_err(|e| corrupt(table, e))
        })
        .collect()
}

async fn document<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: &str,
    what: &'static str,
    number: &str,
) -> Result<T> {
    let row = sqlx::query(&format!("SELECT document FROM {table} WHERE number = $1"))
        .bind(number)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| BillingError::NotFound {
            what,
            id: number.to_owned(),
        })?;
    let text: String = row.try_get("document")?;
    serde_json::from_str(&text).map_err(|e| corrupt(table, e))
}

#[cfg(test)]
mod tests;
