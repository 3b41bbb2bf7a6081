//! The billing handlers: settings and period close, plans, agreements,
//! investments, co-funding, tenant terms, invoices, statements and the
//! usage report. Each parses its path, query and body, calls one platform
//! operation (which decides who may and scopes what it reads) and wraps the
//! answer. Amounts are integer minor units (`*_minor`).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body};
use super::headers::private_answer;
use super::routes::package_name;
use super::types::Errors;
use super::types::billing::{
    AgreementChange, Campaigns, CloseRequest, Closed, CommitmentEnded, Commitments, CreditGranted,
    DiscountAdded, Format, FormatQuery, Investments, InvestmentsQuery, Invoices, InvoicesQuery,
    Ledger, MinimumSet, NewCampaign, NewCredit, NewDiscount, NewInvestment, NewMinimum, NewPledge,
    NewSettings, PeriodQuery, Periods, PlanQuery, Plans, Statements, StatementsQuery, UsageQuery,
    VoidRecord, Voids,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use spleis_billing::Currency;
use spleis_billing::close::Void;
use spleis_billing::commitments::Commitment;
use spleis_billing::discounts::{Discount, DiscountAmount, Period};
use spleis_billing::rating::PricePlan;
use spleis_console::documents;
use spleis_domain::billing::{
    AgreementRecord, BillingSettings, CampaignRecord, CommitmentRecord, InvestmentRecord,
    InvoiceDocument, PlanRecord, StatementDocument, UsageReport,
};
use spleis_platform::billing::render;

type Result<T> = std::result::Result<T, ApiError>;

/// `YYYY-MM` from a body or query, refused as a malformed request.
fn period(text: &str) -> Result<Period> {
    text.parse()
        .map_err(|e: spleis_billing::discounts::ParsePeriodError| {
            ApiError::bad_request(e.to_string())
        })
}

fn optional_period(text: Option<&str>) -> Result<Option<Period>> {
    text.map(period).transpose()
}

/// The body's two optional amounts as the one discount amount they name.
fn discount(body: NewDiscount) -> Result<Discount> {
    let amount = match (body.percent_bps, body.fixed_minor) {
        (Some(bps), None) => DiscountAmount::Percent { bps },
        (None, Some(minor)) => DiscountAmount::Fixed { minor },
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of percent_bps and fixed_minor",
            ));
        }
    };
    Ok(Discount {
        reason: body.reason,
        amount,
        from: period(&body.from)?,
        to: period(&body.to)?,
    })
}

/// CSV text as the answer it is.
fn csv(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response()
}

/// The billing currency, default platform fee and last closed period.
#[utoipa::path(get, path = "/v1/billing/settings", tag = "billing",
    responses((status = 200, description = "the settings", body = BillingSettings), Errors))]
pub async fn settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BillingSettings>> {
    Ok(Json(state.platform.billing_settings(&caller.0).await?))
}

/// Operator: change the default platform fee or the currency.
///
/// The currency changes only before any plan or ledger entry exists.
#[utoipa::path(put, path = "/v1/billing/settings", tag = "billing", request_body = NewSettings,
    responses((status = 200, description = "the settings as changed", body = BillingSettings), Errors))]
pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewSettings>,
) -> Result<Json<BillingSettings>> {
    let currency = body
        .currency
        .as_deref()
        .map(Currency::new)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let settings = state
        .platform
        .set_billing_settings(&caller.0, currency, body.platform_fee_bps)
        .await?;
    Ok(Json(settings))
}

/// Operator: close a period (201); a closed one answers its summary (200).
///
/// Periods close in order, each once; `early` closes the running month
/// (its later usage goes into the next). Usage still queued is written
/// first.
#[utoipa::path(post, path = "/v1/billing/close", tag = "billing", request_body = CloseRequest,
    responses(
        (status = 201, description = "the period was closed now", body = Closed),
        (status = 200, description = "the period was closed before: its summary", body = Closed),
        Errors))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CloseRequest>,
) -> Result<(StatusCode, Json<Closed>)> {
    let period = period(&body.period)?;
    let closed = state
        .platform
        .close_period(&caller.0, period, body.early)
        .await?;
    let status = if closed.closed_now {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(closed)))
}

/// Operator: the open period and the closed ones with their summaries.
#[utoipa::path(get, path = "/v1/billing/periods", tag = "billing",
    responses((status = 200, description = "the open and the closed periods", body = Periods), Errors))]
pub async fn periods(State(state): State<AppState>, caller: Caller) -> Result<Json<Periods>> {
    Ok(Json(state.platform.billing_periods(&caller.0).await?))
}

/// Operator: void a tenant's use of a plugin for a period not yet closed.
///
/// The close does not rate it (no usage line, no shortfall against a
/// commitment) and records the reason in the ledger: it resolves a close one
/// install's charges would wedge, for that tenant only. Voiding again
/// replaces the reason.
#[utoipa::path(post, path = "/v1/billing/periods/{period}/voids", tag = "billing",
    params(("period" = String, Path, description = "the period, `YYYY-MM`")),
    request_body = Void,
    responses((status = 201, description = "the void", body = VoidRecord), Errors))]
pub async fn void_line(
    State(state): State<AppState>,
    caller: Caller,
    Path(text): Path<String>,
    Body(void): Body<Void>,
) -> Result<(StatusCode, Json<VoidRecord>)> {
    let void = state
        .platform
        .void_line(&caller.0, period(&text)?, &void)
        .await?;
    Ok((StatusCode::CREATED, Json(void)))
}

/// Operator: withdraw a void of a period not yet closed; the close rates
/// the line again.
#[utoipa::path(delete, path = "/v1/billing/periods/{period}/voids/{tenant}/{namespace}/{name}", tag = "billing",
    params(("period" = String, Path, description = "the period, `YYYY-MM`"),
        ("tenant" = String, Path, description = "the tenant"),
        ("namespace" = String, Path, description = "the plugin's namespace"),
        ("name" = String, Path, description = "the plugin's name in it")),
    responses((status = 204, description = "withdrawn"), Errors))]
pub async fn remove_void(
    State(state): State<AppState>,
    caller: Caller,
    Path((text, tenant, namespace, name)): Path<(String, String, String, String)>,
) -> Result<StatusCode> {
    state
        .platform
        .remove_void(
            &caller.0,
            period(&text)?,
            &tenant,
            &format!("{namespace}/{name}"),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Operator: the lines voided for a period.
#[utoipa::path(get, path = "/v1/billing/periods/{period}/voids", tag = "billing",
    params(("period" = String, Path, description = "the period, `YYYY-MM`")),
    responses((status = 200, description = "the voids", body = Voids), Errors))]
pub async fn voids(
    State(state): State<AppState>,
    caller: Caller,
    Path(text): Path<String>,
) -> Result<Json<Voids>> {
    let voids = state.platform.voids(&caller.0, period(&text)?).await?;
    Ok(Json(Voids { voids }))
}

/// Operator: ledger balances per account, over all periods or `?period=`.
#[utoipa::path(get, path = "/v1/billing/ledger", tag = "billing", params(PeriodQuery),
    responses((status = 200, description = "the balances and their sum (zero)", body = Ledger), Errors))]
pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Ledger>> {
    let period = optional_period(query.period.as_deref())?;
    Ok(Json(state.platform.ledger(&caller.0, period).await?))
}

/// A plugin's price plans, each with the period it applies from.
#[utoipa::path(get, path = "/v1/packages/{namespace}/{name}/plan", tag = "billing",
    params(("namespace" = String, Path, description = "the package's namespace"),
           ("name" = String, Path, description = "the package's name in it")),
    responses((status = 200, description = "the plans, oldest first", body = Plans), Errors))]
pub async fn plans(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Plans>> {
    let package = package_name(&namespace, &name);
    let plans = state.platform.plans(&caller.0, &package).await?;
    Ok(Json(Plans { package, plans }))
}

/// An owner of the namespace (or the operator) sets a new price plan.
///
/// The first plan applies from the open period, a change from the next.
/// The operator may put a plan in force from a period not closed yet
/// (`?from=YYYY-MM`): how a close the plugin's plan cannot rate is resolved.
#[utoipa::path(put, path = "/v1/packages/{namespace}/{name}/plan", tag = "billing",
    params(("namespace" = String, Path, description = "the package's namespace"),
           ("name" = String, Path, description = "the package's name in it"), PlanQuery),
    request_body = PricePlan,
    responses((status = 201, description = "the plan and the period it applies from", body = PlanRecord), Errors))]
pub async fn set_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<PlanQuery>,
    Body(plan): Body<PricePlan>,
) -> Result<(StatusCode, Json<PlanRecord>)> {
    let package = package_name(&namespace, &name);
    let record = match query.from {
        Some(from) => {
            state
                .platform
                .correct_plan(&caller.0, &package, &plan, period(&from)?)
                .await?
        }
        None => state.platform.set_plan(&caller.0, &package, &plan).await?,
    };
    Ok((StatusCode::CREATED, Json(record)))
}

/// The plugin's revenue agreement (owners, operator).
#[utoipa::path(get, path = "/v1/packages/{namespace}/{name}/agreement", tag = "billing",
    params(("namespace" = String, Path, description = "the package's namespace"),
           ("name" = String, Path, description = "the package's name in it")),
    responses((status = 200, description = "the agreement (the defaults until one is set)", body = AgreementRecord), Errors))]
pub async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<AgreementRecord>> {
    let package = package_name(&namespace, &name);
    Ok(Json(state.platform.agreement(&caller.0, &package).await?))
}

/// Operator: change the plugin's revenue agreement.
///
/// Sets the author, platform fee, investor share and what happens after
/// payback; fields left out keep their value. It applies from the next
/// close.
#[utoipa::path(put, path = "/v1/packages/{namespace}/{name}/agreement", tag = "billing",
    params(("namespace" = String, Path, description = "the package's namespace"),
           ("name" = String, Path, description = "the package's name in it")),
    request_body = AgreementChange,
    responses((status = 200, description = "the agreement as changed", body = AgreementRecord), Errors))]
pub async fn set_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Body(change): Body<AgreementChange>,
) -> Result<Json<AgreementRecord>> {
    let package = package_name(&namespace, &name);
    let record = state
        .platform
        .set_agreement(&caller.0, &package, change)
        .await?;
    Ok(Json(record))
}

/// Operator: record a tenant's investment in a plugin.
#[utoipa::path(post, path = "/v1/investments", tag = "billing", request_body = NewInvestment,
    responses((status = 201, description = "the investment and what pays it back", body = InvestmentRecord), Errors))]
pub async fn invest(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewInvestment>,
) -> Result<(StatusCode, Json<InvestmentRecord>)> {
    let record = state.platform.invest(&caller.0, &body).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// The investor's view: paid so far, remaining, this month so far, projected.
///
/// Revenue so far this month, projected revenue and payout; a tenant sees
/// its own, the operator all or `?investor=`, authors none.
#[utoipa::path(get, path = "/v1/investments", tag = "billing", params(InvestmentsQuery),
    responses((status = 200, description = "the investments with the month so far", body = Investments), Errors))]
pub async fn investments(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<InvestmentsQuery>,
) -> Result<Json<Investments>> {
    let investments = state
        .platform
        .investments(&caller.0, query.investor.as_deref())
        .await?;
    Ok(Json(Investments { investments }))
}

/// An owner or the operator opens a co-funding campaign.
#[utoipa::path(post, path = "/v1/campaigns", tag = "billing", request_body = NewCampaign,
    responses((status = 201, description = "the campaign", body = CampaignRecord), Errors))]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignRecord>)> {
    let campaign = state.platform.create_campaign(&caller.0, &body).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// Campaigns with their pledges.
#[utoipa::path(get, path = "/v1/campaigns", tag = "billing",
    responses((status = 200, description = "every campaign, newest first", body = Campaigns), Errors))]
pub async fn campaigns(State(state): State<AppState>, caller: Caller) -> Result<Json<Campaigns>> {
    let campaigns = state.platform.campaigns(&caller.0).await?;
    Ok(Json(Campaigns { campaigns }))
}

/// One campaign.
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "billing",
    params(("id" = String, Path, description = "the campaign")),
    responses((status = 200, description = "the campaign with its pledges", body = CampaignRecord), Errors))]
pub async fn campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignRecord>> {
    Ok(Json(state.platform.campaign(&caller.0, &id).await?))
}

/// A tenant pledges (or changes its pledge) before the deadline.
#[utoipa::path(post, path = "/v1/campaigns/{id}/pledges", tag = "billing",
    params(("id" = String, Path, description = "the campaign")),
    request_body = NewPledge,
    responses((status = 200, description = "the campaign with the pledge", body = CampaignRecord), Errors))]
pub async fn pledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<NewPledge>,
) -> Result<Json<CampaignRecord>> {
    let campaign = state
        .platform
        .pledge(&caller.0, &id, body.amount_minor)
        .await?;
    Ok(Json(campaign))
}

/// Close a campaign after its deadline (an owner or the operator).
///
/// Funded pledges become investments, otherwise they lapse.
#[utoipa::path(post, path = "/v1/campaigns/{id}/close", tag = "billing",
    params(("id" = String, Path, description = "the campaign")),
    responses((status = 200, description = "the campaign, funded or lapsed", body = CampaignRecord), Errors))]
pub async fn close_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignRecord>> {
    Ok(Json(state.platform.close_campaign(&caller.0, &id).await?))
}

/// Operator: a tenant's standing money minimum from the open period on (0
/// removes it). Money commitments reaching into the open period end;
/// commitments in units stay.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/minimum", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant")),
    request_body = NewMinimum,
    responses((status = 200, description = "the commitment as set", body = MinimumSet), Errors))]
pub async fn set_minimum(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewMinimum>,
) -> Result<Json<MinimumSet>> {
    state
        .platform
        .set_minimum(&caller.0, &tenant, body.minimum_minor)
        .await?;
    Ok(Json(MinimumSet {
        tenant,
        minimum_minor: body.minimum_minor,
    }))
}

/// Operator: a minimum commitment over a range of periods, in money
/// (`{"kind":"money","minor":…}`) or in units of a plugin's metric
/// (`{"kind":"units","plugin":…,"metric":…,"units":…}`); `to` may be left
/// out for one that runs until ended.
///
/// It starts in the open period or later, and may not overlap one to the
/// same thing (409 `commitment-overlap` names it).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/commitments", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant")),
    request_body = Commitment,
    responses((status = 201, description = "the commitment with its id", body = CommitmentRecord), Errors))]
pub async fn add_commitment(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(commitment): Body<Commitment>,
) -> Result<(StatusCode, Json<CommitmentRecord>)> {
    let id = state
        .platform
        .add_commitment(&caller.0, &tenant, &commitment)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CommitmentRecord {
            id,
            tenant,
            commitment,
        }),
    ))
}

/// A tenant's commitments: the operator any tenant's, a tenant its own.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/commitments", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant")),
    responses((status = 200, description = "its commitments, oldest first", body = Commitments), Errors))]
pub async fn commitments(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Commitments>> {
    let commitments = state.platform.commitments(&caller.0, &tenant).await?;
    Ok(Json(Commitments { commitments }))
}

/// Operator: end a commitment. It no longer applies to any period not yet
/// closed: removed if it never applied to a closed one, else cut to the last
/// closed period.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/commitments/{id}", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant"),
        ("id" = String, Path, description = "the commitment")),
    responses((status = 200, description = "what ending it did", body = CommitmentEnded), Errors))]
pub async fn end_commitment(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<CommitmentEnded>> {
    let ended = state
        .platform
        .end_commitment(&caller.0, &tenant, &id)
        .await?;
    Ok(Json(CommitmentEnded {
        id,
        removed: ended.is_none(),
        to: ended.and_then(|c| c.commitment.to),
    }))
}

/// Operator: a percentage or fixed discount over a range of periods.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/discounts", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant")),
    request_body = NewDiscount,
    responses((status = 201, description = "the discount with its id", body = DiscountAdded), Errors))]
pub async fn add_discount(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewDiscount>,
) -> Result<(StatusCode, Json<DiscountAdded>)> {
    let discount = discount(body)?;
    let id = state
        .platform
        .add_discount(&caller.0, &tenant, &discount)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DiscountAdded {
            id,
            tenant,
            discount,
        }),
    ))
}

/// Operator: book prepaid credit, consumed before invoicing.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/credit", tag = "billing",
    params(("tenant" = String, Path, description = "the tenant")),
    request_body = NewCredit,
    responses((status = 200, description = "the tenant's credit balance", body = CreditGranted), Errors))]
pub async fn grant_credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewCredit>,
) -> Result<Json<CreditGranted>> {
    let credit_minor = state
        .platform
        .grant_credit(&caller.0, &tenant, body.amount_minor)
        .await?;
    Ok(Json(CreditGranted {
        tenant,
        credit_minor,
    }))
}

/// Invoices: a tenant its own; the operator all or `?tenant=`.
#[utoipa::path(get, path = "/v1/invoices", tag = "billing", params(InvoicesQuery),
    responses((status = 200, description = "the invoices", body = Invoices), Errors))]
pub async fn invoices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<InvoicesQuery>,
) -> Result<Json<Invoices>> {
    let period = optional_period(query.period.as_deref())?;
    let invoices = state
        .platform
        .invoices(&caller.0, query.tenant.as_deref(), period)
        .await?;
    Ok(Json(Invoices { invoices }))
}

/// One invoice as JSON, `?format=csv` or `?format=html` (printable).
///
/// A tenant reads its own, the operator any; another tenant's is not found.
#[utoipa::path(get, path = "/v1/invoices/{number}", tag = "billing",
    params(("number" = String, Path, description = "the invoice's number, e.g. INV-202611-0001"), FormatQuery),
    responses((status = 200, description = "the invoice", content(
        (InvoiceDocument = "application/json"),
        (String = "text/csv"),
        (String = "text/html"))), Errors))]
pub async fn invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let (platform, actor) = (&state.platform, &caller.0);
    // Money and names, in every format: never sniffed, never cached.
    Ok(private_answer(match query.format.unwrap_or_default() {
        Format::Json => Json(platform.invoice(actor, &number).await?).into_response(),
        Format::Csv => csv(render::invoice_csv(
            &platform.invoice(actor, &number).await?,
        )),
        // The console's printable invoice, the same document it shows.
        Format::Html => {
            let locale = spleis_console::session::locale(&headers);
            documents::invoice(platform, actor, &number, locale)
                .await?
                .standalone(locale)
        }
    }))
}

/// Statements (credit notes) of authors and investors.
///
/// The caller's own; the operator all or `?party=`.
#[utoipa::path(get, path = "/v1/statements", tag = "billing", params(StatementsQuery),
    responses((status = 200, description = "the statements", body = Statements), Errors))]
pub async fn statements(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<StatementsQuery>,
) -> Result<Json<Statements>> {
    let period = optional_period(query.period.as_deref())?;
    let statements = state
        .platform
        .statements(&caller.0, query.party.as_deref(), period)
        .await?;
    Ok(Json(Statements { statements }))
}

/// One statement as JSON, `?format=csv` or `?format=html` (printable).
///
/// A party reads its own, the operator any; another party's is not found.
#[utoipa::path(get, path = "/v1/statements/{number}", tag = "billing",
    params(("number" = String, Path, description = "the statement's number, e.g. ST-202611-0001"), FormatQuery),
    responses((status = 200, description = "the statement", content(
        (StatementDocument = "application/json"),
        (String = "text/csv"),
        (String = "text/html"))), Errors))]
pub async fn statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let (platform, actor) = (&state.platform, &caller.0);
    // Money and names, in every format: never sniffed, never cached.
    Ok(private_answer(match query.format.unwrap_or_default() {
        Format::Json => Json(platform.statement(actor, &number).await?).into_response(),
        Format::Csv => csv(render::statement_csv(
            &platform.statement(actor, &number).await?,
        )),
        // The console's printable statement, the same document it shows.
        Format::Html => {
            let locale = spleis_console::session::locale(&headers);
            documents::statement(platform, actor, &number, locale)
                .await?
                .standalone(locale)
        }
    }))
}

/// Usage by tenant, plugin, operation, outcome, version and metric.
///
/// For `?period=` (default: the open one), scoped to the caller: a
/// tenant's own, an author's plugins', or (operator) all or `?tenant=`.
#[utoipa::path(get, path = "/v1/reports/usage", tag = "billing", params(UsageQuery),
    responses((status = 200, description = "the period's usage", body = UsageReport), Errors))]
pub async fn usage_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageReport>> {
    let period = optional_period(query.period.as_deref())?;
    let report = state
        .platform
        .usage_report(&caller.0, period, query.tenant.as_deref())
        .await?;
    Ok(Json(report))
}
