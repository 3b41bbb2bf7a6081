//! `billing campaign …`: co-funding campaigns.

use super::CampaignCommand;
use super::amounts::Amounts;
use crate::client::Client;
use crate::client::list;
use anyhow::Context;
use spleis_server::types::billing::CampaignRecord;
use spleis_server::types::billing::{Campaigns, NewCampaign, NewPledge};

/// Runs a campaign command.
pub(super) fn campaign(client: &Client, command: CampaignCommand) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let describe = |c: &CampaignRecord| {
        format!(
            "{} {} for {}: {} of {} pledged by {} tenants, {}",
            c.id,
            c.title,
            c.funds(),
            money.show(c.pledged),
            money.show(c.goal),
            c.pledges.len(),
            c.status
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
            let body = NewCampaign {
                package,
                title,
                goal_minor: money.minor(&goal)?,
                deadline_ms: deadline(seconds)?,
                return_bps,
            };
            client.send::<CampaignRecord>("POST", "/v1/campaigns", &body)?
        }
        CampaignCommand::List => {
            let answer = client.get::<Campaigns>("/v1/campaigns")?;
            return answer.print(client, |a| list(&a.campaigns, "no campaigns", describe));
        }
        CampaignCommand::Pledge { id, amount } => {
            let body = NewPledge {
                amount_minor: money.minor(&amount)?,
            };
            let path = format!("/v1/campaigns/{id}/pledges");
            client.send::<CampaignRecord>("POST", &path, &body)?
        }
        CampaignCommand::Close { id } => client.request::<CampaignRecord>(
            "POST",
            &format!("/v1/campaigns/{id}/close"),
            None::<&()>,
        )?,
    };
    answer.print(client, describe)
}

/// Unix milliseconds `seconds` from now.
pub(crate) fn deadline(seconds: u64) -> anyhow::Result<i64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let at = now.saturating_add(std::time::Duration::from_secs(seconds));
    i64::try_from(at.as_millis()).with_context(|| format!("--seconds {seconds} is too far ahead"))
}
