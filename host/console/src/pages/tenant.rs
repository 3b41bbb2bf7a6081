//! A tenant's pages: the overview, installs with their history and
//! pending upgrades, usage and cost this month with a daily chart and the
//! projection, invoices (view, print, CSV), and the account (terms, limits,
//! legal details).

use super::currency;
use crate::ConsoleState;
use crate::chart::{Bar, bars};
use crate::documents;
use crate::locale::Locale;
use crate::page::{PageError, csrf, empty, money, notice, page, plain};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_billing::Currency;
use spleis_billing::commitments::Commitment;
use spleis_billing::discounts::DiscountAmount;
use spleis_domain::accounts::Role;
use spleis_domain::parties::PartyDetails;
use spleis_platform::billing::render;
use spleis_platform::month::MonthSoFar;
use spleis_platform::usage::DailyUsage;
use std::collections::BTreeMap;

/// The days of the month so far, each with its calls (all plugins).
pub fn calls_by_day(daily: &DailyUsage, days: u32, locale: Locale) -> Vec<Bar> {
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    for d in 1..=days {
        per_day.insert(format!("{}-{d:02}", daily.period), 0);
    }
    // Calls recorded on a day of a month closed early are billed in this
    // one: they are drawn on the day they were made.
    for row in &daily.rows {
        *per_day.entry(row.day.clone()).or_default() += row.calls;
    }
    per_day
        .into_iter()
        .map(|(day, calls)| Bar {
            label: locale.day_label(&day),
            value: calls,
            text: format!("{} calls", locale.count(calls)),
        })
        .collect()
}

/// `/` for a tenant.
pub async fn overview(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let month = state.platform.month_so_far(&viewer.actor).await?;
    let pending = state.platform.pending_upgrades(&viewer.actor).await?;
    let installs = state.platform.installs(&viewer.actor).await?;
    let investments = state.platform.investments(&viewer.actor, None).await?;
    let locale = viewer.locale;
    let (total, projected) = month.invoice_totals(viewer.actor.id());
    let body = html! {
        div.tiles {
            (tile("Cost so far", &month.currency, total, locale, "cost-so-far"))
            (tile("Projected for the month", &month.currency, projected, locale, "cost-projected"))
            div.tile { span.label { "Installs" } span.figure #installs-count { (installs.len()) } }
            div.tile { span.label { "Pending upgrades" } span.figure { (pending.len()) } }
        }
        @if !pending.is_empty() {
            (notice(&format!("{} upgrade(s) wait for your approval.", pending.len())))
            p { a href="/installs" { "Review pending upgrades" } }
        }
        @if !investments.is_empty() {
            h2 { "Your investments" }
            p { "You funded " (investments.len()) " plugin(s). " a href="/investments" { "See what they have paid back" } }
        }
        p { "Month: " (locale.period(month.period)) ", day " (month.days_elapsed) " of " (month.days_in_period) ". "
            a href="/usage" { "Usage and cost by plugin" } }
    };
    Ok(page(&viewer, "Overview", "/", body))
}

/// One figure in a tile.
pub fn tile(label: &str, currency: &Currency, minor: i64, locale: Locale, id: &str) -> Markup {
    html! {
        div.tile { span.label { (label) } span.figure id=(id) { (money(locale, minor, currency)) } }
    }
}

/// `/installs`: installs and pending upgrades.
pub async fn installs(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let installs = state.platform.installs(&viewer.actor).await?;
    let pending = state.platform.pending_upgrades(&viewer.actor).await?;
    let body = html! {
        @if !pending.is_empty() {
            section aria-labelledby="pending" {
                h2 #pending { "Upgrades waiting for you" }
                p { "A new version asks for capabilities you have not granted; it runs only once you approve." }
                table.figures {
                    thead { tr { th scope="col" { "Plugin" } th scope="col" { "Version" } th scope="col" { "It newly asks for" } th scope="col" { "Decide" } } }
                    tbody {
                        @for p in &pending {
                            tr {
                                td { (p.package) }
                                td { (p.version) }
                                td { (p.new_capabilities.iter().map(|c| format!("{c} ({})", super::store::capability_words(*c))).collect::<Vec<_>>().join(", ")) }
                                td.actions {
                                    form method="post" action=(format!("/upgrades/{}/{}/approve", p.package, p.version)) {
                                        (csrf(&viewer)) button type="submit" { "Approve" }
                                    }
                                    form method="post" action=(format!("/upgrades/{}/{}/decline", p.package, p.version)) {
                                        (csrf(&viewer)) button.secondary type="submit" { "Decline" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if installs.is_empty() {
            (empty("No installs yet. The app store has plugins to install."))
        } @else {
            table.figures #installs {
                thead { tr { th scope="col" { "Plugin" } th scope="col" { "Version" } th scope="col" { "Accepts" } th scope="col" { "Granted" } th.num scope="col" { "Storage quota" } } }
                tbody {
                    @for i in &installs {
                        tr {
                            td { a href=(format!("/installs/{}", i.package)) { (i.package) } }
                            td { (i.version) }
                            td { (i.requirement) }
                            td { (i.grants.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", ")) }
                            td.num { (viewer.locale.count(i64::try_from(i.storage_quota / 1024).unwrap_or(i64::MAX))) "\u{a0}KiB" }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, "Installs", "/installs", body))
}

/// `/installs/{namespace}/{name}`: one install, its settings and history.
pub async fn install(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let package = format!("{namespace}/{name}");
    let detail = state
        .platform
        .install_detail(&viewer.actor, &package)
        .await?;
    let i = &detail.install;
    let locale = viewer.locale;
    let config_text: String = i.config.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let body = html! {
        dl {
            dt { "Version" } dd { (i.version) @if let Some(prev) = &i.previous { " (before: " (prev) ")" } }
            dt { "Accepts" } dd { (i.requirement) }
            dt { "Granted" } dd { (i.grants.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", ")) }
            dt { "Status" } dd { @if i.active { "active" } @else { "uninstalled" } }
        }
        @if i.active {
            h2 { "Settings" }
            form.stack method="post" action=(format!("/installs/{package}/config")) {
                (csrf(&viewer))
                label for="config" { "Settings (one key=value a line)" }
                textarea #config name="config" rows="4" { (config_text) }
                button type="submit" { "Save settings" }
            }
        }
        h2 { "History" }
        table.figures {
            thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Detail" } } }
            tbody {
                @for h in detail.history.iter().rev() {
                    tr {
                        td { (locale.date_time(h.at)) }
                        td { (h.action) }
                        td { (h.from_version.as_deref().unwrap_or("")) }
                        td { (h.to_version.as_deref().unwrap_or("")) }
                        td { (plain(&h.detail)) }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, &package, "/installs", body))
}

/// POST `/installs/{namespace}/{name}/config`.
pub async fn set_config(
    State(state): State<ConsoleState>,
    Path((namespace, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let package = format!("{namespace}/{name}");
    let config = super::store::config_lines(posted.form.get("config").unwrap_or(""))?;
    state
        .platform
        .set_config(&posted.viewer.actor, &package, &config)
        .await?;
    Ok(Redirect::to(&format!("/installs/{package}")).into_response())
}

/// POST `/upgrades/{namespace}/{name}/{version}/approve|decline`.
pub async fn decide_upgrade(
    State(state): State<ConsoleState>,
    Path((namespace, name, version, decision)): Path<(String, String, String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let package = format!("{namespace}/{name}");
    let actor = &posted.viewer.actor;
    match decision.as_str() {
        "approve" => {
            state
                .platform
                .approve_upgrade(actor, &package, &version)
                .await?;
        }
        "decline" => {
            state
                .platform
                .decline_upgrade(actor, &package, &version)
                .await?
        }
        other => {
            return Err(PageError::NotFound(format!(
                "no decision `{other}`: approve or decline"
            )));
        }
    }
    Ok(Redirect::to("/installs").into_response())
}

/// `/usage`: this month's usage and cost per plugin, calls by day, and the
/// projection to the month's end.
pub async fn usage(State(state): State<ConsoleState>, viewer: Viewer) -> Result<Markup, PageError> {
    let month: MonthSoFar = state.platform.month_so_far(&viewer.actor).await?;
    let daily = state
        .platform
        .daily_usage(&viewer.actor, Some(month.period))
        .await?;
    let locale = viewer.locale;
    let currency = month.currency;
    // Cost per plugin from the draft invoice's lines; calls from the days.
    let mut plugins: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in &daily.rows {
        plugins.entry(row.plugin.clone()).or_default().0 += row.calls;
    }
    let mut other_lines = Vec::new();
    let invoice = month.invoices.first();
    if let Some(invoice) = invoice {
        for line in &invoice.lines {
            match &line.plugin {
                Some(plugin) => {
                    plugins.entry(plugin.clone()).or_default().1 += line.line.amount.minor
                }
                None => other_lines.push(line),
            }
        }
    }
    let (total, projected) = month.invoice_totals(viewer.actor.id());
    // Each plugin's projected cost: its lines of the projected invoice
    // (usage by the pace, a monthly fee once).
    let mut projected_by_plugin: BTreeMap<&str, i64> = BTreeMap::new();
    for line in month.projected_invoices.iter().flat_map(|i| &i.lines) {
        if let Some(plugin) = &line.plugin {
            *projected_by_plugin.entry(plugin).or_default() += line.line.amount.minor;
        }
    }
    let chart = bars(
        &format!("Calls by day, {}", locale.period(month.period)),
        &calls_by_day(&daily, month.days_elapsed, locale),
        |top| format!("{} calls", locale.count(top)),
    );
    let body = html! {
        p { (locale.period(month.period)) ", day " (month.days_elapsed) " of " (month.days_in_period)
            ". Costs are rated as the month's close would rate them now; the projection assumes the rest of the month's usage goes at the same pace (monthly fees and minimums count once)." }
        div.tiles {
            (tile("Cost so far", &currency, total, locale, "cost-so-far"))
            (tile("Projected for the month", &currency, projected, locale, "cost-projected"))
        }
        (chart)
        table.figures #usage-by-plugin {
            caption { "By plugin" }
            thead { tr { th scope="col" { "Plugin" } th.num scope="col" { "Calls" } th.num scope="col" { "Cost so far" } th.num scope="col" { "Projected" } } }
            tbody {
                @for (plugin, (calls, cost)) in &plugins {
                    tr data-plugin=(plugin) {
                        th scope="row" { (plugin) }
                        td.num.calls data-calls=(calls) { (locale.count(*calls)) }
                        td.num { (money(locale, *cost, &currency)) }
                        td.num { (money(locale, projected_by_plugin.get(plugin.as_str()).copied().unwrap_or(*cost), &currency)) }
                    }
                }
                @for line in &other_lines {
                    tr { th scope="row" { (plain(&line.line.description)) } td {} td.num { (money(locale, line.line.amount.minor, &currency)) } td {} }
                }
            }
        }
        @if plugins.is_empty() { (empty("No usage yet this month.")) }
    };
    Ok(page(&viewer, "Usage & cost", "/usage", body))
}

/// `/invoices`: a tenant's own, or (the operator) every tenant's.
pub async fn invoices(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let docs = state.platform.invoices(&viewer.actor, None, None).await?;
    let locale = viewer.locale;
    let operator = viewer.actor.role() == Role::Operator;
    let body = html! {
        @if docs.is_empty() { (empty("No invoices yet: invoices are written when a month is closed.")) }
        @else {
            table.figures #invoices {
                thead { tr {
                    th scope="col" { "Number" } th scope="col" { "Month" }
                    @if operator { th scope="col" { "Tenant" } }
                    th scope="col" { "Issued" } th.num scope="col" { "Total" } th.num scope="col" { "Due" } th scope="col" { "Download" }
                } }
                tbody {
                    @for d in &docs {
                        tr data-number=(d.number) {
                            td { a href=(format!("/invoices/{}", d.number)) { (d.number) } }
                            td { (d.period.parse().map(|p| locale.period(p)).unwrap_or_else(|_| d.period.clone())) }
                            @if operator { td { (d.invoice.tenant) } }
                            td { (locale.date(d.issued_at)) }
                            td.num.total { (money(locale, d.invoice.total, &d.currency)) }
                            td.num.due { (money(locale, d.invoice.amount_due, &d.currency)) }
                            td { a href=(format!("/invoices/{}/csv", d.number)) download { "CSV" } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, "Invoices", "/invoices", body))
}

/// `/invoices/{number}`: the invoice document (issuer and recipient,
/// issue and due dates, plain lines) in the console's frame, printable.
pub async fn invoice(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Result<Markup, PageError> {
    let document =
        documents::invoice(&state.platform, &viewer.actor, &number, viewer.locale).await?;
    let nav = html! {
        nav.no-print { a href="/invoices" { "← Invoices" } " " button #print type="button" { "Print" } " " a href=(format!("/invoices/{number}/csv")) download { "CSV" } }
    };
    Ok(document.in_console(viewer.locale, nav))
}

/// `/invoices/{number}/csv`: the platform's CSV of the invoice.
pub async fn invoice_csv(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let csv = render::invoice_csv(&state.platform.invoice(&viewer.actor, &number).await?);
    // Invoice numbers are `INV-YYYYMM-NNNN`; anything else is not quoted into a header.
    let safe: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `/account`: who, terms and limits (tenants), legal details.
pub async fn account(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let locale = viewer.locale;
    let currency = currency(&state, &viewer).await?;
    let details = state
        .platform
        .party_details(&viewer.actor, viewer.actor.id())
        .await?;
    let terms = match viewer.actor.role() {
        Role::Tenant => state
            .platform
            .tenant_terms(&viewer.actor)
            .await?
            .into_iter()
            .next(),
        _ => None,
    };
    let limits = match viewer.actor.role() {
        Role::Tenant => Some(state.platform.my_limits(&viewer.actor).await?),
        _ => None,
    };
    let tokens = state.platform.tokens(&viewer.actor, None).await?;
    let body = html! {
        dl {
            dt { "Account" } dd { (viewer.actor.id()) }
            dt { "Name" } dd { (viewer.actor.name) }
            dt { "Role" } dd { (viewer.actor.role().as_str()) }
            dt { "Session ends" } dd { "8 hours after sign-in, at sign-out, or when its token is revoked" }
        }
        @if let Some(t) = &terms {
            h2 { "Your terms" }
            dl #terms {
                dt { "Minimum per month" } dd { (money(locale, t.minimum(), &currency)) }
                dt { "Commitments" }
                dd #commitments {
                    @if t.terms.commitments.is_empty() { "none" }
                    ul.plain { @for c in &t.terms.commitments { li { (commitment_words(c, locale, &currency)) } } }
                }
                dt { "Prepaid credit" } dd #credit { (money(locale, t.terms.credit, &currency)) }
                dt { "Discounts" }
                dd {
                    @if t.terms.discounts.is_empty() { "none" }
                    ul.plain { @for d in &t.terms.discounts { li { (discount_words(d, locale, &currency)) } } }
                }
            }
        }
        @if let Some(v) = &limits {
            h2 { "Limits" }
            p { "Set by the operator; each call also runs under the sandbox's limits (fuel, a deadline, memory)." }
            dl #limits {
                dt { "Calls at once" } dd { (locale.count(i64::from(v.limits.concurrency))) " (running now: " (locale.count(i64::from(v.current.running))) ")" }
                dt { "Calls per second" } dd { (locale.count(i64::from(v.limits.rate_per_second))) ", bursts of " (locale.count(i64::from(v.limits.burst))) }
                dt { "Storage per install" } dd { (locale.count(i64::try_from(v.limits.storage_quota_bytes / 1024).unwrap_or(i64::MAX))) "\u{a0}KiB" }
                dt { "Event deliveries per call" } dd { (locale.count(i64::from(v.limits.fan_out))) }
                dt { "Calls refused (this node)" } dd { (locale.count(i64::try_from(v.current.throttled_rate + v.current.throttled_concurrency).unwrap_or(i64::MAX))) }
            }
        }
        h2 { "Tokens" }
        p { "Stored only as a hash; a new token is shown once (create one with the API or `spleis client tokens create`). Revoking the token you signed in with ends this session." }
        table.figures #tokens {
            thead { tr { th scope="col" { "Id" } th scope="col" { "Label" } th scope="col" { "State" } th scope="col" { "Revoke" } } }
            tbody {
                @for t in &tokens {
                    tr {
                        td { code { (t.id) } }
                        td { (t.label) }
                        td { @if t.revoked_at.is_some() { "revoked" } @else if t.expires_at.is_some() { "expires" } @else { "active" } }
                        td.actions {
                            @if t.revoked_at.is_none() {
                                form method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                                    (csrf(&viewer)) button.secondary type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Legal details for invoices" }
        (details_form(&viewer, "/account/details", &details, false))
    };
    Ok(page(&viewer, "Account", "/account", body))
}

/// POST `/account/tokens/{id}/revoke`: revokes one of the account's tokens.
pub async fn revoke_token(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    state
        .platform
        .revoke_token(&posted.viewer.actor, None, &id)
        .await?;
    Ok(Redirect::to("/account").into_response())
}

/// A discount in words.
pub fn discount_words(
    d: &spleis_billing::discounts::Discount,
    locale: Locale,
    currency: &Currency,
) -> String {
    let how = match d.amount {
        DiscountAmount::Percent { bps } => locale.percent(bps),
        DiscountAmount::Fixed { minor } => locale.money(minor, currency),
    };
    format!(
        "{how} off, {} to {}: {}",
        locale.period(d.from),
        locale.period(d.to),
        d.reason
    )
}

/// A commitment in words: "at least 5,000 units of `contracts` of
/// acme/energy-tariff a month, from Jan 2027 to Dec 2027".
pub fn commitment_words(c: &Commitment, locale: Locale, currency: &Currency) -> String {
    c.words(
        |minor| locale.money(minor, currency),
        |units| locale.count(i64::try_from(units).unwrap_or(i64::MAX)),
        |period| locale.period(period),
    )
}

/// The legal-details form (with payment terms for the issuer).
pub fn details_form(viewer: &Viewer, action: &str, details: &PartyDetails, issuer: bool) -> Markup {
    html! {
        form.stack method="post" action=(action) {
            (csrf(viewer))
            label for="legal_name" { "Legal name" }
            input #legal_name name="legal_name" value=(details.legal_name) maxlength="200";
            label for="address" { "Address" }
            textarea #address name="address" rows="3" maxlength="500" { (details.address) }
            label for="tax_id" { "VAT or company number" }
            input #tax_id name="tax_id" value=(details.tax_id) maxlength="64";
            @if issuer {
                label for="payment_terms_days" { "Payment terms (days)" }
                input #payment_terms_days name="payment_terms_days" type="number" min="0" max="365" value=(details.payment_terms_days);
            }
            button type="submit" { "Save" }
        }
    }
}

/// The legal details of a posted form.
pub fn posted_details(posted: &Posted) -> Result<PartyDetails, PageError> {
    let f = &posted.form;
    Ok(PartyDetails {
        legal_name: f.get("legal_name").unwrap_or("").to_owned(),
        address: f.get("address").unwrap_or("").replace("\r\n", "\n"),
        tax_id: f.get("tax_id").unwrap_or("").to_owned(),
        payment_terms_days: match f.non_empty("payment_terms_days") {
            Some(days) => days.parse().map_err(|_| {
                PageError::BadRequest("the payment terms are a number of days, 0 to 365".into())
            })?,
            None => 0,
        },
    })
}

/// POST `/account/details`.
pub async fn set_details(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let details = posted_details(&posted)?;
    let actor = &posted.viewer.actor;
    state
        .platform
        .set_party_details(actor, actor.id(), &details)
        .await?;
    Ok(Redirect::to("/account").into_response())
}
