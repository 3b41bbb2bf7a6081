//! `spleis billing …` (the operator's and authors' money commands) and
//! `spleis report …` (invoices, statements, usage, investments), as
//! clients of a server, one module per aggregate as in the platform.
//! Amounts are typed in major units (`12.50`) and sent in minor units of
//! the platform's currency; answers are decoded into the HTTP contract's
//! types ([`crate::client::Client::get`]).

pub(crate) mod amounts;
mod campaigns;
pub(crate) use campaigns::deadline;
mod documents;
mod investments;
mod plans;
mod settings;
mod terms;
mod usage;

use super::client::{Client, Connection};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Void a tenant's use of a plugin for a period not yet closed: the
    /// close does not rate it and records the reason in the ledger.
    Void {
        /// The period, `YYYY-MM`.
        period: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The plugin, `namespace/name`.
        #[arg(long)]
        plugin: String,
        /// Why, for the ledger.
        #[arg(long)]
        reason: String,
    },
    /// Withdraw a void of a period not yet closed.
    Unvoid {
        /// The period, `YYYY-MM`.
        period: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The plugin, `namespace/name`.
        #[arg(long)]
        plugin: String,
    },
    /// The lines voided for a period.
    Voids {
        /// The period, `YYYY-MM`.
        period: String,
    },
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
        /// Operator: put the plan in force from this period, one not closed
        /// yet (resolves a close the current plan cannot rate).
        #[arg(long, requires = "set")]
        from: Option<String>,
    },
    /// Show or change a plugin's revenue agreement (operator).
    Agreement(plans::AgreementArgs),
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
    /// Set a tenant's standing money minimum from the open period on
    /// (operator); `commitment` schedules minimums over periods and in units.
    Minimum {
        /// The tenant.
        tenant: String,
        /// The amount, major units (0 removes it).
        #[arg(long)]
        amount: String,
    },
    /// A tenant's minimum commitments over ranges of periods, in money or
    /// in units of a plugin's metric.
    #[command(subcommand)]
    Commitment(terms::CommitmentCommand),
    /// Give a tenant a discount over a range of periods (operator).
    Discount(terms::DiscountArgs),
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

/// Runs a billing command.
pub fn billing(command: BillingCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    match command {
        BillingCommand::Close { period, early } => settings::close(&client, period, early)?,
        BillingCommand::Periods => settings::periods(&client)?,
        BillingCommand::Void {
            period,
            tenant,
            plugin,
            reason,
        } => settings::void(&client, &period, tenant, plugin, reason)?,
        BillingCommand::Unvoid {
            period,
            tenant,
            plugin,
        } => settings::unvoid(&client, &period, &tenant, &plugin)?,
        BillingCommand::Voids { period } => settings::voids(&client, &period)?,
        BillingCommand::Ledger { period } => settings::ledger(&client, period)?,
        BillingCommand::Settings {
            currency,
            platform_fee_bps,
        } => settings::settings(&client, currency, platform_fee_bps)?,
        BillingCommand::Plan { package, set, from } => {
            plans::plan(&client, &package, set, from.as_deref())?
        }
        BillingCommand::Agreement(args) => plans::agreement(&client, args)?,
        BillingCommand::Invest {
            package,
            investor,
            principal,
            return_bps,
        } => investments::invest(&client, package, investor, &principal, return_bps)?,
        BillingCommand::Campaign(command) => campaigns::campaign(&client, command)?,
        BillingCommand::Minimum { tenant, amount } => terms::minimum(&client, &tenant, &amount)?,
        BillingCommand::Commitment(command) => terms::commitment(&client, command)?,
        BillingCommand::Discount(args) => terms::discount(&client, args)?,
        BillingCommand::Credit { tenant, amount } => terms::credit(&client, &tenant, &amount)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a report command.
pub fn report(command: ReportCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    let money = amounts::Amounts::of(&client)?;
    match command {
        ReportCommand::Invoices { period, tenant } => {
            documents::invoices(&client, &money, &period, &tenant)?
        }
        ReportCommand::Invoice {
            number,
            format,
            output,
        } => documents::invoice(&client, &money, &number, format, output)?,
        ReportCommand::Statements { period, party } => {
            documents::statements(&client, &money, &period, &party)?
        }
        ReportCommand::Statement {
            number,
            format,
            output,
        } => documents::statement(&client, &money, &number, format, output)?,
        ReportCommand::Usage { period, tenant } => usage::report(&client, &period, &tenant)?,
        ReportCommand::Investments { investor } => investments::report(&client, &money, &investor)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `?k=v&…` of the pairs given, or nothing.
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

/// The name a unit enum has on the wire (`to-platform`, `investor`): the
/// text people already see in the server's JSON.
fn wire_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        // Unit enums always serialize; nothing to name otherwise.
        Err(_) => String::new(),
    }
}
