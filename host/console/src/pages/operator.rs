//! The operator's pages: the month at a glance (with the wishlist
//! requests waiting for an assessment), closing a period (its
//! totals previewed first), tenants and their terms, agreements, the
//! ledger, and the platform's legal details.

use super::tenant::{commitment_words, details_form, discount_words, posted_details, tile};
use super::{currency, investor::parse_amount};
use crate::ConsoleState;
use crate::chart::{Bar, bars};
use crate::page::{PageError, csrf, empty, money, notice, page};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_billing::discounts::Period;
use spleis_billing::split::AfterPayback;
use spleis_domain::parties::PLATFORM_PARTY;
use spleis_domain::wishlist::{MAX_LIST, RequestSort, RequestStatus};
use spleis_platform::billing::AgreementChange;

/// `/` for the operator: the open month so far, the ledger's balance and
/// the closed months.
pub async fn month(State(state): State<ConsoleState>, viewer: Viewer) -> Result<Markup, PageError> {
    let periods = state.platform.billing_periods(&viewer.actor).await?;
    let preview = state
        .platform
        .close_preview(&viewer.actor, periods.open)
        .await?;
    let ledger = state.platform.ledger(&viewer.actor, None).await?;
    let mut waiting = 0;
    for status in [RequestStatus::Open, RequestStatus::UnderReview] {
        waiting += state
            .platform
            .requests(
                &viewer.actor,
                "",
                Some(status),
                RequestSort::Newest,
                MAX_LIST,
            )
            .await?
            .len();
    }
    let locale = viewer.locale;
    let c = preview.currency;
    let closed_bars: Vec<Bar> = periods
        .closed
        .iter()
        .rev()
        .map(|s| Bar {
            label: s.period.clone(),
            value: s.charged,
            text: locale.money(s.charged, &c),
        })
        .collect();
    let body = html! {
        @if waiting > 0 {
            p.notice #assessment-queue role="status" {
                (waiting) @if waiting == 1 { " wishlist request waits" } @else { " wishlist requests wait" } " for your assessment. "
                a href="/wishlist#queue" { "Assess" }
            }
        }
        h2 { (locale.period(preview.period)) " so far" }
        div.tiles #glance {
            (tile("Charged", &c, preview.charged, locale, "charged"))
            (tile("Platform", &c, preview.platform, locale, "platform"))
            (tile("Authors", &c, preview.authors, locale, "authors"))
            (tile("Investors", &c, preview.investors, locale, "investors"))
        }
        p #ledger-state {
            @if ledger.sum == 0 { "The ledger balances: its entries sum to " (money(locale, 0, &c)) "." }
            @else { strong.error { "The ledger does not balance: its entries sum to " (money(locale, ledger.sum, &c)) "." } }
        }
        h2 { "Closed months" }
        @if periods.closed.is_empty() { (empty("No month closed yet.")) }
        @else {
            (bars("Charged by closed month", &closed_bars, |top| locale.money(top, &c)))
            table.figures #closed {
                thead { tr { th scope="col" { "Month" } th.num scope="col" { "Invoices" } th.num scope="col" { "Charged" } th.num scope="col" { "Platform" } th.num scope="col" { "Authors" } th.num scope="col" { "Investors" } th scope="col" { "Closed" } } }
                tbody {
                    @for s in &periods.closed {
                        tr data-period=(s.period) {
                            th scope="row" { (s.period) }
                            td.num { (s.invoices) }
                            td.num.charged { (money(locale, s.charged, &c)) }
                            td.num { (money(locale, s.platform, &c)) }
                            td.num { (money(locale, s.authors, &c)) }
                            td.num { (money(locale, s.investors, &c)) }
                            td { (locale.date_time(s.closed_at)) " by " (s.closed_by) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, "The month at a glance", "/", body))
}

/// `/operator/close`: the open period's totals if it were closed now, and
/// the form that closes it.
pub async fn close_page(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let periods = state.platform.billing_periods(&viewer.actor).await?;
    let p = state
        .platform
        .close_preview(&viewer.actor, periods.open)
        .await?;
    let locale = viewer.locale;
    let c = p.currency;
    let body = html! {
        p { "Closing " (locale.period(p.period)) " writes its invoices, statements and ledger entries in one transaction; a closed month never changes. Before the month has ended, the close is early: later usage goes into the next month." }
        h2 { "If closed now" }
        table.figures #preview {
            tbody {
                tr { th scope="row" { "Invoices" } td.num #preview-invoices { (p.invoices) } }
                tr { th scope="row" { "Statements" } td.num { (p.statements) } }
                tr { th scope="row" { "Charged" } td.num #preview-charged { (money(locale, p.charged, &c)) } }
                tr { th scope="row" { "Platform" } td.num { (money(locale, p.platform, &c)) } }
                tr { th scope="row" { "Authors" } td.num { (money(locale, p.authors, &c)) } }
                tr { th scope="row" { "Investors" } td.num { (money(locale, p.investors, &c)) } }
            }
        }
        form.stack method="post" action="/operator/close" {
            (csrf(&viewer))
            input type="hidden" name="period" value=(p.period.to_string());
            div.check {
                input #early type="checkbox" name="early" value="1";
                label for="early" { "Close early (the month has not ended)" }
            }
            button type="submit" { "Close " (locale.period(p.period)) }
        }
    };
    Ok(page(&viewer, "Close a month", "/operator/close", body))
}

/// POST `/operator/close`.
pub async fn close(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let period: Period = posted.form.get("period").unwrap_or("").parse().map_err(
        |e: spleis_billing::period::ParsePeriodError| PageError::BadRequest(e.to_string()),
    )?;
    let early = posted.form.get("early") == Some("1");
    let closed = state
        .platform
        .close_period(&posted.viewer.actor, period, early)
        .await?;
    tracing::info!(%period, closed_now = closed.closed_now, "closed from the console");
    Ok(Redirect::to("/").into_response())
}

/// `/operator/tenants`: tenants with their minimum, commitments, credit and
/// discounts.
pub async fn tenants(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let tenants = state.platform.tenant_terms(&viewer.actor).await?;
    let c = currency(&state, &viewer).await?;
    let locale = viewer.locale;
    let body = html! {
        @if tenants.is_empty() { (empty("No tenants.")) }
        table.figures #tenants {
            thead { tr { th scope="col" { "Tenant" } th.num scope="col" { "Minimum per month" } th scope="col" { "Commitments" } th.num scope="col" { "Prepaid credit" } th scope="col" { "Discounts" } th scope="col" { "Change" } } }
            tbody {
                @for t in &tenants {
                    tr data-tenant=(t.account.id) {
                        th scope="row" { (t.account.name) " (" (t.account.id) ")" }
                        td.num.minimum { (money(locale, t.minimum(), &c)) }
                        td.commitments { @for m in &t.terms.commitments { (commitment_words(m, locale, &c)) br; } }
                        td.num.credit { (money(locale, t.terms.credit, &c)) }
                        td { @for d in &t.terms.discounts { (discount_words(d, locale, &c)) br; } }
                        td {
                            form.inline method="post" action=(format!("/operator/tenants/{}/terms", t.account.id)) {
                                (csrf(&viewer))
                                label for=(format!("min-{}", t.account.id)) { "Minimum" }
                                input id=(format!("min-{}", t.account.id)) name="minimum" inputmode="decimal" size="8";
                                label for=(format!("credit-{}", t.account.id)) { "Add credit" }
                                input id=(format!("credit-{}", t.account.id)) name="credit" inputmode="decimal" size="8";
                                button type="submit" { "Apply" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &viewer,
        "Tenants and their terms",
        "/operator/tenants",
        body,
    ))
}

/// POST `/operator/tenants/{id}/terms`: a new minimum and/or credit.
pub async fn set_terms(
    State(state): State<ConsoleState>,
    Path(tenant): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let c = currency(&state, &posted.viewer).await?;
    let actor = &posted.viewer.actor;
    if let Some(minimum) = posted.form.non_empty("minimum") {
        state
            .platform
            .set_minimum(actor, &tenant, parse_amount(minimum, c.exponent())?)
            .await?;
    }
    if let Some(credit) = posted.form.non_empty("credit") {
        state
            .platform
            .grant_credit(actor, &tenant, parse_amount(credit, c.exponent())?)
            .await?;
    }
    Ok(Redirect::to("/operator/tenants").into_response())
}

/// `/operator/agreements`: each plugin's revenue agreement.
pub async fn agreements(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let locale = viewer.locale;
    let mut rows = Vec::new();
    for summary in state.platform.catalog(&viewer.actor, None).await? {
        rows.push(
            state
                .platform
                .agreement(&viewer.actor, &summary.name)
                .await?,
        );
    }
    let body = html! {
        table.figures #agreements {
            thead { tr { th scope="col" { "Plugin" } th scope="col" { "Author" } th.num scope="col" { "Platform fee" } th.num scope="col" { "Investors' share" } th scope="col" { "After payback" } th scope="col" { "Change" } } }
            tbody {
                @for a in &rows {
                    tr data-plugin=(a.package) {
                        th scope="row" { (a.package) @if !a.explicit { " (defaults)" } }
                        td { (a.author) }
                        td.num { (locale.percent(a.platform_fee_bps)) }
                        td.num { (locale.percent(a.investor_share_bps)) }
                        td { (match a.after_payback { AfterPayback::AuthorKeeps => "the author keeps the revenue", AfterPayback::ToPlatform => "the plugin passes to the platform" }) }
                        td {
                            form.inline method="post" action=(format!("/operator/agreements/{}", a.package)) {
                                (csrf(&viewer))
                                label for=(format!("fee-{}", a.package)) { "Fee %" }
                                input id=(format!("fee-{}", a.package)) name="fee_pct" inputmode="decimal" size="5";
                                label for=(format!("share-{}", a.package)) { "Investors %" }
                                input id=(format!("share-{}", a.package)) name="share_pct" inputmode="decimal" size="5";
                                button type="submit" { "Apply" }
                            }
                        }
                    }
                }
            }
        }
        p { "Changes apply from the next close." }
    };
    Ok(page(&viewer, "Agreements", "/operator/agreements", body))
}

/// POST `/operator/agreements/{namespace}/{name}`.
pub async fn set_agreement(
    State(state): State<ConsoleState>,
    Path((namespace, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let bps = |field: &str| -> Result<Option<u32>, PageError> {
        posted
            .form
            .non_empty(field)
            .map(|pct| {
                u32::try_from(parse_amount(pct, 2)?)
                    .map_err(|_| PageError::BadRequest(format!("{field} is too large")))
            })
            .transpose()
    };
    let change = AgreementChange {
        platform_fee_bps: bps("fee_pct")?,
        investor_share_bps: bps("share_pct")?,
        ..AgreementChange::default()
    };
    state
        .platform
        .set_agreement(&posted.viewer.actor, &format!("{namespace}/{name}"), change)
        .await?;
    Ok(Redirect::to("/operator/agreements").into_response())
}

/// `/operator/ledger`: every account's balance and their sum.
pub async fn ledger(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let ledger = state.platform.ledger(&viewer.actor, None).await?;
    let c = currency(&state, &viewer).await?;
    let locale = viewer.locale;
    let body = html! {
        p { "Balances over all closed months; debits are positive. Every transaction balances, so the sum is zero." }
        table.figures #ledger {
            thead { tr { th scope="col" { "Account" } th.num scope="col" { "Balance" } } }
            tbody {
                @for b in &ledger.balances {
                    @let (kind, id) = b.account.parts();
                    tr { th scope="row" { (kind) @if !id.is_empty() { " · " (id) } } td.num { (money(locale, b.balance, &c)) } }
                }
            }
            tfoot { tr { th scope="row" { "Sum" } td.num #ledger-sum { (money(locale, ledger.sum, &c)) } } }
        }
    };
    Ok(page(&viewer, "Ledger", "/operator/ledger", body))
}

/// `/operator/settings`: the issuer's legal details and payment terms.
pub async fn settings(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let details = state
        .platform
        .party_details(&viewer.actor, PLATFORM_PARTY)
        .await?;
    let settings = state.platform.billing_settings(&viewer.actor).await?;
    let body = html! {
        dl {
            dt { "Currency" } dd { (settings.currency.code()) }
            dt { "Default platform fee" } dd { (viewer.locale.percent(settings.platform_fee_bps)) }
        }
        h2 { "The issuer on invoices" }
        @if details.legal_name.is_empty() { (notice("Set the platform's legal name and address: every printed invoice shows them as the issuer.")) }
        (details_form(&viewer, "/operator/settings", &details, true))
    };
    Ok(page(&viewer, "Settings", "/operator/settings", body))
}

/// POST `/operator/settings`.
pub async fn set_settings(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let details = posted_details(&posted)?;
    state
        .platform
        .set_party_details(&posted.viewer.actor, PLATFORM_PARTY, &details)
        .await?;
    Ok(Redirect::to("/operator/settings").into_response())
}
