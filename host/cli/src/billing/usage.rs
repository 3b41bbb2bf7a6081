//! `report usage`: usage by tenant, plugin, operation and metric.

use super::query;
use crate::client::Client;
use spleis_server::types::billing::UsageReport;

/// A period's usage (default: the open one), as the server scopes it.
pub(super) fn report(
    client: &Client,
    period: &Option<String>,
    tenant: &Option<String>,
) -> anyhow::Result<()> {
    let path = format!(
        "/v1/reports/usage{}",
        query(&[("period", period), ("tenant", tenant)])
    );
    let answer = client.get::<UsageReport>(&path)?;
    answer.print(client, |report| {
        let mut rows = vec![format!("usage in {}", report.period)];
        for c in &report.calls {
            rows.push(format!(
                "  {:<14} {:<26} {:<16} {:<14} {:<8} calls={} fuel={}",
                c.tenant, c.plugin, c.operation, c.outcome, c.version, c.calls, c.fuel
            ));
        }
        for m in &report.metrics {
            let distinct = if m.unique { " (distinct)" } else { "" };
            rows.push(format!(
                "  {:<14} {:<26} metric {:<20} units={}{distinct}",
                m.tenant, m.plugin, m.metric, m.units
            ));
        }
        rows.join("\n")
    })
}
