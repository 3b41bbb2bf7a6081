//! The app store: the catalog with search and tags, and a plugin's page
//! (versions, operations, capabilities, its price plan in plain words and
//! a worked example month), with the install form for tenants.

use super::{currency, plan_in_words};
use crate::ConsoleState;
use crate::page::{PageError, csrf, empty, money, notice, page};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_billing::rating::{PeriodUsage, PricePlan};
use spleis_domain::accounts::Role;
use spleis_platform::installs::InstallRequest;
use spleis_registry::{Capability, Manifest};
use std::collections::{BTreeMap, BTreeSet};

/// The store's query: words and a tag.
#[derive(serde::Deserialize, Default)]
pub struct StoreQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
}

/// The tags of a plugin, read from its manifest: its namespace, the
/// capabilities it asks for, its metrics, and "events" when it listens.
pub fn tags(manifest: &Manifest) -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    if let Some((namespace, _)) = manifest.name.split_once('/') {
        tags.insert(namespace.to_owned());
    }
    tags.extend(manifest.capabilities.iter().map(|c| c.to_string()));
    tags.extend(manifest.metrics.keys().cloned());
    if !manifest.subscribes.is_empty() {
        tags.insert("events".into());
    }
    tags
}

/// `/store`: every package, searchable by words, filtered by a tag.
pub async fn catalog(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<StoreQuery>,
) -> Result<Markup, PageError> {
    let words = query.q.trim();
    let packages = state
        .platform
        .catalog(&viewer.actor, (!words.is_empty()).then_some(words))
        .await?;
    let mut cards = Vec::new();
    let mut all_tags = BTreeSet::new();
    for summary in packages {
        let detail = state.platform.package(&viewer.actor, &summary.name).await?;
        let latest = detail.versions.iter().rev().find(|v| !v.yanked);
        let tags = latest.map(|v| tags(&v.manifest)).unwrap_or_default();
        all_tags.extend(tags.iter().cloned());
        if !query.tag.is_empty() && !tags.contains(&query.tag) {
            continue;
        }
        cards.push((summary, tags));
    }
    let body = html! {
        form.search role="search" method="get" action="/store" {
            label for="q" { "Search plugins" }
            input #q type="search" name="q" value=(words);
            @if !query.tag.is_empty() { input type="hidden" name="tag" value=(query.tag); }
            button type="submit" { "Search" }
        }
        nav.tags aria-label="Tags" {
            a href="/store" aria-current=[query.tag.is_empty().then_some("page")] { "all" }
            @for tag in &all_tags {
                a href=(format!("/store?tag={tag}")) aria-current=[(query.tag == *tag).then_some("page")] { (tag) }
            }
        }
        @if cards.is_empty() {
            (empty("No plugin matches."))
        }
        ul.cards {
            @for (summary, tags) in &cards {
                li.card {
                    h2 { a href=(format!("/store/{}", summary.name)) { (summary.name) } }
                    p { (summary.description) }
                    p.meta { "latest " (summary.latest.as_deref().unwrap_or("—")) }
                    p.tags { @for tag in tags { span.tag { (tag) } " " } }
                }
            }
        }
    };
    Ok(page(&viewer, "App store", "/store", body))
}

/// The sample month of the worked example: a tenant that had the plugin
/// installed all month and called each operation 500 times, reporting 100
/// units of each metric, using 5 billion units of fuel and 20 s in the host.
pub fn sample_month(manifest: &Manifest) -> PeriodUsage {
    PeriodUsage {
        calls: manifest
            .operations
            .iter()
            .map(|op| (op.clone(), 500))
            .collect(),
        failed_calls: BTreeMap::new(),
        metrics: manifest.metrics.keys().map(|m| (m.clone(), 100)).collect(),
        fuel: 5_000_000_000,
        failed_fuel: 0,
        host_us: 20_000_000,
        failed_host_us: 0,
        days_installed: 30,
        days_in_period: 30,
    }
}

/// The worked example of `plan` on `usage`, as a table (or the reason
/// the plan cannot rate it).
pub async fn worked_example(
    state: &ConsoleState,
    viewer: &Viewer,
    plan: &PricePlan,
    usage: &PeriodUsage,
) -> Markup {
    let locale = viewer.locale;
    match state.platform.price_example(&viewer.actor, plan, usage) {
        Ok(lines) => {
            let total = lines
                .iter()
                .map(|l| l.amount.minor)
                .fold(0i64, i64::saturating_add);
            html! {
                table.figures {
                    thead { tr { th scope="col" { "Charge" } th scope="col" { "Quantity" } th.num scope="col" { "Amount" } } }
                    tbody {
                        @for line in &lines {
                            tr {
                                td { (crate::page::plain(&line.description)) }
                                td.num { (locale.decimal(line.quantity)) }
                                td.num { (money(locale, line.amount.minor, &plan.currency)) }
                            }
                        }
                    }
                    tfoot { tr { th scope="row" colspan="2" { "A month like this" } td.num #example-total { (money(locale, total, &plan.currency)) } } }
                }
            }
        }
        Err(e) => html! { p.error role="alert" { (e.to_string()) } },
    }
}

/// `/store/{namespace}/{name}`: a plugin's page.
pub async fn plugin(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let package = format!("{namespace}/{name}");
    let detail = state.platform.package(&viewer.actor, &package).await?;
    let plans = state.platform.plans(&viewer.actor, &package).await?;
    let currency = currency(&state, &viewer).await?;
    let locale = viewer.locale;
    let latest = detail
        .versions
        .iter()
        .rev()
        .find(|v| !v.yanked)
        .ok_or_else(|| PageError::NotFound(format!("{package} has no version to install")))?;
    let manifest = &latest.manifest;
    let installed = match viewer.actor.role() {
        Role::Tenant => state
            .platform
            .installs(&viewer.actor)
            .await?
            .into_iter()
            .find(|i| i.package == package),
        _ => None,
    };
    let plan = plans.last();
    let sample = sample_month(manifest);
    let example = match plan {
        Some(plan) => Some(worked_example(&state, &viewer, &plan.plan, &sample).await),
        None => None,
    };
    let body = html! {
        p.lead { (manifest.description) }
        div.columns {
            section aria-labelledby="about" {
                h2 #about { "About" }
                dl {
                    dt { "Latest version" } dd { (latest.version) }
                    dt { "Published by" } dd { (detail.owners.join(", ")) }
                    dt { "Operations" } dd { (manifest.operations.iter().cloned().collect::<Vec<_>>().join(", ")) }
                    @if !manifest.subscribes.is_empty() {
                        dt { "Listens to" } dd { (manifest.subscribes.iter().cloned().collect::<Vec<_>>().join(", ")) }
                    }
                    dt { "Asks for" }
                    dd {
                        @if manifest.capabilities.is_empty() { "nothing" }
                        ul.plain { @for cap in &manifest.capabilities { li { strong { (cap) } ": " (capability_words(*cap)) } } }
                    }
                    @if !manifest.metrics.is_empty() {
                        dt { "Reports" }
                        dd { ul.plain { @for (metric, m) in &manifest.metrics { li { strong { (metric) } @if !m.description.is_empty() { ": " (m.description) } } } } }
                    }
                }
            }
            section aria-labelledby="price" {
                h2 #price { "Price" }
                @match plan {
                    Some(plan) => {
                        ul.plain { @for sentence in plan_in_words(&plan.plan, locale) { li { (sentence) } } }
                        p.meta { "In force from " (locale.period(plan.effective_from)) "." }
                        h3 { "A worked example" }
                        p { "A month installed all 30 days, 500 calls of each operation"
                            @if !manifest.metrics.is_empty() { ", 100 units of each metric" }
                            ", 5 billion units of compute:" }
                        @if let Some(example) = &example { (example) }
                    }
                    None => { p { "No price plan yet: calls are free until the author sets one." } }
                }
            }
        }
        section aria-labelledby="versions" {
            h2 #versions { "Versions" }
            table.figures {
                thead { tr { th scope="col" { "Version" } th scope="col" { "Published" } th scope="col" { "Capabilities" } th scope="col" { "Status" } } }
                tbody {
                    @for v in detail.versions.iter().rev() {
                        tr {
                            td { (v.version) }
                            td { (locale.date(v.published_at)) }
                            td { (v.manifest.capabilities.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")) }
                            td { @if v.yanked { "yanked" } @else { "available" } }
                        }
                    }
                }
            }
        }
        @if viewer.actor.role() == Role::Tenant {
            section aria-labelledby="install" {
                h2 #install { "Install" }
                @match &installed {
                    Some(install) => {
                        (notice(&format!("Installed: version {} (requirement {}).", install.version, install.requirement)))
                        p { a href=(format!("/installs/{package}")) { "Your install and its history" } }
                    }
                    None => { (install_form(&viewer, &package, manifest, currency.code())) }
                }
            }
        }
    };
    Ok(page(&viewer, &package, "/store", body))
}

/// What granting a capability lets the plugin do, in words.
pub fn capability_words(cap: Capability) -> &'static str {
    match cap {
        Capability::Storage => "keep data of its own for your account",
        Capability::Config => "read the settings you give it",
        Capability::Metering => "report billable units (what you pay per unit)",
        Capability::Events => "send events to your other plugins",
        Capability::Log => "write to its log",
    }
}

fn install_form(viewer: &Viewer, package: &str, manifest: &Manifest, _code: &str) -> Markup {
    html! {
        form.stack method="post" action=(format!("/store/{package}/install")) {
            (csrf(viewer))
            label for="requirement" { "Versions to accept" }
            input #requirement name="requirement" value=(format!("^{}.{}", manifest.version.major, manifest.version.minor)) aria-describedby="requirement-hint";
            small #requirement-hint { "A semver requirement: ^1.2 takes upgrades within 1.x automatically; =1.2.3 pins." }
            fieldset {
                legend { "Capabilities to grant" }
                @for cap in Capability::ALL {
                    @let id = format!("grant-{cap}");
                    div.check {
                        input type="checkbox" id=(id) name="grant" value=(cap.to_string()) checked[manifest.capabilities.contains(&cap)];
                        label for=(id) { strong { (cap) } " — " (capability_words(cap)) }
                    }
                }
            }
            label for="config" { "Settings (one key=value a line)" }
            textarea #config name="config" rows="3" {}
            button type="submit" { "Install" }
        }
    }
}

/// Parses `key=value` lines.
pub fn config_lines(text: &str) -> Result<BTreeMap<String, String>, PageError> {
    let mut config = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line.split_once('=').ok_or_else(|| {
            PageError::BadRequest(format!("the setting `{line}` is not key=value"))
        })?;
        config.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(config)
}

/// Parses the granted capabilities.
pub fn grants<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<BTreeSet<Capability>, PageError> {
    values
        .map(|v| {
            v.parse::<Capability>()
                .map_err(|_| PageError::BadRequest(format!("`{v}` is not a capability")))
        })
        .collect()
}

/// POST `/store/{namespace}/{name}/install`.
pub async fn install(
    State(state): State<ConsoleState>,
    Path((namespace, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let package = format!("{namespace}/{name}");
    let request = InstallRequest {
        package: package.clone(),
        requirement: posted.form.non_empty("requirement").map(str::to_owned),
        grants: grants(posted.form.all("grant"))?,
        config: config_lines(posted.form.get("config").unwrap_or(""))?,
        storage_quota_bytes: None,
    };
    state
        .platform
        .install(&posted.viewer.actor, &request)
        .await?;
    tracing::info!(tenant = %posted.viewer.actor.id(), %package, "installed from the console");
    Ok(Redirect::to(&format!("/installs/{package}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_as_key_value_lines() {
        let config = config_lines("rate.DE.standard = 0.19\n\nrate.DE.reduced=0.07").unwrap();
        assert_eq!(config["rate.DE.standard"], "0.19");
        assert_eq!(config.len(), 2);
        assert!(config_lines("nonsense").is_err());
        assert!(
            grants(["storage", "log"].into_iter())
                .unwrap()
                .contains(&Capability::Log)
        );
        assert!(grants(["net"].into_iter()).is_err());
    }
}
