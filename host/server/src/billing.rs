//! The billing handlers: settings and period close (operator), plans
//! (authors), agreements, investments, co-funding and tenant terms, and the
//! reports, each scoped by role: a tenant sees its own invoices, usage and
//! investments; an author its plugins' usage and its statements; the
//! operator everything. Amounts are integer minor units (`*_minor`).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body};
use super::routes::package_name;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use spleis_billing::Currency;
use spleis_billing::discounts::{Discount, DiscountAmount, Period};
use spleis_billing::rating::PricePlan;
use spleis_billing::split::AfterPayback;
use spleis_platform::billing::investor_view;
use spleis_platform::documents::{self, Format};
use spleis_store::accounts::{Account, Role};
use spleis_store::billing::{MetricRow, UsageReport};
use spleis_store::now_ms;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ApiError>;

fn period(text: &str) -> Result<Period> {
    text.parse()
        .map_err(|e: spleis_billing::discounts::ParsePeriodError| {
            ApiError::bad_request(e.to_string())
        })
}

fn optional_period(text: Option<&str>) -> Result<Option<Period>> {
    text.map(period).transpose()
}

/// Refuses unless `account` is the operator or an owner of the package's namespace.
async fn require_owner_or_operator(
    state: &AppState,
    account: &Account,
    package: &str,
) -> Result<()> {
    if account.role == Role::Operator {
        return Ok(());
    }
    let namespace = package.split('/').next().unwrap_or(package);
    if account.role == Role::Author
        && state
            .platform
            .store()
            .owners(namespace)
            .await?
            .contains(&account.id)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "only an owner of the namespace `{namespace}` or the operator may do this"
    )))
}

pub async fn settings(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>> {
    Ok(Json(json!(
        state.platform.store().billing_settings().await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSettings {
    currency: Option<String>,
    platform_fee_bps: Option<u32>,
}

pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewSettings>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    let currency = body
        .currency
        .as_deref()
        .map(Currency::new)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let settings = state
        .platform
        .store()
        .set_billing_settings(currency, body.platform_fee_bps)
        .await?;
    Ok(Json(json!(settings)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    period: String,
    #[serde(default)]
    early: bool,
}

/// Operator: closes a period (201), or answers a closed one's summary (200).
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CloseRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    let by = caller.require(&[Role::Operator])?;
    let period = period(&body.period)?;
    // Usage still queued belongs to the period it was recorded in.
    state.platform.usage_pipeline().flush().await;
    let (summary, closed_now) = state
        .platform
        .store()
        .close_period(period, &by.id, body.early, now_ms())
        .await?;
    let status = if closed_now {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"closed_now": closed_now, "summary": summary})),
    ))
}

pub async fn periods(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    let settings = state.platform.store().billing_settings().await?;
    Ok(Json(json!({
        "open": settings.open_period(now_ms()).to_string(),
        "closed": state.platform.store().closed_periods().await?,
    })))
}

#[derive(Deserialize)]
pub struct ReportQuery {
    period: Option<String>,
    tenant: Option<String>,
    party: Option<String>,
    investor: Option<String>,
    format: Option<Format>,
}

pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    let period = optional_period(query.period.as_deref())?;
    let balances = state.platform.store().balances(period).await?;
    let total: i64 = balances.iter().map(|b| b.balance).sum();
    Ok(Json(json!({"balances": balances, "sum": total})))
}

pub async fn plans(
    State(state): State<AppState>,
    _caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let package = package_name(&namespace, &name);
    Ok(Json(
        json!({"package": package, "plans": state.platform.store().plans(&package).await?}),
    ))
}

/// An owner of the namespace (or the operator) sets the plugin's plan.
pub async fn set_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Body(plan): Body<PricePlan>,
) -> Result<(StatusCode, Json<Value>)> {
    let package = package_name(&namespace, &name);
    require_owner_or_operator(&state, &caller.0, &package).await?;
    let record = state
        .platform
        .store()
        .set_plan(&package, &plan, &caller.0.id, now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(record))))
}

pub async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let package = package_name(&namespace, &name);
    require_owner_or_operator(&state, &caller.0, &package).await?;
    Ok(Json(json!(
        state.platform.store().agreement(&package).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    author: Option<String>,
    platform_fee_bps: Option<u32>,
    investor_share_bps: Option<u32>,
    after_payback: Option<AfterPayback>,
}

pub async fn set_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Body(body): Body<NewAgreement>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    let record = state
        .platform
        .store()
        .set_agreement(
            &package_name(&namespace, &name),
            body.author.as_deref(),
            body.platform_fee_bps,
            body.investor_share_bps,
            body.after_payback,
            now_ms(),
        )
        .await?;
    Ok(Json(json!(record)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvestment {
    package: String,
    investor: String,
    principal_minor: i64,
    #[serde(default)]
    return_bps: u32,
}

pub async fn invest(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewInvestment>,
) -> Result<(StatusCode, Json<Value>)> {
    caller.require(&[Role::Operator])?;
    let record = state
        .platform
        .store()
        .invest(
            &body.package,
            &body.investor,
            body.principal_minor,
            body.return_bps,
            now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(record))))
}

/// The investor's view: a tenant's own investments, or (operator) anyone's.
pub async fn investments(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Value>> {
    let investor = match caller.0.role {
        Role::Tenant => Some(caller.0.id.clone()),
        Role::Operator => query.investor.clone(),
        Role::Author => {
            return Err(ApiError::forbidden(
                "investments are seen by their investors and the operator",
            ));
        }
    };
    state.platform.usage_pipeline().flush().await;
    let views = investor_view(state.platform.store(), investor.as_deref(), now_ms()).await?;
    Ok(Json(json!({"investments": views})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    package: String,
    title: String,
    goal_minor: i64,
    deadline_ms: i64,
    #[serde(default)]
    return_bps: u32,
}

pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewCampaign>,
) -> Result<(StatusCode, Json<Value>)> {
    require_owner_or_operator(&state, &caller.0, &body.package).await?;
    let campaign = state
        .platform
        .store()
        .create_campaign(
            &body.package,
            &body.title,
            body.goal_minor,
            body.deadline_ms,
            body.return_bps,
            &caller.0.id,
            now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(campaign))))
}

pub async fn campaigns(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>> {
    Ok(Json(
        json!({"campaigns": state.platform.store().campaigns().await?}),
    ))
}

pub async fn campaign(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(json!(state.platform.store().campaign(&id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    amount_minor: i64,
}

/// A tenant pledges (or changes its pledge) before the deadline.
pub async fn pledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<NewPledge>,
) -> Result<Json<Value>> {
    let tenant = caller.require(&[Role::Tenant])?;
    let campaign = state
        .platform
        .store()
        .pledge(&id, &tenant.id, body.amount_minor, now_ms())
        .await?;
    Ok(Json(json!(campaign)))
}

pub async fn close_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let campaign = state.platform.store().campaign(&id).await?;
    require_owner_or_operator(&state, &caller.0, &campaign.package).await?;
    Ok(Json(json!(
        state.platform.store().close_campaign(&id, now_ms()).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMinimum {
    minimum_minor: i64,
}

pub async fn set_minimum(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewMinimum>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    state
        .platform
        .store()
        .set_minimum(&tenant, body.minimum_minor)
        .await?;
    Ok(Json(
        json!({"tenant": tenant, "minimum_minor": body.minimum_minor}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDiscount {
    reason: String,
    percent_bps: Option<u32>,
    fixed_minor: Option<i64>,
    from: String,
    to: String,
}

pub async fn add_discount(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewDiscount>,
) -> Result<(StatusCode, Json<Value>)> {
    caller.require(&[Role::Operator])?;
    let amount = match (body.percent_bps, body.fixed_minor) {
        (Some(bps), None) => DiscountAmount::Percent { bps },
        (None, Some(minor)) => DiscountAmount::Fixed { minor },
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of percent_bps and fixed_minor",
            ));
        }
    };
    let discount = Discount {
        reason: body.reason,
        amount,
        from: period(&body.from)?,
        to: period(&body.to)?,
    };
    let id = state
        .platform
        .store()
        .add_discount(&tenant, &discount, now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "tenant": tenant, "discount": discount})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCredit {
    amount_minor: i64,
}

pub async fn grant_credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewCredit>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Operator])?;
    let balance = state
        .platform
        .store()
        .grant_credit(&tenant, body.amount_minor, now_ms())
        .await?;
    Ok(Json(json!({"tenant": tenant, "credit_minor": balance})))
}

/// Whose documents the caller may list: its own, or (operator) the one named.
fn scope(caller: &Caller, named: Option<String>) -> Option<String> {
    match caller.0.role {
        Role::Operator => named,
        _ => Some(caller.0.id.clone()),
    }
}

/// Refuses another account's document as not found (a 403 would confirm
/// the number exists); the operator sees all.
fn visible(caller: &Caller, owner: &str, what: &str, number: &str) -> Result<()> {
    if caller.0.role == Role::Operator || owner == caller.0.id {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no {what} `{number}`"),
        ))
    }
}

fn render(
    format: Option<Format>,
    json: Value,
    csv: impl FnOnce() -> String,
    html: impl FnOnce() -> String,
) -> Response {
    match format.unwrap_or(Format::Json) {
        Format::Json => Json(json).into_response(),
        Format::Csv => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv()).into_response(),
        Format::Html => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html()).into_response()
        }
    }
}

pub async fn invoices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Value>> {
    if caller.0.role == Role::Author {
        return Err(ApiError::forbidden(
            "invoices are seen by their tenants and the operator; authors read statements",
        ));
    }
    let tenant = scope(&caller, query.tenant.clone());
    let period = optional_period(query.period.as_deref())?;
    let invoices = state
        .platform
        .store()
        .invoices(tenant.as_deref(), period)
        .await?;
    Ok(Json(json!({"invoices": invoices})))
}

/// One invoice as JSON, CSV (`?format=csv`) or HTML (`?format=html`); another
/// tenant's is not found.
pub async fn invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response> {
    let doc = state.platform.store().invoice(&number).await?;
    visible(&caller, &doc.invoice.tenant, "invoice", &number)?;
    Ok(render(
        query.format,
        json!(doc),
        || documents::invoice_csv(&doc),
        || documents::invoice_html(&doc),
    ))
}

pub async fn statements(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Value>> {
    let party = scope(&caller, query.party.clone());
    let period = optional_period(query.period.as_deref())?;
    let statements = state
        .platform
        .store()
        .statements(party.as_deref(), period)
        .await?;
    Ok(Json(json!({"statements": statements})))
}

pub async fn statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response> {
    let doc = state.platform.store().statement(&number).await?;
    visible(&caller, &doc.statement.party, "statement", &number)?;
    Ok(render(
        query.format,
        json!(doc),
        || documents::statement_csv(&doc),
        || documents::statement_html(&doc),
    ))
}

/// Usage by tenant, plugin, operation and metric for a period (default: the
/// open one): a tenant's own, an author's plugins', or (operator) all.
pub async fn usage_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Json<UsageReport>> {
    let store = state.platform.store();
    let period = match optional_period(query.period.as_deref())? {
        Some(p) => p,
        None => store.billing_settings().await?.open_period(now_ms()),
    };
    state.platform.usage_pipeline().flush().await;
    let mut report = store.usage_report(period).await?;
    match caller.0.role {
        Role::Operator => {
            if let Some(tenant) = &query.tenant {
                report.calls.retain(|r| &r.tenant == tenant);
                report.metrics.retain(|r| &r.tenant == tenant);
            }
        }
        Role::Tenant => {
            let me = &caller.0.id;
            report.calls.retain(|r| &r.tenant == me);
            report.metrics.retain(|r| &r.tenant == me);
        }
        Role::Author => {
            let mut owned: BTreeMap<String, bool> = BTreeMap::new();
            let plugins = report
                .calls
                .iter()
                .map(|r| r.plugin.clone())
                .chain(report.metrics.iter().map(|r: &MetricRow| r.plugin.clone()));
            for plugin in plugins.collect::<Vec<_>>() {
                let namespace = plugin.split('/').next().unwrap_or("").to_owned();
                if let std::collections::btree_map::Entry::Vacant(entry) = owned.entry(namespace) {
                    let owners = store.owners(entry.key()).await.unwrap_or_default();
                    entry.insert(owners.contains(&caller.0.id));
                }
            }
            let mine = |plugin: &str| {
                owned
                    .get(plugin.split('/').next().unwrap_or(""))
                    .copied()
                    .unwrap_or(false)
            };
            report.calls.retain(|r| mine(&r.plugin));
            report.metrics.retain(|r| mine(&r.plugin));
        }
    }
    Ok(Json(report))
}
