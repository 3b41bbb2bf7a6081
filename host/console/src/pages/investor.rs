//! The investor's dashboard (per investment: invested, to be paid back,
//! paid, remaining, progress, this month's expected revenue and payout),
//! statements month by month, and co-funding campaigns (pledge; authors and
//! the operator open and close them).

use super::currency;
use crate::ConsoleState;
use crate::chart::{Bar, bars, progress};
use crate::documents;
use crate::page::{PageError, csrf, empty, money, page};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_billing::close::Party;
use spleis_domain::accounts::Role;
use spleis_domain::billing::StatementDocument;
use spleis_platform::billing::NewCampaign;
use std::collections::BTreeMap;

/// Statement totals by month, oldest first, as bars.
pub fn by_month(statements: &[StatementDocument], viewer: &Viewer) -> Vec<Bar> {
    let mut months: BTreeMap<String, (i64, Option<spleis_billing::Currency>)> = BTreeMap::new();
    for s in statements {
        let entry = months
            .entry(s.period.clone())
            .or_insert((0, Some(s.currency)));
        entry.0 = entry.0.saturating_add(s.statement.total);
    }
    months
        .into_iter()
        .map(|(period, (total, currency))| Bar {
            label: period
                .parse()
                .map(|p: spleis_billing::discounts::Period| {
                    format!("{} {}", &viewer.locale.month_name(p.month)[..3], p.year)
                })
                .unwrap_or(period),
            value: total,
            text: currency.map_or_else(|| total.to_string(), |c| viewer.locale.money(total, &c)),
        })
        .collect()
}

/// `/investments`: a tenant's own (the investor's dashboard), or every
/// investment for the operator.
pub async fn investments(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let views = state.platform.investments(&viewer.actor, None).await?;
    let statements: Vec<StatementDocument> = state
        .platform
        .statements(&viewer.actor, None, None)
        .await?
        .into_iter()
        .filter(|s| s.statement.kind == Party::Investor)
        .collect();
    let campaigns = state.platform.campaigns(&viewer.actor).await?;
    let platform_currency = currency(&state, &viewer).await?;
    let locale = viewer.locale;
    let me = viewer.actor.id().to_owned();
    let operator = viewer.actor.role() == Role::Operator;
    let pledged: Vec<_> = campaigns
        .iter()
        .filter(|c| operator || c.pledges.iter().any(|p| p.tenant == me))
        .collect();
    let body = html! {
        @if views.is_empty() { (empty("No investments yet. A tenant that funds a plugin is paid back from its revenue.")) }
        @for v in &views {
            @let c = spleis_billing::Currency::new(&v.currency).map_err(|e| PageError::BadRequest(e.to_string()))?;
            @let i = &v.investment;
            section.investment id=(format!("investment-{}", i.id)) aria-labelledby=(format!("h-{}", i.id)) {
                h2 id=(format!("h-{}", i.id)) { (i.package) @if operator { " · " (i.investor) } }
                (progress(&format!("Paid back of {}", i.package), i.paid, i.cap))
                p.meta { (locale.percent(u32::try_from(i128::from(i.paid) * 10_000 / i128::from(i.cap.max(1))).unwrap_or(10_000))) " paid back" }
                div.tiles {
                    div.tile { span.label { "Invested" } span.figure.invested { (money(locale, i.principal, &c)) } }
                    div.tile { span.label { "To be paid back in all" } span.figure.cap { (money(locale, i.cap, &c)) } }
                    div.tile { span.label { "Paid so far" } span.figure.paid { (money(locale, i.paid, &c)) } }
                    div.tile { span.label { "Remaining" } span.figure.remaining { (money(locale, v.remaining, &c)) } }
                }
                h3 { "This month (" (v.period.parse().map(|p| locale.period(p)).unwrap_or_else(|_| v.period.clone())) ")" }
                dl.inline {
                    dt { "Charged for the plugin so far" } dd.charged { (money(locale, v.charged_so_far, &c)) }
                    dt { "Its revenue so far" } dd.revenue { (money(locale, v.revenue_so_far, &c)) }
                    dt { "Expected revenue this month" } dd.projected-revenue { (money(locale, v.projected_revenue, &c)) }
                    dt { "Expected payout to you" } dd.projected-payout { (money(locale, v.projected_payout, &c)) }
                }
                p.meta { "Return " (locale.percent(i.return_bps)) " on top of the principal; funded " (locale.date(i.funded_at)) "." }
            }
        }
        section aria-labelledby="statements" {
            h2 #statements { "Statements" }
            @if statements.is_empty() { (empty("No statements yet: one is written for each month that pays you.")) }
            @else {
                (bars("Paid back by month", &by_month(&statements, &viewer), |top| statements.first().map_or_else(|| top.to_string(), |s| locale.money(top, &s.currency))))
                (statement_table(&statements, &viewer))
            }
        }
        section aria-labelledby="pledges" {
            h2 #pledges { "Campaigns you pledged to" }
            @if pledged.is_empty() { (empty("None.")) } @else { (campaign_list(&pledged, &viewer, &platform_currency)) }
            p { a href="/campaigns" { "All campaigns" } }
        }
    };
    Ok(page(&viewer, "Investments", "/investments", body))
}

/// Statements as a table with links.
pub fn statement_table(statements: &[StatementDocument], viewer: &Viewer) -> Markup {
    let locale = viewer.locale;
    html! {
        table.figures.statements {
            thead { tr { th scope="col" { "Number" } th scope="col" { "Month" } th scope="col" { "As" } th.num scope="col" { "Total" } } }
            tbody {
                @for s in statements {
                    tr data-number=(s.number) {
                        td { a href=(format!("/statements/{}", s.number)) { (s.number) } }
                        td { (s.period.parse().map(|p| locale.period(p)).unwrap_or_else(|_| s.period.clone())) }
                        td { (match s.statement.kind { Party::Author => "author", Party::Investor => "investor", Party::Builder => "builder" }) }
                        td.num.total { (money(locale, s.statement.total, &s.currency)) }
                    }
                }
            }
        }
    }
}

/// `/statements/{number}`: the statement (credit note) document in the
/// console's frame, printable.
pub async fn statement(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Result<Markup, PageError> {
    let document =
        documents::statement(&state.platform, &viewer.actor, &number, viewer.locale).await?;
    let nav = html! {
        nav.no-print { a href="/" { "← Back" } " " button #print type="button" { "Print" } }
    };
    Ok(document.in_console(viewer.locale, nav))
}

/// Campaigns as cards with their progress.
fn campaign_list(
    campaigns: &[&spleis_domain::billing::CampaignRecord],
    viewer: &Viewer,
    currency: &spleis_billing::Currency,
) -> Markup {
    let locale = viewer.locale;
    let me = viewer.actor.id();
    html! {
        ul.cards {
            @for c in campaigns {
                li.card id=(format!("campaign-{}", c.id)) {
                    h3 { (c.title) }
                    p.meta { (c.funds()) " · " (c.status) " · ends " (locale.date(c.deadline)) }
                    (progress(&format!("Pledged toward {}", c.title), c.pledged, c.goal))
                    p { span.pledged { (money(locale, c.pledged, currency)) } " of " span.goal { (money(locale, c.goal, currency)) } " pledged by " (c.pledge_count) " tenant(s); return " (locale.percent(c.return_bps)) }
                    @if let Some(mine) = c.pledges.iter().find(|p| p.tenant == me) {
                        p { "Your pledge: " span.mine { (money(locale, mine.amount, currency)) } }
                    }
                }
            }
        }
    }
}

/// `/campaigns`: every campaign; pledge (tenants), open and close (an
/// owner of the plugin or the operator).
pub async fn campaigns(
    State(state): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    let all = state.platform.campaigns(&viewer.actor).await?;
    let currency = currency(&state, &viewer).await?;
    let locale = viewer.locale;
    let role = viewer.actor.role();
    let body = html! {
        @if all.is_empty() { (empty("No campaigns.")) }
        @for c in &all {
            section.card id=(format!("campaign-{}", c.id)) {
                h2 { (c.title) }
                p.meta { (c.funds()) " · " (c.status) " · ends " (locale.date(c.deadline)) " · return " (locale.percent(c.return_bps)) }
                (progress(&format!("Pledged toward {}", c.title), c.pledged, c.goal))
                p { (money(locale, c.pledged, &currency)) " of " (money(locale, c.goal, &currency)) " pledged" }
                @if role == Role::Tenant && c.status == "open" {
                    form.inline method="post" action=(format!("/campaigns/{}/pledge", c.id)) {
                        (csrf(&viewer))
                        label for=(format!("amount-{}", c.id)) { "Your pledge (" (currency.code()) ")" }
                        input id=(format!("amount-{}", c.id)) name="amount" inputmode="decimal" required;
                        button type="submit" { "Pledge" }
                    }
                }
                @if role != Role::Tenant && c.status == "open" {
                    form.inline method="post" action=(format!("/campaigns/{}/close", c.id)) {
                        (csrf(&viewer)) button.secondary type="submit" { "Close after the deadline" }
                    }
                }
            }
        }
        @if role != Role::Tenant {
            h2 { "Open a campaign" }
            form.stack method="post" action="/campaigns" {
                (csrf(&viewer))
                label for="package" { "Plugin (namespace/name)" } input #package name="package" required;
                label for="title" { "What it funds" } input #title name="title" required maxlength="200";
                label for="goal" { "Goal (" (currency.code()) ")" } input #goal name="goal" inputmode="decimal" required;
                label for="deadline" { "Deadline (YYYY-MM-DD)" } input #deadline name="deadline" type="date" required;
                label for="return_pct" { "Return for investors (%)" } input #return_pct name="return_pct" inputmode="decimal" value="10";
                button type="submit" { "Open" }
            }
        }
    };
    Ok(page(&viewer, "Campaigns", "/campaigns", body))
}

/// An amount typed in major units (`12.50`, `12,50`) as minor units of
/// a currency with `exponent` decimals; never through a float.
pub fn parse_amount(text: &str, exponent: u8) -> Result<i64, PageError> {
    let bad = || PageError::BadRequest(format!("`{text}` is not an amount such as 12.50"));
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let exponent = usize::from(exponent);
    if fraction.len() > exponent {
        return Err(PageError::BadRequest(format!(
            "`{text}` has more than {exponent} decimals"
        )));
    }
    let digits = format!("{whole}{fraction:0<exponent$}");
    digits.parse::<i64>().map_err(|_| bad())
}

/// A `YYYY-MM-DD` date as Unix milliseconds at the day's end (UTC).
pub fn parse_day_end(text: &str) -> Result<i64, PageError> {
    let bad = || PageError::BadRequest(format!("`{text}` is not a date YYYY-MM-DD"));
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let period: spleis_billing::discounts::Period =
        format!("{y}-{m}").parse().map_err(|_| bad())?;
    let day: i64 = d.parse().map_err(|_| bad())?;
    if day < 1 || day > i64::from(period.days()) {
        return Err(bad());
    }
    Ok(period.start_ms() + day * spleis_billing::period::DAY_MS - 1)
}

/// POST `/campaigns`: open one.
pub async fn create_campaign(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let currency = currency(&state, &posted.viewer).await?;
    let f = &posted.form;
    let return_bps = match f.non_empty("return_pct") {
        Some(pct) => u32::try_from(parse_amount(pct, 2)?)
            .map_err(|_| PageError::BadRequest("the return is too large".into()))?,
        None => 0,
    };
    let campaign = NewCampaign {
        package: f.get("package").unwrap_or("").to_owned(),
        title: f.get("title").unwrap_or("").to_owned(),
        goal_minor: parse_amount(f.get("goal").unwrap_or(""), currency.exponent())?,
        deadline_ms: parse_day_end(f.get("deadline").unwrap_or(""))?,
        return_bps,
    };
    state
        .platform
        .create_campaign(&posted.viewer.actor, &campaign)
        .await?;
    Ok(Redirect::to("/campaigns").into_response())
}

/// POST `/campaigns/{id}/pledge`.
pub async fn pledge(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let currency = currency(&state, &posted.viewer).await?;
    let amount = parse_amount(posted.form.get("amount").unwrap_or(""), currency.exponent())?;
    state
        .platform
        .pledge(&posted.viewer.actor, &id, amount)
        .await?;
    Ok(Redirect::to("/campaigns").into_response())
}

/// POST `/campaigns/{id}/close`.
pub async fn close_campaign(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    state
        .platform
        .close_campaign(&posted.viewer.actor, &id)
        .await?;
    Ok(Redirect::to("/campaigns").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_typed_in_major_units_become_minor_units_exactly() {
        assert_eq!(parse_amount("12.50", 2).unwrap(), 1250);
        assert_eq!(parse_amount("12,5", 2).unwrap(), 1250);
        assert_eq!(parse_amount("100", 2).unwrap(), 10_000);
        assert_eq!(parse_amount(".05", 2).unwrap(), 5);
        assert_eq!(parse_amount("7", 0).unwrap(), 7);
        assert!(parse_amount("0.001", 2).is_err());
        assert!(parse_amount("-1", 2).is_err());
        assert!(parse_amount("1e3", 2).is_err());
        assert!(parse_amount("", 2).is_err());
        assert!(parse_amount("99999999999999999999", 2).is_err());
    }

    #[test]
    fn a_deadline_day_ends_at_its_last_millisecond() {
        let end = parse_day_end("2026-11-30").unwrap();
        assert_eq!(
            end,
            "2026-12"
                .parse::<spleis_billing::discounts::Period>()
                .unwrap()
                .start_ms()
                - 1
        );
        assert!(parse_day_end("2026-02-30").is_err());
        assert!(parse_day_end("tomorrow").is_err());
    }
}
