//! `spleis billing …` (the operator's and authors' money commands) and
//! `spleis report …` (invoices, statements, usage, investments), as
//! clients of a server. Amounts are typed in major units (`12.50`) and sent
//! in minor units of the platform's currency.

use super::client::{Client, Connection, lines, read_json};
use anyhow::{Context, bail};
use clap::Subcommand;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

/// Billing commands.
#[derive(Subcommand)]
pub enum BillingCommand {
    /// Close a period: invoices, statements and ledger entries, once.
    Close {
        /// The period, YYYY-MM.
        #[arg(long)]
        period: String,
        /// Close the month still under way (its later usage goes into the next).
        #[arg(long)]
        early: bool,
    },
    /// The open period and the closed ones.
    Periods,
    /// Ledger balances per account.
    Ledger {
        /// Only this period's transactions.
        #[arg(long)]
        period: Option<String>,
    },
    /// Show or change the currency and default platform fee.
    Settings {
        /// The billing currency (only before any plan or ledger entry).
        #[arg(long)]
        currency: Option<String>,
        /// The default platform fee, basis points.
        #[arg(long)]
        platform_fee_bps: Option<u32>,
    },
    /// Show a plugin's plans, or set a new one from a JSON file.
    Plan {
        /// `namespace/name`.
        package: String,
        /// A price plan, JSON (see the README), or @FILE.
        #[arg(long)]
        set: Option<String>,
    },
    /// Show or change a plugin's revenue agreement (operator).
    Agreement {
        /// `namespace/name`.
        package: String,
        /// Who receives the author's part.
        #[arg(long)]
        author: Option<String>,
        /// The platform fee, basis points.
        #[arg(long)]
        platform_fee_bps: Option<u32>,
        /// The investors' pool, basis points of the plugin's revenue.
        #[arg(long)]
        investor_share_bps: Option<u32>,
        /// After payback: `author-keeps` or `to-platform`.
        #[arg(long)]
        after_payback: Option<String>,
    },
    /// Record a tenant's investment in a plugin (operator).
    Invest {
        /// `namespace/name`.
        package: String,
        /// The investing tenant.
        #[arg(long)]
        investor: String,
        /// The amount, major units (10000.00).
        #[arg(long)]
        principal: String,
        /// The return on top, basis points (1000 = 10%).
        #[arg(long, default_value_t = 0)]
        return_bps: u32,
    },
    /// Co-funding campaigns.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Set a tenant's minimum monthly commitment (operator).
    Minimum {
        /// The tenant.
        tenant: String,
        /// The amount, major units (0 removes it).
        #[arg(long)]
        amount: String,
    },
    /// Give a tenant a discount over a range of periods (operator).
    Discount {
        /// The tenant.
        tenant: String,
        /// Why, for the invoice.
        #[arg(long)]
        reason: String,
        /// A percentage (15 or 12.5).
        #[arg(long, conflicts_with = "fixed")]
        percent: Option<String>,
        /// A fixed amount, major units.
        #[arg(long)]
        fixed: Option<String>,
        /// The first period.
        #[arg(long)]
        from: String,
        /// The last period.
        #[arg(long)]
        to: String,
    },
    /// Book prepaid credit for a tenant (operator).
    Credit {
        /// The tenant.
        tenant: String,
        /// The amount, major units.
        #[arg(long)]
        amount: String,
    },
}

/// Campaign commands.
#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Open a campaign for a feature of a plugin.
    Create {
        /// `namespace/name`.
        package: String,
        /// What it funds.
        #[arg(long)]
        title: String,
        /// The goal, major units.
        #[arg(long)]
        goal: String,
        /// Runs this many seconds from now.
        #[arg(long)]
        seconds: u64,
        /// The investors' return, basis points.
        #[arg(long, default_value_t = 0)]
        return_bps: u32,
    },
    /// List campaigns.
    List,
    /// Pledge to a campaign (tenant).
    Pledge {
        /// The campaign.
        id: String,
        /// The amount, major units.
        #[arg(long)]
        amount: String,
    },
    /// Close a campaign after its deadline.
    Close {
        /// The campaign.
        id: String,
    },
}

/// Report commands.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// List invoices (yours; the operator's: all or --tenant).
    Invoices {
        /// Only this period.
        #[arg(long)]
        period: Option<String>,
        /// Operator: one tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// One invoice as text, JSON, CSV or HTML.
    Invoice {
        /// Its number, e.g. INV-202611-0001.
        number: String,
        /// `csv` or `html` (default: text, or JSON with --json).
        #[arg(long)]
        format: Option<String>,
        /// Write it to this file.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List statements (yours; the operator's: all or --party).
    Statements {
        /// Only this period.
        #[arg(long)]
        period: Option<String>,
        /// Operator: one party's.
        #[arg(long)]
        party: Option<String>,
    },
    /// One statement as text, JSON, CSV or HTML.
    Statement {
        /// Its number, e.g. ST-202611-0001.
        number: String,
        /// `csv` or `html`.
        #[arg(long)]
        format: Option<String>,
        /// Write it to this file.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Usage by tenant, plugin, operation and metric.
    Usage {
        /// The period (default: the open one).
        #[arg(long)]
        period: Option<String>,
        /// Operator: one tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Your investments: paid, remaining, this month so far and projected.
    Investments {
        /// Operator: one investor's.
        #[arg(long)]
        investor: Option<String>,
    },
}

/// The platform's currency, to read amounts typed in major units and to
/// show the server's minor units.
struct Amounts(spleis_billing::Currency);

impl Amounts {
    fn of(client: &Client) -> anyhow::Result<Self> {
        let settings = client.send("GET", "/v1/billing/settings", None)?;
        let code = settings["currency"]
            .as_str()
            .context("the server named no currency")?;
        Ok(Self(spleis_billing::Currency::new(code)?))
    }

    /// `12.50` → 1250 (for EUR); more decimals than the currency has is an error.
    fn minor(&self, text: &str) -> anyhow::Result<i64> {
        let exponent = u32::from(self.0.exponent());
        let amount = Decimal::from_str(text.trim())
            .with_context(|| format!("`{text}` is not an amount like 12.50"))?;
        let scaled = amount * Decimal::from(10_i64.pow(exponent));
        if !scaled.fract().is_zero() {
            bail!(
                "`{text}` has more decimals than {} allows ({exponent})",
                self.0
            );
        }
        i64::try_from(scaled).with_context(|| format!("`{text}` is too large"))
    }

    fn show(&self, minor: &Value) -> String {
        spleis_billing::Money::new(minor.as_i64().unwrap_or(0), self.0).to_string()
    }
}

fn query(pairs: &[(&str, &Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Runs a billing command.
pub fn billing(command: BillingCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    match command {
        BillingCommand::Close { period, early } => {
            let answer = client.send(
                "POST",
                "/v1/billing/close",
                Some(json!({"period": period, "early": early})),
            )?;
            let money = Amounts::of(&client)?;
            client.print(&answer, |a| {
                let s = &a["summary"];
                let state = if a["closed_now"] == true {
                    "closed"
                } else {
                    "was already closed"
                };
                format!(
                    "{} {state}: {} usage records, {} invoices, {} statements, {} ledger transactions\n  charged {}\n  platform {}\n  authors {}\n  investors {}",
                    str_of(&s["period"]),
                    s["records"],
                    s["invoices"],
                    s["statements"],
                    s["transactions"],
                    money.show(&s["charged"]),
                    money.show(&s["platform"]),
                    money.show(&s["authors"]),
                    money.show(&s["investors"]),
                )
            })?;
        }
        BillingCommand::Periods => {
            let answer = client.send("GET", "/v1/billing/periods", None)?;
            client.print(&answer, |a| {
                let mut out = format!("open: {}", str_of(&a["open"]));
                for s in a["closed"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "\nclosed: {} by {} ({} invoices)",
                        str_of(&s["period"]),
                        str_of(&s["closed_by"]),
                        s["invoices"]
                    ));
                }
                out
            })?;
        }
        BillingCommand::Ledger { period } => {
            let answer = client.send(
                "GET",
                &format!("/v1/billing/ledger{}", query(&[("period", &period)])),
                None,
            )?;
            let money = Amounts::of(&client)?;
            client.print(&answer, |a| {
                let mut out: Vec<String> = a["balances"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| {
                        let account = &b["account"];
                        format!(
                            "{:<20} {:<16} {:>16}",
                            str_of(&account["kind"]),
                            str_of(&account["id"]),
                            money.show(&b["balance"])
                        )
                    })
                    .collect();
                out.push(format!("sum (always zero): {}", money.show(&a["sum"])));
                out.join("\n")
            })?;
        }
        BillingCommand::Settings {
            currency,
            platform_fee_bps,
        } => {
            let answer = if currency.is_none() && platform_fee_bps.is_none() {
                client.send("GET", "/v1/billing/settings", None)?
            } else {
                client.send(
                    "PUT",
                    "/v1/billing/settings",
                    Some(json!({"currency": currency, "platform_fee_bps": platform_fee_bps})),
                )?
            };
            client.print(&answer, |a| {
                format!(
                    "currency {}, default platform fee {} bps, last closed {}",
                    str_of(&a["currency"]),
                    a["platform_fee_bps"],
                    a["last_closed"].as_str().unwrap_or("none")
                )
            })?;
        }
        BillingCommand::Plan { package, set } => {
            let path = format!("/v1/packages/{package}/plan");
            let answer = match set {
                Some(plan) => client.send("PUT", &path, Some(read_json(&plan)?))?,
                None => client.send("GET", &path, None)?,
            };
            client.print(&answer, |a| match a.get("plans") {
                Some(plans) => plans
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        format!(
                            "plan {} from {}: {}",
                            p["seq"],
                            str_of(&p["effective_from"]),
                            p["plan"]
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                None => format!(
                    "{} plan {} applies from {}",
                    str_of(&a["package"]),
                    a["seq"],
                    str_of(&a["effective_from"])
                ),
            })?;
        }
        BillingCommand::Agreement {
            package,
            author,
            platform_fee_bps,
            investor_share_bps,
            after_payback,
        } => {
            let path = format!("/v1/packages/{package}/agreement");
            let change = author.is_some()
                || platform_fee_bps.is_some()
                || investor_share_bps.is_some()
                || after_payback.is_some();
            let answer = if change {
                client.send(
                    "PUT",
                    &path,
                    Some(json!({
                        "author": author,
                        "platform_fee_bps": platform_fee_bps,
                        "investor_share_bps": investor_share_bps,
                        "after_payback": after_payback,
                    })),
                )?
            } else {
                client.send("GET", &path, None)?
            };
            client.print(&answer, |a| {
                format!(
                    "{}: author {}, platform fee {} bps, investors {} bps, after payback {}",
                    str_of(&a["package"]),
                    str_of(&a["author"]),
                    a["platform_fee_bps"],
                    a["investor_share_bps"],
                    str_of(&a["after_payback"])
                )
            })?;
        }
        BillingCommand::Invest {
            package,
            investor,
            principal,
            return_bps,
        } => {
            let money = Amounts::of(&client)?;
            let answer = client.send(
                "POST",
                "/v1/investments",
                Some(json!({
                    "package": package,
                    "investor": investor,
                    "principal_minor": money.minor(&principal)?,
                    "return_bps": return_bps,
                })),
            )?;
            client.print(&answer, |a| {
                format!(
                    "investment {} by {} in {}: {}, paid back up to {}",
                    str_of(&a["id"]),
                    str_of(&a["investor"]),
                    str_of(&a["package"]),
                    money.show(&a["principal"]),
                    money.show(&a["cap"])
                )
            })?;
        }
        BillingCommand::Campaign(command) => campaign(&client, command)?,
        BillingCommand::Minimum { tenant, amount } => {
            let money = Amounts::of(&client)?;
            let answer = client.send(
                "PUT",
                &format!("/v1/tenants/{tenant}/minimum"),
                Some(json!({"minimum_minor": money.minor(&amount)?})),
            )?;
            client.print(&answer, |a| {
                format!(
                    "{} commits to at least {} a month",
                    str_of(&a["tenant"]),
                    money.show(&a["minimum_minor"])
                )
            })?;
        }
        BillingCommand::Discount {
            tenant,
            reason,
            percent,
            fixed,
            from,
            to,
        } => {
            let money = Amounts::of(&client)?;
            let mut body = json!({"reason": reason, "from": from, "to": to});
            match (percent, fixed) {
                (Some(p), None) => {
                    let bps = Decimal::from_str(&p)
                        .ok()
                        .map(|p| p * Decimal::from(100))
                        .filter(|b| b.fract().is_zero())
                        .and_then(|b| u32::try_from(b).ok())
                        .with_context(|| format!("`{p}` is not a percentage like 15 or 12.5"))?;
                    body["percent_bps"] = json!(bps);
                }
                (None, Some(f)) => body["fixed_minor"] = json!(money.minor(&f)?),
                _ => bail!("give --percent or --fixed"),
            }
            let answer = client.send(
                "POST",
                &format!("/v1/tenants/{tenant}/discounts"),
                Some(body),
            )?;
            client.print(&answer, |a| {
                format!(
                    "discount {} for {} from {} to {}",
                    str_of(&a["id"]),
                    str_of(&a["tenant"]),
                    str_of(&a["discount"]["from"]),
                    str_of(&a["discount"]["to"])
                )
            })?;
        }
        BillingCommand::Credit { tenant, amount } => {
            let money = Amounts::of(&client)?;
            let answer = client.send(
                "POST",
                &format!("/v1/tenants/{tenant}/credit"),
                Some(json!({"amount_minor": money.minor(&amount)?})),
            )?;
            client.print(&answer, |a| {
                format!(
                    "{} has {} of prepaid credit",
                    str_of(&a["tenant"]),
                    money.show(&a["credit_minor"])
                )
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn campaign(client: &Client, command: CampaignCommand) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let describe = |c: &Value| {
        format!(
            "{} {} for {}: {} of {} pledged by {} tenants, {}",
            str_of(&c["id"]),
            str_of(&c["title"]),
            str_of(&c["package"]),
            money.show(&c["pledged"]),
            money.show(&c["goal"]),
            c["pledges"].as_array().map_or(0, Vec::len),
            str_of(&c["status"])
        )
    };
    let answer = match command {
        CampaignCommand::Create {
            package,
            title,
            goal,
            seconds,
            return_bps,
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            client.send(
                "POST",
                "/v1/campaigns",
                Some(json!({
                    "package": package,
                    "title": title,
                    "goal_minor": money.minor(&goal)?,
                    "deadline_ms": now + (seconds as i64).saturating_mul(1000),
                    "return_bps": return_bps,
                })),
            )?
        }
        CampaignCommand::List => {
            let answer = client.send("GET", "/v1/campaigns", None)?;
            return client.print(&answer, |a| {
                lines(&a["campaigns"], "no campaigns", describe)
            });
        }
        CampaignCommand::Pledge { id, amount } => client.send(
            "POST",
            &format!("/v1/campaigns/{id}/pledges"),
            Some(json!({"amount_minor": money.minor(&amount)?})),
        )?,
        CampaignCommand::Close { id } => {
            client.send("POST", &format!("/v1/campaigns/{id}/close"), None)?
        }
    };
    client.print(&answer, describe)
}

/// Runs a report command.
pub fn report(command: ReportCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    let money = Amounts::of(&client)?;
    match command {
        ReportCommand::Invoices { period, tenant } => {
            let answer = client.send(
                "GET",
                &format!(
                    "/v1/invoices{}",
                    query(&[("period", &period), ("tenant", &tenant)])
                ),
                None,
            )?;
            client.print(&answer, |a| {
                lines(&a["invoices"], "no invoices", |i| {
                    format!(
                        "{:<18} {} {:<16} total {:>14}  due {:>14}",
                        str_of(&i["number"]),
                        str_of(&i["period"]),
                        str_of(&i["tenant"]),
                        money.show(&i["total"]),
                        money.show(&i["amount_due"])
                    )
                })
            })?;
        }
        ReportCommand::Invoice {
            number,
            format,
            output,
        } => document(&client, "invoices", &number, format, output, |doc| {
            invoice_text(doc, &money)
        })?,
        ReportCommand::Statements { period, party } => {
            let answer = client.send(
                "GET",
                &format!(
                    "/v1/statements{}",
                    query(&[("period", &period), ("party", &party)])
                ),
                None,
            )?;
            client.print(&answer, |a| {
                lines(&a["statements"], "no statements", |s| {
                    format!(
                        "{:<17} {} {:<9} {:<16} {:>14}",
                        str_of(&s["number"]),
                        str_of(&s["period"]),
                        str_of(&s["kind"]),
                        str_of(&s["party"]),
                        money.show(&s["total"])
                    )
                })
            })?;
        }
        ReportCommand::Statement {
            number,
            format,
            output,
        } => document(&client, "statements", &number, format, output, |doc| {
            let mut out = format!(
                "Statement {} · {} · {} {}\n",
                str_of(&doc["number"]),
                str_of(&doc["period"]),
                str_of(&doc["kind"]),
                str_of(&doc["party"])
            );
            for l in doc["lines"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "  {:<60} {:>14}\n",
                    str_of(&l["description"]),
                    money.show(&l["amount"])
                ));
            }
            out.push_str(&format!(
                "  {:<60} {:>14}",
                "total",
                money.show(&doc["total"])
            ));
            out
        })?,
        ReportCommand::Usage { period, tenant } => {
            let answer = client.send(
                "GET",
                &format!(
                    "/v1/reports/usage{}",
                    query(&[("period", &period), ("tenant", &tenant)])
                ),
                None,
            )?;
            client.print(&answer, |a| {
                let mut rows = vec![format!("usage in {}", str_of(&a["period"]))];
                for c in a["calls"].as_array().into_iter().flatten() {
                    rows.push(format!(
                        "  {:<14} {:<26} {:<16} {:<14} {:<8} calls={} fuel={}",
                        str_of(&c["tenant"]),
                        str_of(&c["plugin"]),
                        str_of(&c["operation"]),
                        str_of(&c["outcome"]),
                        str_of(&c["version"]),
                        c["calls"],
                        c["fuel"]
                    ));
                }
                for m in a["metrics"].as_array().into_iter().flatten() {
                    rows.push(format!(
                        "  {:<14} {:<26} metric {:<20} units={}{}",
                        str_of(&m["tenant"]),
                        str_of(&m["plugin"]),
                        str_of(&m["metric"]),
                        m["units"],
                        if m["unique"] == true {
                            " (distinct)"
                        } else {
                            ""
                        }
                    ));
                }
                rows.join("\n")
            })?;
        }
        ReportCommand::Investments { investor } => {
            let answer = client.send(
                "GET",
                &format!("/v1/investments{}", query(&[("investor", &investor)])),
                None,
            )?;
            client.print(&answer, |a| {
                lines(&a["investments"], "no investments", |i| {
                        format!(
                            "{} in {} by {}\n  invested {}, paid back in all {}\n  paid so far {}, remaining {}\n  {} so far: plugin revenue {} (projected {}), projected payout {}",
                            str_of(&i["id"]),
                            str_of(&i["package"]),
                            str_of(&i["investor"]),
                            money.show(&i["principal"]),
                            money.show(&i["cap"]),
                            money.show(&i["paid"]),
                            money.show(&i["remaining"]),
                            str_of(&i["period"]),
                            money.show(&i["revenue_so_far"]),
                            money.show(&i["projected_revenue"]),
                            money.show(&i["projected_payout"])
                        )
                    })
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One invoice or statement: as the server renders it (`csv`, `html`), as
/// JSON with `--json`, else as `text` makes it; to `output` or stdout.
fn document(
    client: &Client,
    collection: &str,
    number: &str,
    format: Option<String>,
    output: Option<PathBuf>,
    text: impl FnOnce(&Value) -> String,
) -> anyhow::Result<()> {
    let path = format!("/v1/{collection}/{number}");
    let rendered = match format {
        Some(format) => client.send_text("GET", &format!("{path}?format={format}"), None)?,
        None => {
            let doc = client.send("GET", &path, None)?;
            let text = if client.json() {
                serde_json::to_string_pretty(&doc)?
            } else {
                text(&doc)
            };
            format!("{text}\n")
        }
    };
    match output {
        Some(path) => {
            std::fs::write(&path, rendered)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{rendered}"),
    }
    Ok(())
}

fn invoice_text(doc: &Value, money: &Amounts) -> String {
    let mut out = format!(
        "Invoice {} · {} · {}\n",
        str_of(&doc["number"]),
        str_of(&doc["period"]),
        str_of(&doc["tenant"])
    );
    for l in doc["lines"].as_array().into_iter().flatten() {
        let what = match l["plugin"].as_str() {
            Some(p) => format!("{p}: {}", str_of(&l["description"])),
            None => str_of(&l["description"]).to_owned(),
        };
        let quantity = l["quantity"].as_str().unwrap_or("");
        let price = l["unit_price"]
            .as_str()
            .map(|p| format!(" × {p}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<56} {:>12}{:<10} {:>14}\n",
            what,
            quantity,
            price,
            money.show(&l["amount"]["minor"])
        ));
    }
    let credit = -doc["credit_used"].as_i64().unwrap_or(0);
    for (label, amount) in [
        ("subtotal (usage)", doc["subtotal"].clone()),
        ("total", doc["total"].clone()),
        ("prepaid credit applied", json!(credit)),
        ("amount due", doc["amount_due"].clone()),
    ] {
        out.push_str(&format!("  {:<79} {:>14}\n", label, money.show(&amount)));
    }
    out.trim_end().to_owned()
}
