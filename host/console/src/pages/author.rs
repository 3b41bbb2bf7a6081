//! An author's pages: its plugins and versions, calls and revenue by day
//! and month, earnings and statements, and the price-plan editor with a
//! preview of what a sample tenant would pay (a server round trip: the
//! form works without JavaScript).

use super::investor::{by_month, statement_table};
use super::store::{sample_month, worked_example};
use super::tenant::{calls_by_day, tile};
use super::{currency, plan_in_words};
use crate::ConsoleState;
use crate::chart::bars;
use crate::page::{PageError, csrf, empty, money, notice, page};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_billing::rating::{PeriodUsage, PricePlan};
use spleis_platform::registry::PackageDetail;
use std::collections::BTreeMap;

/// The packages whose namespace the viewer owns.
async fn my_packages(
    state: &ConsoleState,
    viewer: &Viewer,
) -> Result<Vec<PackageDetail>, PageError> {
    let mut mine = Vec::new();
    for summary in state.platform.catalog(&viewer.actor, None).await? {
        let detail = state.platform.package(&viewer.actor, &summary.name).await?;
        if viewer.actor.is_operator() || detail.owners.iter().any(|o| o == viewer.actor.id()) {
            mine.push(detail);
        }
    }
    Ok(mine)
}

/// `/` for an author: this month so far, and the plugins.
pub async fn overview(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let month = state.platform.month_so_far(&viewer.actor).await?;
    let locale = viewer.locale;
    let charged: i64 = month
        .settlements
        .iter()
        .map(|s| s.charged)
        .fold(0, i64::saturating_add);
    let earned: i64 = month
        .settlements
        .iter()
        .map(|s| s.author)
        .fold(0, i64::saturating_add);
    let body = html! {
        p { (locale.period(month.period)) ", day " (month.days_elapsed) " of " (month.days_in_period) "." }
        div.tiles {
            (tile("Tenants charged for your plugins so far", &month.currency, charged, locale, "charged-so-far"))
            (tile("Your share so far", &month.currency, earned, locale, "earned-so-far"))
            (tile("Your share projected", &month.currency, month.project(earned), locale, "earned-projected"))
        }
        p { a href="/plugins" { "Your plugins and their prices" } " · " a href="/earnings" { "Earnings and statements" } }
    };
    Ok(page(&viewer, "Overview", "/", body))
}

/// `/plugins`: the author's plugins with their versions and this month's
/// calls.
pub async fn plugins(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let mine = my_packages(&state, &viewer).await?;
    let report = state
        .platform
        .usage_report(&viewer.actor, None, None)
        .await?;
    let mut calls: BTreeMap<&str, (i64, std::collections::BTreeSet<&str>)> = BTreeMap::new();
    for row in &report.calls {
        let e = calls.entry(row.plugin.as_str()).or_default();
        e.0 += row.calls;
        e.1.insert(row.tenant.as_str());
    }
    let locale = viewer.locale;
    let body = html! {
        @if mine.is_empty() { (empty("No plugins yet: publish one with `spleis publish`.")) }
        table.figures #plugins {
            thead { tr { th scope="col" { "Plugin" } th scope="col" { "Versions" } th.num scope="col" { "Calls this month" } th.num scope="col" { "Tenants calling" } } }
            tbody {
                @for p in &mine {
                    @let (n, tenants) = calls.get(p.name.as_str()).cloned().unwrap_or_default();
                    tr data-plugin=(p.name) {
                        th scope="row" { a href=(format!("/plugins/{}", p.name)) { (p.name) } }
                        td { (p.versions.iter().map(|v| if v.yanked { format!("{} (yanked)", v.version) } else { v.version.to_string() }).collect::<Vec<_>>().join(", ")) }
                        td.num.calls data-calls=(n) { (locale.count(n)) }
                        td.num { (tenants.len()) }
                    }
                }
            }
        }
    };
    Ok(page(&viewer, "My plugins", "/plugins", body))
}

/// The plan editor's sample: calls per operation and units per metric,
/// from the form or the default sample month.
fn sample_from(form: Option<&crate::session::Fields>, base: PeriodUsage) -> PeriodUsage {
    let Some(form) = form else { return base };
    let mut usage = base;
    for (op, n) in usage.calls.iter_mut() {
        if let Some(v) = form
            .get(&format!("calls.{op}"))
            .and_then(|v| v.parse().ok())
        {
            *n = v;
        }
    }
    for (metric, n) in usage.metrics.iter_mut() {
        if let Some(v) = form
            .get(&format!("units.{metric}"))
            .and_then(|v| v.parse().ok())
        {
            *n = v;
        }
    }
    usage
}

async fn plugin_page(
    state: &ConsoleState,
    viewer: &Viewer,
    package: &str,
    draft: Option<(&str, &crate::session::Fields)>,
    message: Option<String>,
) -> Result<Markup, PageError> {
    let detail = state.platform.package(&viewer.actor, package).await?;
    if !viewer.actor.is_operator() && !detail.owners.iter().any(|o| o == viewer.actor.id()) {
        return Err(PageError::NotFound(format!(
            "`{package}` is not among your plugins"
        )));
    }
    let plans = state.platform.plans(&viewer.actor, package).await?;
    let currency = currency(state, viewer).await?;
    let locale = viewer.locale;
    let latest = detail
        .versions
        .iter()
        .rev()
        .find(|v| !v.yanked)
        .or(detail.versions.last());
    let Some(latest) = latest else {
        return Err(PageError::NotFound(format!("{package} has no versions")));
    };
    let usage = sample_from(draft.map(|(_, f)| f), sample_month(&latest.manifest));
    let current = plans.last();
    let text = match (draft, current) {
        (Some((text, _)), _) => text.to_owned(),
        (None, Some(plan)) => serde_json::to_string_pretty(&plan.plan).unwrap_or_default(),
        (None, None) => format!(
            "{{\"currency\": \"{}\", \"charges\": [\n  {{\"meter\": {{\"on\": \"calls\"}}, \"pricing\": {{\"kind\": \"unit\", \"price\": \"0.001\"}}}}\n]}}",
            currency.code()
        ),
    };
    let parsed: Result<PricePlan, String> =
        serde_json::from_str(&text).map_err(|e| format!("The plan is not valid: {e}"));
    let preview = match &parsed {
        Ok(plan) => Some((
            plan_in_words(plan, locale),
            worked_example(state, viewer, plan, &usage).await,
        )),
        Err(_) => None,
    };
    let body = html! {
        @if let Some(m) = &message { (notice(m)) }
        section aria-labelledby="versions" {
            h2 #versions { "Versions" }
            table.figures {
                thead { tr { th scope="col" { "Version" } th scope="col" { "Published" } th scope="col" { "Contract" } th scope="col" { "Status" } } }
                tbody { @for v in detail.versions.iter().rev() { tr { td { (v.version) } td { (locale.date(v.published_at)) } td { (v.contract) } td { @if v.yanked { "yanked" } @else { "available" } } } } }
            }
        }
        section aria-labelledby="plans" {
            h2 #plans { "Price plans" }
            @if plans.is_empty() { (empty("No plan yet: calls are free.")) }
            ul.plain { @for p in plans.iter().rev() { li { "From " (locale.period(p.effective_from)) ": " (plan_in_words(&p.plan, locale).join(" ")) } } }
        }
        section aria-labelledby="editor" {
            h2 #editor { "Edit the price plan" }
            p { "A first plan applies from this month; a change from the next, so a month under way keeps the prices its tenants saw. Preview shows what a sample tenant would pay." }
            form.stack method="post" action=(format!("/plugins/{package}/plan")) {
                (csrf(viewer))
                label for="plan" { "Plan (JSON)" }
                textarea #plan name="plan" rows="12" spellcheck="false" { (text) }
                fieldset {
                    legend { "Sample tenant, one month" }
                    @for (op, n) in &usage.calls {
                        label for=(format!("calls-{op}")) { "Calls of " (op) }
                        input id=(format!("calls-{op}")) name=(format!("calls.{op}")) type="number" min="0" value=(n);
                    }
                    @for (metric, n) in &usage.metrics {
                        label for=(format!("units-{metric}")) { "Units of " (metric) }
                        input id=(format!("units-{metric}")) name=(format!("units.{metric}")) type="number" min="0" value=(n);
                    }
                }
                div.buttons {
                    button type="submit" name="action" value="preview" { "Preview" }
                    button type="submit" name="action" value="save" { "Save the plan" }
                }
            }
            section #preview aria-live="polite" {
                h3 { "Preview" }
                @match (&parsed, &preview) {
                    (Err(e), _) => { p.error role="alert" { (e) } }
                    (Ok(_), Some((words, example))) => {
                        ul.plain { @for w in words { li { (w) } } }
                        (example)
                    }
                    _ => {}
                }
            }
        }
    };
    Ok(page(viewer, package, "/plugins", body))
}

/// `/plugins/{namespace}/{name}`: versions, plans, the editor.
pub async fn plugin(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    plugin_page(&state, &viewer, &format!("{namespace}/{name}"), None, None).await
}

/// POST `/plugins/{namespace}/{name}/plan`: preview, or save.
pub async fn plan(
    State(state): State<ConsoleState>,
    Path((namespace, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let package = format!("{namespace}/{name}");
    let text = posted.form.get("plan").unwrap_or("").to_owned();
    if posted.form.get("action") == Some("save") {
        let plan: PricePlan = serde_json::from_str(&text)
            .map_err(|e| PageError::BadRequest(format!("The plan is not valid: {e}")))?;
        let record = state
            .platform
            .set_plan(&posted.viewer.actor, &package, &plan)
            .await?;
        tracing::info!(%package, from = %record.effective_from, "plan set from the console");
        return Ok(Redirect::to(&format!("/plugins/{package}")).into_response());
    }
    Ok(plugin_page(
        &state,
        &posted.viewer,
        &package,
        Some((&text, &posted.form)),
        None,
    )
    .await?
    .into_response())
}

/// `/earnings`: calls by day, this month so far, statements by month.
pub async fn earnings(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let month = state.platform.month_so_far(&viewer.actor).await?;
    let daily = state
        .platform
        .daily_usage(&viewer.actor, Some(month.period))
        .await?;
    let statements = state.platform.statements(&viewer.actor, None, None).await?;
    let locale = viewer.locale;
    let c = month.currency;
    let body = html! {
        h2 { (locale.period(month.period)) " so far" }
        (bars(&format!("Calls of your plugins by day, {}", locale.period(month.period)), &calls_by_day(&daily, month.days_elapsed, locale), |top| format!("{} calls", locale.count(top))))
        table.figures #month-by-plugin {
            thead { tr { th scope="col" { "Plugin" } th.num scope="col" { "Charged" } th.num scope="col" { "Platform fee & payback" } th.num scope="col" { "Your share" } th.num scope="col" { "Projected share" } } }
            tbody {
                @for s in &month.settlements {
                    tr data-plugin=(s.plugin) {
                        th scope="row" { (s.plugin) }
                        td.num { (money(locale, s.charged, &c)) }
                        td.num { (money(locale, s.charged.saturating_sub(s.author), &c)) }
                        td.num.author { (money(locale, s.author, &c)) }
                        td.num { (money(locale, month.project(s.author), &c)) }
                    }
                }
            }
        }
        @if month.settlements.is_empty() { (empty("No charges for your plugins yet this month.")) }
        h2 { "Statements" }
        @if statements.is_empty() { (empty("No statements yet: one is written for each closed month that pays you.")) }
        @else {
            (bars("Earned by month", &by_month(&statements, &viewer), |top| locale.money(top, &c)))
            (statement_table(&statements, &viewer))
        }
    };
    Ok(page(&viewer, "Earnings", "/earnings", body))
}
